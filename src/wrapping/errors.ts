import { ByokError } from '../errors';

/**
 * Codes of {@link WrappingError}:
 *
 * - `WRAPPING_KEY_INVALID`: not a parseable public key (or JSON without `publicKey`).
 * - `WRAPPING_KEY_NOT_RSA`: a public key of another algorithm.
 * - `WRAPPING_KEY_TOO_SMALL`: an RSA key under 2048 bits.
 * - `WRAPPING_KEY_PIN_MISMATCH`: the key's fingerprint differs from the pinned one.
 * - `WRAPPING_KEY_SOURCE`: the PEM file cannot be read.
 * - `HASH_UNSUPPORTED`: a hash function outside sha1 / sha256 / sha384 / sha512.
 * - `BLOB_LENGTH`: a wrapped blob too short, or not of the shape the wrapping key implies.
 * - `BLOB_UNWRAP`: the RSA-OAEP part or the AES key-wrap part does not decrypt (wrong key, wrong hash, damage).
 * - `BLOB_EPHEMERAL_LENGTH`: the RSA-OAEP part decrypts to something other than a 32-byte AES key.
 * - `BLOB_NOT_WRAPPED`: what would be sent as a wrapped blob is not one (it looks like raw key material, or
 *   its length does not fit the live wrapping key); nothing was sent.
 * - `BLOB_WRAPPING_KEY_MISMATCH`: the blob was wrapped for another wrapping key than the region's live one.
 */
export type WrappingErrorCode =
  | 'WRAPPING_KEY_INVALID'
  | 'WRAPPING_KEY_NOT_RSA'
  | 'WRAPPING_KEY_TOO_SMALL'
  | 'WRAPPING_KEY_PIN_MISMATCH'
  | 'WRAPPING_KEY_SOURCE'
  | 'HASH_UNSUPPORTED'
  | 'BLOB_LENGTH'
  | 'BLOB_UNWRAP'
  | 'BLOB_EPHEMERAL_LENGTH'
  | 'BLOB_NOT_WRAPPED'
  | 'BLOB_WRAPPING_KEY_MISMATCH';

/** A wrapping key, hash function or wrapped blob that cannot be used. Never carries key material or blobs. */
export class WrappingError extends ByokError {
  declare public readonly code: WrappingErrorCode;

  constructor(code: WrappingErrorCode, message: string) {
    super(code, message);
  }
}
