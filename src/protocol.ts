/**
 * The words the construct, the CLI and the API workflows share: the reserved label and annotation names a
 * key carries, and the file the synth writes for the apply-time sweeps. A leaf: it imports nothing, so the
 * provisioner path can load it without the material or wrapping code.
 */

/** Labels and annotations under this prefix belong to this tool; users may not set them. */
export const RESERVED_PREFIX = 'cdktf-thalassa-byok/';

/**
 * The annotation where import records the material's fingerprint. Adoption, deletion and sweeping compare
 * against it, so a key this package did not create (or created from other material) is never touched.
 */
export const FINGERPRINT_ANNOTATION = `${RESERVED_PREFIX}fingerprint`;

/**
 * The annotation where import records a symmetric key's commitment: an HMAC of the material (an AES-CMAC when
 * an HSM computes it) over another label than the fingerprint's, written only to the key's entry in the owner-only
 * wrapped-keys file (never to state or a command line). Someone who read the fingerprint from a plan cannot compute it, so a look-alike key planted
 * under our name and fingerprint is not adopted.
 */
export const COMMITMENT_ANNOTATION = `${RESERVED_PREFIX}commitment`;

/** The label holding the Terraform state's owner id: adoption, deletion and sweeps act only on keys carrying ours. */
export const OWNER_LABEL = `${RESERVED_PREFIX}owner`;

/** The label naming the construct a key was imported for (a hash of its path), so its predecessors can be found. */
export const CONSTRUCT_LABEL = `${RESERVED_PREFIX}construct`;

/** The stack's manifest of declared keys, relative to the stack's working directory. */
export const STACK_MANIFEST_FILE = 'byok/keys.json';

/** The manifest format's version; a reader refuses others. Format: docs/manifest.md. */
export const STACK_MANIFEST_VERSION = 3;

/** The settings Thalassa Cloud fixes at import, as declared (defaults applied). */
export interface ManifestImmutableSettings {
  readonly description: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly exportAllowed: boolean;
  readonly allowRotation: boolean;
  /** The OAEP hash the blob was wrapped with; the key's `hashFunction` at import. */
  readonly hashFunction: string;
}

/** Declared rotation settings (absent in the manifest: the code does not manage rotation). */
export interface ManifestRotation {
  readonly enabled: boolean;
  readonly periodInDays?: number;
}

/**
 * One declared key, as the manifest lists it. No material, no blob, no commitment: those are the key's entry
 * (by `construct`) in the stack's wrapped-keys file (`byok/keys.wrapped`, v3).
 */
export interface ManifestKey {
  /** The value of the construct label. */
  readonly construct: string;
  /** The construct path, for messages. */
  readonly path: string;
  readonly region: string;
  readonly name: string;
  readonly fingerprint: string;
  readonly keyType: string;
  readonly removalPolicy: 'schedule-deletion' | 'retain';
  /** The key's Terraform resource address, e.g. `terraform_data.k_Key_1A2B3C4D` (v2). */
  readonly resource: string;
  /** v2: every immutable setting. */
  readonly settings: ManifestImmutableSettings;
  /** v2: the declared rotation settings, if the code manages rotation. */
  readonly rotation?: ManifestRotation;
  /** v2: the wrapping key the blob was wrapped with: its SPKI fingerprint and region. */
  readonly wrappingKey: { readonly fingerprint: string; readonly region: string };
}

/**
 * Where a stack's owner id is (v2): given in the code (`KeyOwner` `ownerId`), or the `id` attribute of the
 * owner resource at `address`, known only once the stack was deployed and read from the Terraform state.
 */
export type ManifestOwner =
  | { readonly source: 'explicit'; readonly id: string }
  | { readonly source: 'state'; readonly address: string; readonly attribute: 'id' };

/** `byok/keys.json`. */
export interface StackManifest {
  readonly version: typeof STACK_MANIFEST_VERSION;
  readonly stack: string;
  /** v2: where the owner id is. */
  readonly owner: ManifestOwner;
  readonly keys: readonly ManifestKey[];
}

/** One declared key as the stack's sweep resource records it in state: enough to find its keys later. */
export interface RecordedKey {
  readonly construct: string;
  readonly region: string;
  readonly removalPolicy: 'schedule-deletion' | 'retain';
}

/**
 * The sweep resource's record, `construct@region=policy,…` in a stable order: a plain string, because a
 * destroy-time provisioner reads it back from state (`self.input.keys`) onto a command line.
 */
export function encodeRecord(keys: readonly RecordedKey[]): string {
  return keys.map((k) => `${k.construct}@${k.region}=${k.removalPolicy}`).sort().join(',');
}

/** The inverse of {@link encodeRecord}; throws a RangeError naming the entry that does not parse. */
export function parseRecord(text: string): RecordedKey[] {
  if (text === '') return [];
  return text.split(',').map((entry, i) => {
    const m = /^([A-Za-z0-9._-]{1,63})@([a-z0-9-]{1,63})=(schedule-deletion|retain)$/.exec(entry);
    if (!m) throw new RangeError(`entry ${i + 1} (${entry.length} characters) is not construct@region=policy`);
    return { construct: m[1], region: m[2], removalPolicy: m[3] as RecordedKey['removalPolicy'] };
  });
}
