/**
 * The apply-time import workflow behind `thalassa-byok import`, written so that a retried, interrupted or
 * repeated run converges on exactly one key, and never adopts a key that another material, another state or
 * another tool owns. See "Invariants" 4 and 5 in shared/design/architecture.md and docs/lifecycle.md.
 */
import { timingSafeEqual } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ByokError } from '../errors';
// From its own module, not the material index: one function, without loading the parsers (CLI start-up).
import { spkiPemFingerprint } from '../material/fingerprint';
import { COMMITMENT_ANNOTATION, CONSTRUCT_LABEL, FINGERPRINT_ANNOTATION, OWNER_LABEL, RESERVED_PREFIX } from '../protocol';
import type { KmsClient } from './client';
import { ApiError } from './errors';
import type { CreateKmsKeyRequest, KmsKey, RotationSettings } from './types';

/** A key exists under the name but is not provably ours. Nothing was changed. */
export class KeyOwnershipError extends ByokError {
  /** The CLI's exit code for "refused for safety". */
  public readonly exitCode = 3;

  constructor(message: string, public readonly key: KmsKey) {
    super('KEY_OWNERSHIP', message);
  }
}

/** Which state and construct a key belongs to: recorded as labels at import, checked before anything is touched. */
export interface KeyOwnership {
  /** The Terraform state's owner id. */
  readonly owner?: string;
  /** The construct's id within the state. */
  readonly construct?: string;
}

export interface ImportKeyInput extends KeyOwnership {
  readonly region: string;
  readonly name: string;
  readonly keyType: string;
  /** The wrapped blob, base64. Sent in the create call and nowhere else. */
  readonly importKeyMaterial: string;
  readonly fingerprint: string;
  /** A symmetric key's commitment (never in state or argv); without it such a key cannot be adopted. */
  readonly commitment?: string;
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
  /**
   * {@link importKey} only: the lookup of the key's name ({@link findOnlyKey}), started by the caller so that
   * it runs alongside the caller's own requests (the import command checks the wrapping key meanwhile).
   */
  readonly existing?: Promise<KmsKey | undefined>;
}

const KNOWN_STATUSES = new Set(['active', 'disabled', 'pending_deletion']);

/** The clause every refusal of an import ends with: what the user's applications can rely on. */
const UNTOUCHED = 'Nothing was changed: the key this construct used before (if any) is untouched and stays active.';

/**
 * Imports the key, or adopts the key that already carries this name, if it is provably ours (a previous run
 * that succeeded, or whose answer was lost). A key pending deletion that is ours is restored: the user
 * declared it again, and its name stays taken for 30 days otherwise.
 */
export async function importKey(client: KmsClient, input: ImportKeyInput, options: WorkflowOptions = {}): Promise<ImportOutcome> {
  const progress = options.progress ?? (() => undefined);
  const existing = await (options.existing ?? findOnlyKey(client, input.region, input.name));
  if (existing) return adopt(client, existing, input, progress);

  const request: CreateKmsKeyRequest = {
    name: input.name,
    keyType: input.keyType,
    description: input.description,
    labels: { ...input.labels, ...ownershipLabels(input) },
    annotations: {
      ...input.annotations,
      [FINGERPRINT_ANNOTATION]: input.fingerprint,
      ...(input.commitment === undefined ? {} : { [COMMITMENT_ANNOTATION]: input.commitment }),
    },
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
      if (!lost) {
        err.message = `${err.message} ${UNTOUCHED}`;
        throw err;
      }
      // The key may exist now: created by this call before its answer was lost, or by a concurrent run.
      progress(err.code === 'API_CONFLICT'
        ? `The name ${input.name} is taken; checking whether the key is ours.`
        : `The create call's outcome is unknown (${err.code}${err.status ? ` ${err.status}` : ''}); looking the key up before deciding.`);
      const found = await findOnlyKey(client, input.region, input.name);
      if (found) return adopt(client, found, input, progress);
      if (err.code === 'API_CONFLICT' || attempt >= attempts) throw err;
      await sleep(Math.round(Math.random() * Math.min(5000, 250 * 2 ** attempt)));
      progress(`The key was not created; trying again (attempt ${attempt + 1} of ${attempts}).`);
    }
  }
}

/** The labels that tie a key to its state and construct. */
export function ownershipLabels(ownership: KeyOwnership): Record<string, string> {
  return {
    ...(ownership.owner === undefined ? {} : { [OWNER_LABEL]: ownership.owner }),
    ...(ownership.construct === undefined ? {} : { [CONSTRUCT_LABEL]: ownership.construct }),
  };
}

/**
 * The one key named exactly `name`, or undefined. Two keys answering to one name (a server that matches
 * loosely, or one name in two projects) are refused: adopting or deleting the first would be a guess.
 */
export async function findOnlyKey(client: KmsClient, region: string, name: string): Promise<KmsKey | undefined> {
  const keys = (await client.listKeys(region, { name })).filter((key) => key.name === name);
  if (keys.length > 1) {
    throw new KeyOwnershipError(
      `${keys.length} keys answer to the name ${name} in region ${region} (${keys.map((k) => k.identity).join(', ')}); ` +
        `refusing to guess which one is meant. ${UNTOUCHED} Delete or rename the stray key, or give this key another name.`,
      keys[0],
    );
  }
  return keys[0];
}

async function adopt(client: KmsClient, key: KmsKey, input: ImportKeyInput, progress: (line: string) => void): Promise<ImportOutcome> {
  const refuse = (why: string, fix: string): never => {
    throw new KeyOwnershipError(`Refusing to adopt key ${key.name} (${key.identity}) in region ${input.region}: ${why}. ${UNTOUCHED} ${fix}`, key);
  };
  if (!KNOWN_STATUSES.has(key.status)) refuse(`its status ${JSON.stringify(key.status)} is not one this tool knows`, 'Check the key in the Thalassa console.');
  if (key.imported === false) refuse('it was generated by Thalassa Cloud, not imported', 'Give this key another name.');
  assertOwned(key, input, input.region, 'adopt');
  // Same material is not enough: a key's settings are fixed at import, so adopting one imported with other
  // settings would silently leave the declared ones unapplied (a pinned physicalName reused by a replacement).
  const differences = settingDifferences(key, input);
  if (differences.length > 0) {
    refuse(`it holds this material but was imported with other settings (${differences.join('; ')}), which cannot change after import`,
      'Give the new key another name (leave physicalName unset to get a fresh one).');
  }
  if (key.status === 'pending_deletion') {
    // The API shows no public key of a key pending deletion, so an asymmetric key is proven only once it is
    // restored; one that then fails the proof is scheduled for deletion again before the refusal.
    const asymmetric = input.fingerprint.startsWith('spki-sha256:');
    if (!asymmetric) await assertHoldsMaterial(client, key, input, refuse);
    progress(`Key ${key.name} (${key.identity}) carries this state's marks but is scheduled for deletion; cancelling the deletion${asymmetric ? ' to check its public key' : ''}.`);
    await client.cancelDeletion(input.region, key.identity);
    if (asymmetric) {
      const why = await missingProof(client, input.region, key, input.fingerprint, input.commitment);
      if (why !== undefined) {
        await client.deleteKey(input.region, key.identity);
        refuse(`${why} (its deletion, cancelled for the check, is scheduled again)`,
          'Someone else may have created it under this name; investigate, then give this key another name.');
      }
    }
    return { action: 'adopted', key: await client.getKey(input.region, key.identity), restored: true };
  }
  await assertHoldsMaterial(client, key, input, refuse);
  if (key.status === 'disabled') progress(`Key ${key.name} (${key.identity}) is ours but disabled; adopted as it is (enable it to use it).`);
  return { action: 'adopted', key, restored: false };
}

/**
 * Proof that the key was made from this material, beyond annotations anyone could copy: an asymmetric key's
 * public key must have the recorded `spki-sha256:` fingerprint; a symmetric key must carry the commitment
 * that only the material's holder could compute (it is not in the plan or state, unlike the fingerprint).
 * Undefined when proven; otherwise why not.
 */
export async function missingProof(client: KmsClient, region: string, key: KmsKey, fingerprint: string, commitment: string | undefined): Promise<string | undefined> {
  if (fingerprint.startsWith('spki-sha256:')) {
    const pems = await client.publicKeys(region, key.identity);
    const first = Object.keys(pems).sort((a, b) => Number(a) - Number(b))[0];
    const actual = first === undefined ? undefined : spkiPemFingerprint(pems[first]);
    if (actual === fingerprint) return undefined;
    return actual === undefined ? 'the API shows no public key for it' : `its public key has fingerprint ${actual}, not the recorded ${fingerprint}: it holds other material`;
  }
  if (commitment === undefined) return 'there is no commitment to prove the key holds this material (a pre-wrapped symmetric key carries none)';
  const recorded = key.annotations?.[COMMITMENT_ANNOTATION];
  if (recorded !== undefined && sameText(recorded, commitment)) return undefined;
  return 'it does not carry this material\'s commitment, so it may hold other material under a copied fingerprint';
}

async function assertHoldsMaterial(
  client: KmsClient, key: KmsKey, input: ImportKeyInput, refuse: (why: string, fix: string) => never,
): Promise<void> {
  const why = await missingProof(client, input.region, key, input.fingerprint, input.commitment);
  if (why === undefined) return;
  refuse(why, input.commitment === undefined && !input.fingerprint.startsWith('spki-sha256:')
    ? 'If the key is yours, record it in the state by hand or delete it; otherwise give this key another name.'
    : 'Someone else may have created it under this name; investigate, then delete it yourself or give this key another name.');
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
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
  // The reserved entries are checked on their own (ownership, fingerprint, commitment).
  compare('labels', userEntries(key.labels), userEntries(input.labels));
  compare('annotations', userEntries(key.annotations), userEntries(input.annotations));
  return found;
}

export function userEntries(map: Readonly<Record<string, string>> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(map ?? {}).filter(([k]) => !k.startsWith(RESERVED_PREFIX)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * Throws unless the key carries `fingerprint` and the given ownership (an owner id or construct that is
 * absent on one side and present on the other is a mismatch too).
 */
export function assertOwned(key: KmsKey, expected: KeyOwnership & { fingerprint: string }, region: string, verb: string): void {
  const problems: string[] = [];
  const recorded = key.annotations?.[FINGERPRINT_ANNOTATION];
  if (recorded !== expected.fingerprint) {
    problems.push(recorded === undefined
      ? `it has no ${FINGERPRINT_ANNOTATION} annotation (it was not imported by cdktf-thalassa-byok)`
      : `it carries fingerprint ${recorded}, not ${expected.fingerprint}`);
  }
  const owner = key.labels?.[OWNER_LABEL];
  if (owner !== expected.owner) {
    problems.push(owner === undefined
      ? `it carries no owner id (${OWNER_LABEL}), so no Terraform state can prove it owns it`
      : expected.owner === undefined ? `it belongs to the Terraform state with owner id ${owner}` : `it belongs to another Terraform state (owner id ${owner}, this state's is ${expected.owner})`);
  }
  const construct = key.labels?.[CONSTRUCT_LABEL];
  if (problems.length === 0 && construct !== expected.construct) {
    problems.push(`it was imported for another construct of this state (${CONSTRUCT_LABEL} ${construct ?? '(none)'}, this one's is ${expected.construct ?? '(none)'}); a construct that moved or was renamed cannot take over its key`);
  }
  if (problems.length === 0) return;
  throw new KeyOwnershipError(
    `Refusing to ${verb} key ${key.name} (${key.identity}) in region ${region}: ${problems.join('; ')}. ${verb === 'adopt' ? UNTOUCHED : 'Nothing was changed.'} ` +
      'If that key is stale, delete it yourself; if it is this stack\'s key from a lost state, take it over with the owner id it carries (docs/lifecycle.md); otherwise give this key another name.',
    key,
  );
}

/** Applies rotation settings to the named key, after checking it is ours. */
export async function setRotation(
  client: KmsClient, input: KeyOwnership & { region: string; name: string; fingerprint: string; settings: RotationSettings },
): Promise<KmsKey> {
  const key = await findOnlyKey(client, input.region, input.name);
  if (!key) {
    throw new ApiError('API_NOT_FOUND', `No key named ${input.name} exists in region ${input.region}; import it first (thalassa-byok import).`);
  }
  assertOwned(key, input, input.region, 'change the rotation settings of');
  return client.updateRotation(input.region, key.identity, input.settings);
}
