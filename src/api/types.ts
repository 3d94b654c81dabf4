/**
 * The Thalassa Cloud KMS API's objects, as this package uses them. Field names follow the API
 * (`shared/design/thalassa-kms-api.md`); fields the API may omit are optional.
 */

export type KmsKeyStatus = 'active' | 'disabled' | 'pending_deletion';

export interface KmsKeyVersion {
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
  readonly latestVersion?: number;
  readonly versions?: readonly KmsKeyVersion[];
  readonly createdAt?: string;
  readonly updatedAt?: string;
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

export interface EncryptResult {
  readonly ciphertext: string;
  readonly keyVersion: number;
}

export interface DecryptResult {
  /** Base64. */
  readonly plaintext: string;
  readonly keyVersion: number;
}

export interface SignRequest {
  /** Base64 of the message (or of its digest when `prehashed`). */
  readonly input: string;
  readonly keyVersion?: number;
  readonly hashAlgorithm?: string;
  readonly prehashed?: boolean;
  readonly context?: string;
}

export interface SignResult {
  /** Base64. */
  readonly signature: string;
  readonly keyVersion: number;
}
