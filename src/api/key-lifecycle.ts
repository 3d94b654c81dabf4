/**
 * The apply-time workflows behind `thalassa-byok import`, `delete` and `set-rotation`, written so that a
 * retried, interrupted or repeated run converges on exactly one key and never touches a key that another
 * material (or another tool) owns. Ownership is the fingerprint recorded in the key's annotations.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ByokError } from '../errors';
// From its own module, not the material index: one constant, without loading the parsers (CLI start-up).
import { FINGERPRINT_ANNOTATION } from '../material/fingerprint';
import type { KmsClient } from './client';
import { ApiError } from './errors';
import type { CreateKmsKeyRequest, KmsKey, RotationSettings } from './types';

/** A key exists under the name but belongs to other material, or to nothing we recorded. Nothing was changed. */
export class KeyOwnershipError extends ByokError {
  /** The CLI's exit code for "refused for safety". */
  public readonly exitCode = 3;

  constructor(message: string, public readonly key: KmsKey) {
    super('KEY_OWNERSHIP', message);
  }
}

export interface ImportKeyInput {
  readonly region: string;
  readonly name: string;
  readonly keyType: string;
  /** The wrapped blob, base64. Sent in the create call and nowhere else. */
  readonly importKeyMaterial: string;
  readonly fingerprint: string;
  readonly hashFunction?: string;
  readonly allowRotation?: boolean;
  readonly description?: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
  readonly exportAllowed?: boolean;
}

export type ImportOutcome =
  | { readonly action: 'created'; readonly key: KmsKey }
  | { readonly action: 'adopted'; readonly key: KmsKey; readonly restored: boolean };

export interface WorkflowOptions {
  /** Progress lines for a human; never material, blobs or tokens. */
  readonly progress?: (line: string) => void;
  /** How many times a create whose outcome was unknown is looked up and tried again. @default 5 */
  readonly maxCreateAttempts?: number;
}

/**
 * Imports the key, or adopts the key that already carries this name and fingerprint (a previous run that
 * succeeded, or whose answer was lost). A key pending deletion with our fingerprint is restored: the user
 * declared it again, and its name stays taken for 30 days otherwise.
 */
export async function importKey(client: KmsClient, input: ImportKeyInput, options: WorkflowOptions = {}): Promise<ImportOutcome> {
  const progress = options.progress ?? (() => undefined);
  const existing = await client.findKeyByName(input.region, input.name);
  if (existing) return adopt(client, existing, input, progress);

  const request: CreateKmsKeyRequest = {
    name: input.name,
    keyType: input.keyType,
    description: input.description,
    labels: input.labels,
    annotations: { ...input.annotations, [FINGERPRINT_ANNOTATION]: input.fingerprint },
    exportAllowed: input.exportAllowed ?? false,
    allowRotation: input.allowRotation ?? false,
    hashFunction: input.hashFunction ?? 'sha256',
    importKeyMaterial: input.importKeyMaterial,
  };
  const attempts = Math.max(1, options.maxCreateAttempts ?? 5);
  for (let attempt = 1; ; attempt++) {
    try {
      const key = await client.createKey(input.region, request);
      return { action: 'created', key };
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      const lost = err.code === 'API_CONFLICT' || err.outcomeUnknown;
      if (!lost) throw err;
      // The key may exist now: created by this call before its answer was lost, or by a concurrent run.
      progress(err.code === 'API_CONFLICT'
        ? `The name ${input.name} is taken; checking whether the key is ours.`
        : `The create call's outcome is unknown (${err.code}${err.status ? ` ${err.status}` : ''}); looking the key up before deciding.`);
      const found = await client.findKeyByName(input.region, input.name);
      if (found) return adopt(client, found, input, progress);
      if (err.code === 'API_CONFLICT' || attempt >= attempts) throw err;
      await sleep(Math.round(Math.random() * Math.min(5000, 250 * 2 ** attempt)));
      progress(`The key was not created; trying again (attempt ${attempt + 1} of ${attempts}).`);
    }
  }
}

async function adopt(client: KmsClient, key: KmsKey, input: ImportKeyInput, progress: (line: string) => void): Promise<ImportOutcome> {
  assertOwned(key, input.fingerprint, input.region, 'adopt');
  // Same material is not enough: a key's settings are fixed at import, so adopting one imported with other
  // settings (say allowRotation false, when true is declared) would silently leave the declared ones unapplied.
  // This happens when a pinned physicalName is reused by a replacement.
  const differences = settingDifferences(key, input);
  if (differences.length > 0) {
    throw new KeyOwnershipError(
      `Key ${key.name} (${key.identity}) in ${input.region} holds this material but was imported with other settings (${differences.join('; ')}). ` +
        'Those settings cannot change after import. Nothing was changed; give the new key another name (leave physicalName unset to get a fresh one).',
      key,
    );
  }
  if (key.status === 'pending_deletion') {
    progress(`Key ${key.name} (${key.identity}) is ours but scheduled for deletion; cancelling the deletion.`);
    await client.cancelDeletion(input.region, key.identity);
    return { action: 'adopted', key: await client.getKey(input.region, key.identity), restored: true };
  }
  return { action: 'adopted', key, restored: false };
}

/** The immutable settings in which an existing key differs from the declared ones, as `what: have ≠ want`. */
function settingDifferences(key: KmsKey, input: ImportKeyInput): string[] {
  const found: string[] = [];
  const compare = (what: string, have: unknown, want: unknown): void => {
    if (JSON.stringify(have) !== JSON.stringify(want)) found.push(`${what} ${JSON.stringify(have)} ≠ declared ${JSON.stringify(want)}`);
  };
  compare('keyType', key.keyType, input.keyType);
  // Servers may omit a field; only a reported value can differ.
  if (key.allowRotation !== undefined) compare('allowRotation', key.allowRotation, input.allowRotation ?? false);
  if (key.exportAllowed !== undefined) compare('exportAllowed', key.exportAllowed, input.exportAllowed ?? false);
  // The official client omits empty description, labels and annotations, so absent means empty, not unknown.
  compare('description', key.description ?? '', input.description ?? '');
  compare('labels', sorted(key.labels ?? {}), sorted(input.labels ?? {}));
  const { [FINGERPRINT_ANNOTATION]: _recorded, ...annotations } = key.annotations ?? {};
  compare('annotations', sorted(annotations), sorted(input.annotations ?? {}));
  return found;
}

function sorted(map: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(map).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export type DeleteOutcome =
  | { readonly action: 'scheduled'; readonly key: KmsKey }
  | { readonly action: 'already-pending'; readonly key: KmsKey }
  | { readonly action: 'absent' };

/** Schedules deletion of the named key only when it carries `fingerprint`. A key already gone or pending is success. */
export async function deleteKey(client: KmsClient, input: { region: string; name: string; fingerprint: string }): Promise<DeleteOutcome> {
  const key = await client.findKeyByName(input.region, input.name);
  if (!key) return { action: 'absent' };
  assertOwned(key, input.fingerprint, input.region, 'delete');
  if (key.status === 'pending_deletion') return { action: 'already-pending', key };
  try {
    await client.deleteKey(input.region, key.identity);
  } catch (err) {
    // A retried DELETE whose first attempt went through finds the key pending (400) or gone (404).
    const now = err instanceof ApiError && (err.status === 400 || err.status === 404) ? await client.findKeyByName(input.region, input.name) : key;
    if (!now) return { action: 'absent' };
    if (now.status !== 'pending_deletion') throw err;
  }
  return { action: 'scheduled', key };
}

/** Applies rotation settings to the named key, after checking it is ours. */
export async function setRotation(
  client: KmsClient, input: { region: string; name: string; fingerprint: string; settings: RotationSettings },
): Promise<KmsKey> {
  const key = await client.findKeyByName(input.region, input.name);
  if (!key) {
    throw new ApiError('API_NOT_FOUND', `No key named ${input.name} exists in region ${input.region}; import it first (thalassa-byok import).`);
  }
  assertOwned(key, input.fingerprint, input.region, 'change the rotation settings of');
  return client.updateRotation(input.region, key.identity, input.settings);
}

function assertOwned(key: KmsKey, fingerprint: string, region: string, verb: string): void {
  const recorded = key.annotations?.[FINGERPRINT_ANNOTATION];
  if (recorded === fingerprint) return;
  const what = recorded === undefined
    ? `has no ${FINGERPRINT_ANNOTATION} annotation (it was not imported by cdktf-thalassa-byok)`
    : `carries fingerprint ${recorded}, not ${fingerprint}`;
  throw new KeyOwnershipError(
    `Refusing to ${verb} key ${key.name} (${key.identity}) in region ${region}: it ${what}. Nothing was changed. ` +
      'If that key is stale, delete it yourself; otherwise give this key another name.',
    key,
  );
}
