/**
 * The Thalassa Cloud KMS API's objects, as this package uses them. Field names follow the API
 * (`shared/design/thalassa-kms-api.md`); fields the API may omit are optional.
 *
 * Key versions have two JSON types in the official Go client, and these types copy it: on a `KmsKey`
 * (`latestVersion`, `versions[].version`) a version is an integer; in the operation requests and answers
 * (encrypt, decrypt, sign, hmac, export: `keyVersion`) it is a decimal string (`"1"`). Both name the same
 * version. The client also declares every answer's `keyVersion` `omitempty`, so a server may leave it out;
 * {@link KmsClient} turns a number it receives into a string, so callers see strings only.
 */

export type KmsKeyStatus = 'active' | 'disabled' | 'pending_deletion';

export interface KmsKeyVersion {
  /** An integer here (the official client's `int`), unlike the string `keyVersion` of operations. */
  readonly version: number;
  readonly status?: string;
  readonly createdAt?: string;
}

/** A KMS key as the API describes it. Never holds material. */
export interface KmsKey {
  readonly identity: string;
  readonly name: string;
  readonly slug?: string;
  readonly description?: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
  readonly projectId?: string;
  readonly keyType: string;
  readonly status: KmsKeyStatus;
  readonly exportAllowed?: boolean;
  readonly imported?: boolean;
  /** Not a field of the official client's `KmsKey`: the real API may never send it, so never depend on it. */
  readonly allowRotation?: boolean;
  readonly keyRotationEnabled?: boolean;
  readonly rotationPeriodInDays?: number;
  /** An integer (the official client's `int`, omitted when 0). */
  readonly latestVersion?: number;
  readonly versions?: readonly KmsKeyVersion[];
  readonly createdAt?: string;
  readonly updatedAt?: string;
  /**
   * While `pending_deletion`: when the key will be deleted (RFC 3339). Not a field of the official client's
   * `KmsKey`; Thalassa's lifecycle page says the DELETE answer carries it, so it may appear there only.
   */
  readonly deletionScheduledAt?: string;
  /** An object in the official client (a bare string breaks its decoding); omitted when unknown. */
  readonly organisation?: KmsOrganisation;
}

/** The organisation a key belongs to, as the official client decodes it. */
export interface KmsOrganisation {
  readonly identity: string;
  readonly name?: string;
  readonly slug?: string;
  readonly description?: string;
  readonly createdAt?: string;
  readonly updatedAt?: string;
}

/** `POST /v1/kms/{region}/keys`. `importKeyMaterial` is base64 of a wrapped blob: treat the request as secret. */
export interface CreateKmsKeyRequest {
  readonly name: string;
  readonly keyType: string;
  readonly description?: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
  readonly exportAllowed?: boolean;
  readonly keyRotationEnabled?: boolean;
  readonly rotationPeriodInDays?: number;
  readonly importKeyMaterial?: string;
  readonly hashFunction?: string;
  readonly allowRotation?: boolean;
}

/** `PATCH /v1/kms/{region}/keys/{id}/rotation`. */
export interface RotationSettings {
  readonly keyRotationEnabled?: boolean;
  readonly rotationPeriodInDays?: number;
}

/** `GET /v1/kms/summary`. */
export interface KmsSummary {
  readonly featureEnabled: boolean;
  readonly regions: readonly {
    readonly identity?: string;
    readonly name?: string;
    readonly slug: string;
    readonly kmsAvailable: boolean;
    readonly totalKeys?: number;
    readonly activeKeys?: number;
    readonly disabledKeys?: number;
    readonly pendingDeletionKeys?: number;
  }[];
}

/** Filters of `GET /v1/kms/{region}/keys`. */
export interface KeyListFilter {
  readonly name?: string;
  readonly slug?: string;
  readonly identity?: string;
  /** `matchLabels[k]=v`, all of which must match. */
  readonly labels?: Record<string, string>;
}

/** A key version in an operation's request or answer: a decimal string, e.g. `"1"`. */
export type KeyVersionString = string;

export interface EncryptResult {
  readonly ciphertext: string;
  /** The version that encrypted; `omitempty` in the official client, so a server may leave it out. */
  readonly keyVersion?: KeyVersionString;
}

export interface DecryptResult {
  /** Base64. */
  readonly plaintext: string;
  /** The version that decrypted; `omitempty` in the official client, so a server may leave it out. */
  readonly keyVersion?: KeyVersionString;
}

export interface SignRequest {
  /** Base64 of the message (or of its digest when `prehashed`). */
  readonly input: string;
  /** Which version signs (default: the latest). */
  readonly keyVersion?: KeyVersionString;
  readonly hashAlgorithm?: string;
  readonly prehashed?: boolean;
  /**
   * Ed25519ctx context (RFC 8032), ed25519 keys only. The official client has it as a plain string without
   * saying how it is encoded; this project sends base64 of the context bytes (1..255), like every other
   * binary field of the API, and the emulator reads it so.
   */
  readonly context?: string;
}

export interface SignResult {
  /** Base64. */
  readonly signature: string;
  /** The version that signed; `omitempty` in the official client, so a server may leave it out. */
  readonly keyVersion?: KeyVersionString;
}

/**
 * What `DELETE /v1/kms/{region}/keys/{id}` answered: nothing (204, as the official client expects) or a body
 * (Thalassa's lifecycle page says it includes `deletionScheduledAt`). `key` is set when the body is a key.
 */
export interface DeleteKeyResult {
  readonly deletionScheduledAt?: string;
  readonly key?: KmsKey;
}
