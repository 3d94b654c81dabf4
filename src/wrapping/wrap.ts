/**
 * The BYOK wrapping format, PKCS#11 `CKM_RSA_AES_KEY_WRAP`:
 *
 *     blob = RSAES-OAEP(wrappingKey, hash H, MGF1 H, empty label)(ephemeral AES-256 key)
 *         || AES-KWP (RFC 5649)(ephemeral, canonical material)
 *
 * A fresh ephemeral key per wrap; it is zeroed as soon as the blob is made.
 */
import { constants, KeyObject, privateDecrypt, publicEncrypt, randomBytes } from 'node:crypto';
import type { CanonicalKeyMaterial } from '../material';
import { WrappingError } from './errors';
import { parseWrapHash, type WrapHash } from './hash';
import { kwpUnwrap, kwpWrap } from './kwp';
import type { WrappingKey } from './wrapping-key';

const EPHEMERAL_BYTES = 32;
// The smallest KWP output: one 8-byte semiblock of padded plaintext plus the 8-byte integrity block.
const MIN_KWP_BYTES = 16;

/** Options for {@link wrap} and {@link unwrap}. */
export interface WrapOptions {
  /** @default 'sha256' */
  readonly hash?: WrapHash | string;
}

/** Wraps canonical key material for import. Returns the raw blob (base64 it for `importKeyMaterial`). */
export function wrap(material: CanonicalKeyMaterial | Uint8Array, wrappingKey: WrappingKey, options: WrapOptions = {}): Buffer {
  const hash = parseWrapHash(options.hash);
  const plaintext = material instanceof Uint8Array ? material : material.bytes();
  if (plaintext.length === 0) throw new RangeError('Cannot wrap empty key material.');
  const ephemeral = randomBytes(EPHEMERAL_BYTES);
  try {
    const wrappedEphemeral = publicEncrypt(
      { key: wrappingKey.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash },
      ephemeral,
    );
    const wrappedMaterial = kwpWrap(ephemeral, plaintext);
    // An allocation of its own, not a slice of Node's shared 8 KiB buffer pool: a blob lives until the synth
    // writes the stack's wrapped-keys file, and a slice keeps its whole slab alive (~4 MiB for 1,000 keys).
    const blob = Buffer.allocUnsafeSlow(wrappedEphemeral.length + wrappedMaterial.length);
    wrappedEphemeral.copy(blob);
    wrappedMaterial.copy(blob, wrappedEphemeral.length);
    return blob;
  } finally {
    ephemeral.fill(0);
  }
}

/**
 * Reverses {@link wrap} with the wrapping key's private half (what the KMS does on import). Returns the
 * canonical material; validating it against a key type is the caller's job.
 */
export function unwrap(blob: Uint8Array, privateKey: KeyObject, options: WrapOptions = {}): Buffer {
  const hash = parseWrapHash(options.hash);
  const modulusBits = privateKey.asymmetricKeyDetails?.modulusLength;
  if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'rsa' || !modulusBits) {
    throw new WrappingError('WRAPPING_KEY_INVALID', 'Unwrapping needs the RSA private half of the wrapping key.');
  }
  const modulusBytes = Math.ceil(modulusBits / 8);
  if (blob.length < modulusBytes + MIN_KWP_BYTES || (blob.length - modulusBytes) % 8 !== 0) {
    throw new WrappingError(
      'BLOB_LENGTH',
      `A blob wrapped with an RSA-${modulusBits} key is ${modulusBytes} bytes of RSA-OAEP followed by a multiple of 8 (at least 16) bytes of AES key wrap; received ${blob.length} bytes.`,
    );
  }
  let ephemeral: Buffer;
  try {
    ephemeral = privateDecrypt(
      { key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash },
      blob.subarray(0, modulusBytes),
    );
  } catch {
    throw new WrappingError('BLOB_UNWRAP', `The RSA-OAEP part of the blob does not decrypt with this wrapping key and hash ${hash}: it was wrapped for another key or region, with another hash function, or it is damaged.`);
  }
  try {
    if (ephemeral.length !== EPHEMERAL_BYTES) {
      throw new WrappingError('BLOB_EPHEMERAL_LENGTH', `The RSA-OAEP part of the blob holds a ${ephemeral.length}-byte key; the format requires a ${EPHEMERAL_BYTES}-byte AES-256 key.`);
    }
    const material = kwpUnwrap(ephemeral, blob.subarray(modulusBytes));
    if (material === undefined) {
      throw new WrappingError('BLOB_UNWRAP', 'The AES key-wrap part of the blob fails its integrity check (RFC 5649): the blob is damaged or was not made in this format.');
    }
    return material;
  } finally {
    ephemeral.fill(0);
  }
}
