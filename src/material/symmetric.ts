/**
 * Symmetric key material (AES, ChaCha20): raw bytes, hex, base64 or a JWK of kty "oct", to exactly the key
 * type's length. `auto` refuses input that fits as raw bytes but reads as hex or base64 text of another
 * length, rather than import the wrong key.
 */
import { shownValue } from '../disclosure';
import type { SymmetricKeyType } from '../key-types';
import { KeyMaterialError } from './errors';
import { asText, base64Length, BASE64, decodeText, describeInput, formatError, HEX, parseJwk } from './input-text';
import type { MaterialFormat } from './parse';

/** The canonical (raw) bytes of a symmetric key given as `format`; throws naming what was expected. */
export function normalizeSymmetric(bytes: Buffer, type: SymmetricKeyType, format: MaterialFormat): Buffer {
  switch (format) {
    case 'raw':
      if (bytes.length !== type.sizeBytes) throw lengthError(type, bytes.length, 'raw');
      return Buffer.from(bytes);
    case 'hex':
    case 'base64': {
      const decoded = decodeText(bytes, format);
      if (decoded === undefined) throw formatError(type, `${format} text`, describeInput(bytes));
      if (decoded.length !== type.sizeBytes) throw lengthError(type, decoded.length, format);
      return decoded;
    }
    case 'jwk':
      return symmetricFromJwk(bytes, type);
    case 'auto':
      return autoSymmetric(bytes, type);
    default:
      throw formatError(type, 'raw, hex, base64 or jwk (the formats of a symmetric key)', `format "${format}"`);
  }
}

function autoSymmetric(bytes: Buffer, type: SymmetricKeyType): Buffer {
  const text = asText(bytes);
  if (text !== undefined && text.startsWith('{')) return symmetricFromJwk(bytes, type);
  if (bytes.length === type.sizeBytes) {
    // Random key bytes that all happen to be hex or base64 characters are vanishingly unlikely (< 2^-80):
    // such an input is almost surely text of the wrong length, and taking it as raw bytes would silently
    // import the wrong key. Ask the user to say which they mean.
    // Trimmed: a trailing newline must not turn 31 base64 characters into "32 raw bytes".
    if (text !== undefined && BASE64.test(text.trim())) {
      throw new KeyMaterialError(
        'MATERIAL_FORMAT',
        `Key material for ${type.name} is ${bytes.length} bytes of text, which fits as raw bytes but looks like ` +
          `hex or base64 of a ${text.trim().length}-character string. A ${type.sizeBytes}-byte key is ` +
          `${type.sizeBytes * 2} hex or ${base64Length(type.sizeBytes)} base64 characters; if these really are the raw ` +
          `key bytes, set format: 'raw' (CLI: --format raw).`,
      );
    }
    return Buffer.from(bytes);
  }
  if (text !== undefined) {
    const trimmed = text.trim();
    if (HEX.test(trimmed) && trimmed.length === type.sizeBytes * 2) return Buffer.from(trimmed, 'hex');
    const decoded = decodeText(bytes, 'base64');
    if (decoded !== undefined && decoded.length === type.sizeBytes) return decoded;
    if (HEX.test(trimmed) && trimmed.length % 2 === 0) throw lengthError(type, trimmed.length / 2, 'hex');
    if (decoded !== undefined && BASE64.test(trimmed)) throw lengthError(type, decoded.length, 'base64');
    if (trimmed.startsWith('-----BEGIN')) {
      throw formatError(type, `${type.sizeBytes} raw bytes, or hex / base64 of them`, 'a PEM document (PEM is for RSA, ECDSA and Ed25519 keys)');
    }
  }
  throw lengthError(type, bytes.length, 'raw');
}

function symmetricFromJwk(bytes: Buffer, type: SymmetricKeyType): Buffer {
  const jwk = parseJwk(bytes, type);
  if (jwk.kty !== 'oct' || typeof jwk.k !== 'string') {
    throw formatError(type, 'a JWK with kty "oct" and its key in "k"', `a JWK with kty ${shownValue(jwk.kty)}`);
  }
  const decoded = Buffer.from(jwk.k, 'base64url');
  if (decoded.length !== type.sizeBytes) throw lengthError(type, decoded.length, 'jwk');
  return decoded;
}

export function lengthError(type: SymmetricKeyType, received: number, as: string): KeyMaterialError {
  return new KeyMaterialError(
    'MATERIAL_LENGTH',
    `Key type ${type.name} needs exactly ${type.sizeBytes} bytes of key material ` +
      `(${type.sizeBytes} raw bytes, ${type.sizeBytes * 2} hex or ${base64Length(type.sizeBytes)} base64 characters); ` +
      `received ${received} bytes (${as}).`,
  );
}
