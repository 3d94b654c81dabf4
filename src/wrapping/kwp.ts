/**
 * AES key wrap with padding (RFC 5649, "KWP"), on OpenSSL's implementation through Node's `crypto`.
 * The 4-byte IV is RFC 5649's alternative initial value A65959A6; the message length indicator is appended
 * by OpenSSL itself.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';

const KWP_IV = Buffer.from('A65959A6', 'hex');

function cipherName(kek: Uint8Array): 'id-aes128-wrap-pad' | 'id-aes192-wrap-pad' | 'id-aes256-wrap-pad' {
  switch (kek.length) {
    case 16: return 'id-aes128-wrap-pad';
    case 24: return 'id-aes192-wrap-pad';
    case 32: return 'id-aes256-wrap-pad';
    default: throw new RangeError(`An AES key-wrap key must be 16, 24 or 32 bytes; received ${kek.length}.`);
  }
}

/** Wraps `plaintext` (1 byte or more) under `kek`; the result is 8 bytes longer than `plaintext` rounded up to 8. */
export function kwpWrap(kek: Uint8Array, plaintext: Uint8Array): Buffer {
  const cipher = createCipheriv(cipherName(kek), kek, KWP_IV);
  return Buffer.concat([cipher.update(plaintext), cipher.final()]);
}

/**
 * Unwraps and checks integrity. Returns undefined when the ciphertext does not unwrap under `kek`
 * (wrong key, damaged data, bad length), so that callers decide how to report it.
 */
export function kwpUnwrap(kek: Uint8Array, ciphertext: Uint8Array): Buffer | undefined {
  if (ciphertext.length < 16 || ciphertext.length % 8 !== 0) return undefined;
  try {
    const decipher = createDecipheriv(cipherName(kek), kek, KWP_IV);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch {
    return undefined;
  }
}
