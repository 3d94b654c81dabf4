/**
 * The last check before a wrapped blob leaves the machine: `import` sends whatever file it is pointed at, and
 * a path to the key itself (hex, raw, PEM) must never reach the API. A pure function so that the import
 * workflow can call it wherever the blob is read; it needs only the live key's size and fingerprint.
 */
import { WrappingError } from './errors';

/** What the check needs of the region's live wrapping key (a {@link WrappingKey} has both). */
export interface LiveWrappingKey {
  /** The RSA modulus size in bytes: the length of the RSA-OAEP part. */
  readonly modulusBytes: number;
  /** `spki-sha256:<hex>` of the live key. */
  readonly fingerprint: string;
}

/** Key lengths in bytes that raw or hex symmetric material has (AES-128/192/256, ChaCha20). */
const KEY_LENGTHS = new Set([16, 24, 32, 48, 64]);

/**
 * Checks that `bytes` (the decoded blob) is a wrapped blob for `live`: the RSA-OAEP part of exactly the
 * modulus length, then at least 16 bytes of AES key wrap in whole 8-byte blocks; and, when `expectedFingerprint`
 * is given (the wrapping key the blob was made with), that it is the live key's. `fileBytes` are the bytes as
 * read (before any base64 decoding), so that PEM, hex or DER key material is named as such. Throws a
 * {@link WrappingError} that describes the input by kind and length only.
 */
export function checkWrappedBlob(bytes: Uint8Array, live: LiveWrappingKey, options: { expectedFingerprint?: string; fileBytes?: Uint8Array } = {}): void {
  const looks = keyLikeness(options.fileBytes ?? bytes);
  if (looks !== undefined) {
    throw new WrappingError('BLOB_NOT_WRAPPED', `The wrapped blob looks like ${looks}, not a wrapped blob; nothing was sent. Point --wrapped-file at the blob "thalassa-byok wrap --out" (or synth) wrote, never at the key material.`);
  }
  const kwp = bytes.length - live.modulusBytes;
  if (kwp < 16 || kwp % 8 !== 0) {
    throw new WrappingError(
      'BLOB_NOT_WRAPPED',
      `The wrapped blob is ${bytes.length} bytes; a blob for the region's RSA-${live.modulusBytes * 8} wrapping key is ${live.modulusBytes} bytes of RSA-OAEP plus a multiple of 8 (at least 16) bytes of AES key wrap. ` +
        'Nothing was sent; wrap the material again for this region (cdktf synth or thalassa-byok wrap).',
    );
  }
  const expected = options.expectedFingerprint?.trim().toLowerCase();
  if (expected !== undefined && expected !== live.fingerprint) {
    throw new WrappingError(
      'BLOB_WRAPPING_KEY_MISMATCH',
      `The blob was wrapped for wrapping key ${/^spki-sha256:[0-9a-f]{64}$/.test(expected) ? expected : '(an invalid fingerprint)'}, but the region's live wrapping key is ${live.fingerprint}. ` +
        'Nothing was sent. If the region rotated its key, verify the new one out of band, update the pin and synth again.',
    );
  }
}

/** What key-like thing `data` resembles, or undefined. Only the kind is returned, never content. */
function keyLikeness(data: Uint8Array): string | undefined {
  const buffer = Buffer.from(data);
  const text = buffer.toString('latin1');
  if (text.includes('-----BEGIN')) return 'PEM text (a key or certificate)';
  const compact = text.replace(/\s+/g, '');
  if (/^[0-9a-fA-F]+$/.test(compact) && KEY_LENGTHS.has(compact.length / 2)) return `hex key material (${compact.length / 2} bytes)`;
  if (compact.startsWith('{') && compact.includes('"kty"')) return 'a JWK';
  if (KEY_LENGTHS.has(buffer.length)) return `raw key material (${buffer.length} bytes)`;
  // DER: SEQUENCE with a long-form length that spans the rest (PKCS#8, PKCS#1, SPKI, SEC1).
  if (buffer.length > 4 && buffer[0] === 0x30 && buffer[1] === 0x82 && buffer.readUInt16BE(2) === buffer.length - 4) return 'DER-encoded key material';
  if (buffer.length > 2 && buffer[0] === 0x30 && buffer[1] === buffer.length - 2) return 'DER-encoded key material';
  return undefined;
}
