/**
 * Scheduling deletion: of one named key (`thalassa-byok delete`), of a construct's predecessors after its
 * new key was imported, and of the keys of constructs removed from the code or of a destroyed stack
 * (`thalassa-byok sweep`). Every path touches only keys that carry this state's owner id and a fingerprint
 * this tool recorded (invariant 6 in shared/design/architecture.md).
 */
import { CONSTRUCT_LABEL, FINGERPRINT_ANNOTATION, OWNER_LABEL } from '../protocol';
import type { KmsClient } from './client';
import { ApiError } from './errors';
import { assertOwned, findOnlyKey, missingProof, type KeyOwnership } from './key-lifecycle';
import type { KmsKey } from './types';

export type DeleteOutcome =
  | { readonly action: 'scheduled'; readonly key: KmsKey }
  | { readonly action: 'already-pending'; readonly key: KmsKey }
  | { readonly action: 'absent' };

/** Schedules deletion of the named key only when it carries `fingerprint` (and the ownership, if given). */
export async function deleteKey(
  client: KmsClient, input: KeyOwnership & { region: string; name: string; fingerprint: string },
): Promise<DeleteOutcome> {
  const key = await findOnlyKey(client, input.region, input.name);
  if (!key) return { action: 'absent' };
  assertOwned(key, input, input.region, 'delete');
  return scheduleDeletion(client, input.region, key);
}

/** A key a sweep scheduled for deletion, or found already pending. */
export interface SweptKey {
  readonly region: string;
  readonly key: KmsKey;
  readonly action: 'scheduled' | 'already-pending';
}

export interface SweepInput {
  /** This state's owner id: only keys labelled with it are touched. */
  readonly owner: string;
  /** The constructs whose keys are swept. */
  readonly constructs: readonly string[];
  /** The regions to look in. */
  readonly regions: readonly string[];
  /** Their keys, listed already ({@link listOwnedKeys}); listed here when absent. */
  readonly listed?: readonly OwnedKeys[];
  /** Keys never touched: the one just imported, and every key the code still declares (`region\0name`). */
  readonly keep?: { readonly identities?: ReadonlySet<string>; readonly names?: ReadonlySet<string> };
  /**
   * The declared keys' fingerprints, each with its commitment for a symmetric key. A key carrying one of
   * these fingerprints is swept only with the proof that it holds that material: anyone who can read the
   * plan can copy a fingerprint (and an explicit owner id from the code) onto a key of their own.
   */
  readonly proofs?: ReadonlyMap<string, string | undefined>;
}

/** One region's keys labelled with an owner id, as the server listed them. */
export interface OwnedKeys {
  readonly region: string;
  readonly keys: readonly KmsKey[];
}

/**
 * The keys labelled with `owner` in each region, listed concurrently (one request per region). A caller may
 * list before it acts (an import lists while it checks the wrapping key) and hand the result to
 * {@link sweepKeys}: the key it imports is kept by identity, and a key that changed state since is handled
 * when its deletion is scheduled.
 */
export function listOwnedKeys(client: KmsClient, owner: string, regions: readonly string[]): Promise<OwnedKeys[]> {
  return Promise.all([...new Set(regions)].map(async (region) => ({ region, keys: await client.listKeys(region, { labels: { [OWNER_LABEL]: owner } }) })));
}

/**
 * Schedules deletion of every key of the given constructs that this state owns, in the given regions, except
 * those in `keep`. Lists by label on the server (unless the input carries the listing) and checks
 * every label again here, since a server may ignore a filter it does not know. Keys already pending
 * deletion are left as they are.
 */
export async function sweepKeys(client: KmsClient, input: SweepInput, progress: (line: string) => void = () => undefined): Promise<SweptKey[]> {
  const constructs = new Set(input.constructs);
  const swept: SweptKey[] = [];
  if (constructs.size === 0) return swept;
  for (const { region, keys } of input.listed ?? await listOwnedKeys(client, input.owner, input.regions)) {
    for (const key of keys) {
      const construct = key.labels?.[CONSTRUCT_LABEL];
      if (key.labels?.[OWNER_LABEL] !== input.owner || construct === undefined || !constructs.has(construct)) continue;
      if (key.annotations?.[FINGERPRINT_ANNOTATION] === undefined) continue;
      if (input.keep?.identities?.has(key.identity) || input.keep?.names?.has(`${region}\u0000${key.name}`)) continue;
      if (key.status === 'pending_deletion') continue;
      const fingerprint = key.annotations[FINGERPRINT_ANNOTATION];
      if (input.proofs?.has(fingerprint)) {
        const why = await missingProof(client, region, key, fingerprint, input.proofs.get(fingerprint));
        if (why !== undefined) {
          progress(`Not touching key ${key.name} (${key.identity}) in ${region}: it carries a declared key's fingerprint, but ${why}.`);
          continue;
        }
      }
      const outcome = await scheduleDeletion(client, region, key);
      if (outcome.action === 'absent') continue;
      progress(`Scheduled deletion of key ${key.name} (${key.identity}) in ${region}: pending for 30 days; restore with "thalassa-byok cancel-deletion --region ${region} --name ${key.name}".`);
      swept.push({ region, key, action: outcome.action });
    }
  }
  return swept;
}

/** The regions a sweep looks in: every region with KMS, and the given ones. */
export async function sweepRegions(client: KmsClient, known: readonly string[]): Promise<string[]> {
  const summary = await client.summary();
  const live = (summary.regions ?? []).filter((r) => r.kmsAvailable && typeof r.slug === 'string').map((r) => r.slug);
  return [...new Set([...known, ...live])];
}

async function scheduleDeletion(client: KmsClient, region: string, key: KmsKey): Promise<DeleteOutcome> {
  if (key.status === 'pending_deletion') return { action: 'already-pending', key };
  try {
    await client.deleteKey(region, key.identity);
  } catch (err) {
    // A retried DELETE whose first attempt went through finds the key pending (400) or gone (404).
    if (!(err instanceof ApiError) || (err.status !== 400 && err.status !== 404)) throw err;
    const now = await client.listKeys(region, { identity: key.identity }).then((keys) => keys.find((k) => k.identity === key.identity));
    if (!now) return { action: 'absent' };
    if (now.status !== 'pending_deletion') throw err;
  }
  return { action: 'scheduled', key };
}
