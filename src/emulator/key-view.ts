/** The API's view of a stored key, as the KMS answers it: never any material. */
import type { KeyStatus, StoredKey, StoredKeyVersion } from './store';

/** The API's view of a key (`KmsKey`), as the official client's table has it: never any material. */
export interface KmsKeyView {
  identity: string; name: string; slug: string; description?: string;
  labels?: Record<string, string>; annotations?: Record<string, string>; projectId?: string;
  keyType: string; status: KeyStatus; exportAllowed: boolean; imported?: true;
  keyRotationEnabled: boolean; rotationPeriodInDays?: number; latestVersion: number;
  versions: Omit<StoredKeyVersion, 'material'>[];
  createdAt: string; updatedAt: string; objectVersion: number;
  organisation: { identity: string; name: string; slug: string; createdAt: string };
  /** While `pending_deletion`: when the key will be deleted. */
  deletionScheduledAt?: string;
}

/** `key` as the API shows it, without members that are unset. */
export function toView(key: StoredKey): KmsKeyView {
  const nonEmpty = (map: Record<string, string>): Record<string, string> | undefined => (Object.keys(map).length > 0 ? { ...map } : undefined);
  const view: KmsKeyView = {
    identity: key.identity, name: key.name, slug: key.slug,
    description: key.description === '' ? undefined : key.description,
    labels: nonEmpty(key.labels), annotations: nonEmpty(key.annotations),
    projectId: key.projectId ?? undefined,
    keyType: key.keyType, status: key.status,
    exportAllowed: key.exportAllowed, imported: key.imported ? true : undefined,
    keyRotationEnabled: key.keyRotationEnabled, rotationPeriodInDays: key.rotationPeriodInDays ?? undefined,
    latestVersion: key.latestVersion,
    versions: key.versions.map((v) => ({ version: v.version, status: v.status, createdAt: v.createdAt })),
    createdAt: key.createdAt, updatedAt: key.updatedAt, objectVersion: key.objectVersion,
    // The emulator knows organisations only by identity; it stands in for the name and slug too.
    organisation: { identity: key.organisation, name: key.organisation, slug: key.organisation, createdAt: key.createdAt },
    deletionScheduledAt: key.deleteAfter ?? undefined,
  };
  // JSON.stringify drops undefined members; dropping them here too keeps in-process callers honest.
  for (const field of Object.keys(view) as (keyof KmsKeyView)[]) if (view[field] === undefined) delete view[field];
  return view;
}
