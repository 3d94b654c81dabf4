/**
 * Reading the bytes a user gave as key material: as text, as hex or base64, as a JWK, and describing them in
 * errors by size and shape only (never by content). Shared by the symmetric and asymmetric parsers.
 */
import type { ImportableKeyType } from '../key-types';
import { KeyMaterialError } from './errors';

/** Hex text, and base64 text (base64url accepted): what `hex` and `base64` material must look like. */
export const HEX = /^[0-9a-fA-F]+$/;
export const BASE64 = /^[A-Za-z0-9+/\-_]+={0,2}$/;

/** The JSON object in `bytes`; a format error naming the type when it is not one. */
export function parseJwk(bytes: Buffer, type: ImportableKeyType): Record<string, string | undefined> & { kty?: string } {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw formatError(type, 'a JSON Web Key', `${bytes.length} bytes that start like JSON but do not parse`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw formatError(type, 'a JSON Web Key object', `JSON of type ${Array.isArray(value) ? 'array' : typeof value}`);
  }
  return value as Record<string, string | undefined>;
}

/** The bytes that hex or base64 text decodes to (surrounding whitespace ignored); undefined when it is not that. */
export function decodeText(bytes: Buffer, format: 'hex' | 'base64'): Buffer | undefined {
  const text = asText(bytes)?.trim();
  if (!text) return undefined;
  if (format === 'hex') return HEX.test(text) && text.length % 2 === 0 ? Buffer.from(text, 'hex') : undefined;
  if (!BASE64.test(text)) return undefined;
  const decoded = Buffer.from(text, /[-_]/.test(text) ? 'base64url' : 'base64');
  return decoded.length > 0 ? decoded : undefined;
}

/** The input as text when every byte is printable ASCII or whitespace; undefined for binary input. */
export function asText(bytes: Buffer): string | undefined {
  for (const b of bytes) {
    if (!(b === 0x09 || b === 0x0a || b === 0x0d || (b >= 0x20 && b < 0x7f))) return undefined;
  }
  return bytes.toString('latin1');
}

/** How many base64 characters encode `n` bytes. */
export function base64Length(n: number): number {
  return Math.ceil(n / 3) * 4;
}

/** The input by size and kind only, for an error message. */
export function describeInput(bytes: Buffer): string {
  const text = asText(bytes);
  return text === undefined ? `${bytes.length} bytes of binary data` : `${bytes.length} bytes of text`;
}

export function formatError(type: ImportableKeyType, expected: string, received: string): KeyMaterialError {
  return new KeyMaterialError('MATERIAL_FORMAT', `Key material for ${type.name} must be ${expected}; received ${received}.`);
}
