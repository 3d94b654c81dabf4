import { shownValue } from '../disclosure';
import { WrappingError } from './errors';

/** The hash used for RSA-OAEP and its MGF1 in the wrapping format (the API's `hashFunction`). */
export type WrapHash = 'sha1' | 'sha256' | 'sha384' | 'sha512';

export const WRAP_HASHES: readonly WrapHash[] = ['sha1', 'sha256', 'sha384', 'sha512'];

/** The default, and what Thalassa assumes when a request names no `hashFunction`. */
export const DEFAULT_WRAP_HASH: WrapHash = 'sha256';

/** Accepts the lowercase names and the common spellings (`SHA-256`, `SHA256`); throws `HASH_UNSUPPORTED`. */
export function parseWrapHash(value: string | undefined): WrapHash {
  if (value === undefined) return DEFAULT_WRAP_HASH;
  const normalized = String(value).toLowerCase().replace('-', '');
  if ((WRAP_HASHES as readonly string[]).includes(normalized)) return normalized as WrapHash;
  throw new WrappingError(
    'HASH_UNSUPPORTED',
    `Unsupported hash function ${shownValue(value)}. Expected one of: ${WRAP_HASHES.join(', ')} (default ${DEFAULT_WRAP_HASH}).`,
  );
}
