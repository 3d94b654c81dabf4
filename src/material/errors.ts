import { ByokError } from '../errors';

/**
 * Codes of {@link KeyMaterialError}, one per way key material can be wrong. Stable: safe to branch on.
 *
 * - `MATERIAL_SOURCE`: the file or environment variable cannot be read or is empty.
 * - `MATERIAL_FORMAT`: the input is not in any accepted encoding for the key type (or not in the one requested).
 * - `MATERIAL_LENGTH`: symmetric material of the wrong size.
 * - `MATERIAL_ALGORITHM`: a private key of another algorithm (an EC key for an RSA type, say).
 * - `MATERIAL_RSA_SIZE`: an RSA key whose modulus is not the type's size.
 * - `MATERIAL_CURVE`: an EC key on another curve.
 * - `MATERIAL_NOT_PRIVATE`: a public key or certificate where a private key is needed.
 * - `MATERIAL_PASSPHRASE_MISSING` / `MATERIAL_PASSPHRASE_WRONG`: encrypted PKCS#8 without a working passphrase.
 */
export type KeyMaterialErrorCode =
  | 'MATERIAL_SOURCE'
  | 'MATERIAL_FORMAT'
  | 'MATERIAL_LENGTH'
  | 'MATERIAL_ALGORITHM'
  | 'MATERIAL_RSA_SIZE'
  | 'MATERIAL_CURVE'
  | 'MATERIAL_NOT_PRIVATE'
  | 'MATERIAL_PASSPHRASE_MISSING'
  | 'MATERIAL_PASSPHRASE_WRONG';

/** Key material that cannot be read, parsed or used for the requested key type. Never carries the material. */
export class KeyMaterialError extends ByokError {
  declare public readonly code: KeyMaterialErrorCode;

  constructor(code: KeyMaterialErrorCode, message: string) {
    super(code, message);
  }
}
