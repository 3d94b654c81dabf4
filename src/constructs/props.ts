/** The properties of an `ImportedKmsKey`: every setting a user declares, with its rules and defaults. */
import type { ImportableKeyTypeName } from '../key-types';
import type { HsmKeyMaterial, KeyMaterial, PreWrappedKeyMaterial } from '../material';
import type { WrapHash, WrappingKey } from '../wrapping';
import type { LifecycleResourceType } from './lifecycle';

/** What happens to the key in Thalassa Cloud when the construct is destroyed or replaced. */
export type RemovalPolicy = 'schedule-deletion' | 'retain';

/** Automatic rotation settings: the only settings of an imported key that can change after import. */
export interface RotationSettings {
  /** Whether Thalassa Cloud rotates the key automatically. */
  readonly enabled: boolean;
  /**
   * Days between automatic rotations, 1..3650. Required when `enabled` is true: Thalassa Cloud refuses to
   * enable rotation without a period.
   * @default - none; only valid with `enabled: false`
   */
  readonly periodInDays?: number;
}

/** Properties of an {@link ImportedKmsKey}. */
export interface ImportedKmsKeyProps {
  /**
   * The region the key is imported into, e.g. `nl-01`. A concrete slug matching `^[a-z]{2}-[0-9]{2}$`: the
   * wrapping key belongs to one region, so the region must be known at synth.
   *
   * IMPORTANT: changing the region imports a new key there and, once it exists, schedules the existing key for
   * deletion.
   */
  readonly region: string;

  /**
   * The key's base name: 1..246 characters from `[A-Za-z0-9._-]`, starting and ending with a letter or digit.
   * The key is created as `<name>-<8 hex digits>` (see {@link ImportedKmsKeyProps.physicalName}).
   *
   * IMPORTANT: changing the name replaces the key: a new key is imported first, and the existing one is
   * scheduled for deletion once the new one exists.
   */
  readonly name: string;

  /**
   * A description of the key, at most 1024 characters (no control characters but tab and newline).
   * @default - no description
   *
   * IMPORTANT: Thalassa Cloud cannot change an imported key's description; changing it replaces the key.
   */
  readonly description?: string;

  /**
   * Labels of the key. Keys: 1..63 characters from `[A-Za-z0-9._/-]`, starting and ending with a letter or
   * digit; values: 0..63 characters from `[A-Za-z0-9._-]`, starting and ending with a letter or digit; at
   * most 64 entries; keys under `cdktf-thalassa-byok/` are reserved.
   * @default - no labels
   *
   * IMPORTANT: labels are immutable after import; changing them replaces the key.
   */
  readonly labels?: Record<string, string>;

  /**
   * Annotations of the key. Keys: 1..253 characters from `[A-Za-z0-9._/-]`, starting and ending with a
   * letter or digit; values: any text up to 4096 characters without control characters but tab and newline;
   * at most 64 entries. Keys under `cdktf-thalassa-byok/` are reserved: import records the material's
   * fingerprint in `cdktf-thalassa-byok/fingerprint`.
   * @default - no annotations (besides the fingerprint recorded at import)
   *
   * IMPORTANT: annotations are immutable after import; changing them replaces the key.
   */
  readonly annotations?: Record<string, string>;

  /**
   * The key type, as the API names it: `aes128-gcm96`, `aes256-gcm96`, `chacha20-poly1305`, `rsa-2048`,
   * `rsa-3072`, `rsa-4096`, `ecdsa-p256`, `ecdsa-p384`, `ecdsa-p521` or `ed25519`. HMAC types cannot be
   * imported.
   *
   * IMPORTANT: changing the key type replaces the key.
   */
  readonly keyType: ImportableKeyTypeName;

  /**
   * The key material: `KeyMaterial.fromFile` / `fromEnv` / `fromBytes`, read, checked against `keyType`,
   * fingerprinted and wrapped at synth; or `KeyMaterial.preWrapped(blob, {fingerprint})` for a blob wrapped
   * inside an HSM (asymmetric types then need an `spki-sha256:` fingerprint of the public key); or
   * `KeyMaterial.fromPkcs11({module, tokenLabel, pinEnv, keyLabel | keyId})`, a key the token wraps at synth,
   * which never leaves the token.
   *
   * The material never reaches Terraform's configuration, plan or state: only its fingerprint does. The
   * wrapped blob is written to an owner-only file in the stack's output folder for the import step.
   *
   * IMPORTANT: new material (a new fingerprint) replaces the key.
   */
  readonly material: KeyMaterial | PreWrappedKeyMaterial | HsmKeyMaterial;

  /**
   * The region's RSA wrapping key (`WrappingKey.fromPemFile(path, {pin})`). Pin it: an unpinned wrapping key
   * is a synth warning, because a substituted key would receive your material.
   */
  readonly wrappingKey: WrappingKey;

  /**
   * The hash of RSA-OAEP and its MGF1 in the wrapping: `sha1`, `sha256`, `sha384` or `sha512`. Use `sha1`
   * only for an HSM that can do nothing else (it is a synth warning). Material in a PKCS#11 token
   * (`KeyMaterial.fromPkcs11`) is wrapped by the token with exactly this hash; a token that refuses it fails
   * synth (SoftHSM2 2.6.1 offers only `sha1`).
   * @default 'sha256'
   *
   * IMPORTANT: changing the hash function replaces the key.
   */
  readonly hashFunction?: WrapHash;

  /**
   * Whether the key may ever be rotated (manually or automatically). Thalassa Cloud fixes this at import.
   * @default false
   *
   * IMPORTANT: changing this replaces the key: a new key is imported first, and the existing one is scheduled
   * for deletion once the new one exists.
   */
  readonly allowRotation?: boolean;

  /**
   * Automatic rotation settings, applied after import with `PATCH …/rotation`. Requires `allowRotation: true`.
   * Changing them re-applies them without replacing the key. Removing them leaves the key's current settings
   * as they are; set `{enabled: false}` to switch rotation off.
   * @default - rotation settings are not managed
   */
  readonly rotation?: RotationSettings;

  /**
   * Whether the key material may be exported from Thalassa Cloud.
   * @default false
   *
   * IMPORTANT: changing this replaces the key.
   */
  readonly exportAllowed?: boolean;

  /**
   * What happens in Thalassa Cloud to a key this construct no longer uses: when the construct is removed from
   * the code, when the stack is destroyed, and to the key a replacement supersedes (once the new key
   * exists). `schedule-deletion`: the API's 30-day, cancellable window; only keys carrying this state's owner
   * id, this construct's id and a fingerprint recorded by this tool are touched. `retain`: the key stays active
   * and is no longer managed. The policy in effect at the last deploy before removal decides (docs/lifecycle.md).
   * @default 'schedule-deletion'
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * Terraform's `prevent_destroy`: any plan that would destroy or replace the key fails, so an unintended
   * change of an immutable setting is caught at plan time.
   * @default false
   */
  readonly preventDestroy?: boolean;

  /**
   * The exact name to create the key with, instead of `<name>-<8 hex digits of the immutable settings>`.
   * 1..255 characters from `[A-Za-z0-9._-]`.
   *
   * A key pending deletion keeps its name for 30 days, so with a fixed name a replacement fails at apply (the
   * old key still holds the name; import refuses to adopt it, since its settings or material differ) until
   * the old key is gone; the default derived name changes whenever the key is replaced.
   * @default - `<name>-<first 8 hex digits of the SHA-256 of the replace triggers>`
   *
   * IMPORTANT: changing the physical name replaces the key.
   */
  readonly physicalName?: string;

  /**
   * The Terraform resource that carries the key's lifecycle: Terraform's built-in `terraform_data` (no
   * provider download; Terraform ≥ 1.4, OpenTofu ≥ 1.6), or `null_resource` from the `hashicorp/null`
   * provider (a `NullProvider` is added to the stack if it has none).
   * @default 'terraform_data'
   *
   * Switching a deployed key moves it to a new Terraform resource, whose import adopts the existing key (same
   * name, owner id and construct); nothing is deleted. The stack's owner and sweep resources follow
   * {@link KeyOwnerProps.lifecycleResource}, not this setting.
   */
  readonly lifecycleResource?: LifecycleResourceType;
}
