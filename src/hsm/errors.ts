import { ByokError } from '../errors';

/**
 * Codes of {@link HsmError}, one per way wrapping inside a PKCS#11 token can fail. Stable: safe to branch on.
 *
 * - `HSM_BINDING_MISSING`: the optional peer dependency `pkcs11js` is not installed or not built.
 * - `HSM_MODULE`: the PKCS#11 module (a shared library) cannot be loaded or initialized.
 * - `HSM_TOKEN_NOT_FOUND`: no slot holds a token with that label.
 * - `HSM_PIN_MISSING`: the PIN's environment variable is not set or empty.
 * - `HSM_PIN_WRONG` / `HSM_PIN_LOCKED`: the token refused the PIN, or has locked the user PIN.
 * - `HSM_KEY_NOT_FOUND` / `HSM_KEY_AMBIGUOUS`: no key, or more than one, matches the label or id.
 * - `HSM_KEY_TYPE_MISMATCH`: the key in the token is of another algorithm, size or curve than `keyType`.
 * - `HSM_KEY_TYPE_UNSUPPORTED`: `keyType` cannot be held or wrapped in a token by this module (ChaCha20).
 * - `HSM_KEY_NOT_EXTRACTABLE`: the key cannot be wrapped (`CKA_EXTRACTABLE` false, `CKA_WRAP_WITH_TRUSTED`,
 *   or the token's `CKR_KEY_NOT_WRAPPABLE` / `CKR_KEY_UNEXTRACTABLE`).
 * - `HSM_NO_CHECK_OPERATION`: a symmetric key allows neither sign (CMAC) nor encrypt (KCV), so no check value.
 * - `HSM_PUBLIC_KEY_NOT_FOUND`: no public key for an asymmetric key (the fingerprint needs it).
 * - `HSM_MECHANISM_MISSING`: the token does not offer a mechanism the wrap needs.
 * - `HSM_HASH_REFUSED`: the token refused RSA-OAEP with the requested hash (SoftHSM2 2.6.1 offers SHA-1 only).
 * - `HSM_OPERATION`: any other refusal by the token, with its CKR_ code.
 */
export type HsmErrorCode =
  | 'HSM_BINDING_MISSING'
  | 'HSM_MODULE'
  | 'HSM_TOKEN_NOT_FOUND'
  | 'HSM_PIN_MISSING'
  | 'HSM_PIN_WRONG'
  | 'HSM_PIN_LOCKED'
  | 'HSM_KEY_NOT_FOUND'
  | 'HSM_KEY_AMBIGUOUS'
  | 'HSM_KEY_TYPE_MISMATCH'
  | 'HSM_KEY_TYPE_UNSUPPORTED'
  | 'HSM_KEY_NOT_EXTRACTABLE'
  | 'HSM_NO_CHECK_OPERATION'
  | 'HSM_PUBLIC_KEY_NOT_FOUND'
  | 'HSM_MECHANISM_MISSING'
  | 'HSM_HASH_REFUSED'
  | 'HSM_OPERATION';

/** Wrapping or fingerprinting inside a token failed. Never carries the PIN or key material. */
export class HsmError extends ByokError {
  declare public readonly code: HsmErrorCode;

  constructor(code: HsmErrorCode, message: string) {
    super(code, message);
  }
}
