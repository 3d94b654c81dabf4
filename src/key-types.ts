/**
 * The one table of Thalassa Cloud KMS key types. Everything else in the package reads sizes, curves,
 * importability and canonical import formats from here.
 *
 * Source: Thalassa Cloud's "Key types" and "Bring your own key (BYOK)" pages; see
 * `shared/design/thalassa-kms-api.md`.
 */
import { shownValue } from './disclosure';
import { ByokError } from './errors';

/** The broad family a key type belongs to. */
export type KeyCategory = 'symmetric' | 'rsa' | 'ecdsa' | 'eddsa' | 'hmac';

/** The plaintext that gets wrapped for import: raw key bytes, or a PKCS#8 DER private key. */
export type CanonicalFormat = 'raw' | 'pkcs8-der';

interface KeyTypeBase {
  /** The type's name as the API spells it, e.g. `aes256-gcm96`. */
  readonly name: string;
  readonly category: KeyCategory;
  /** What the key is used for, in the API's terms. */
  readonly operations: readonly ('encrypt' | 'sign' | 'hmac')[];
}

/** A symmetric encryption key: imported as exactly `sizeBytes` raw bytes. */
export interface SymmetricKeyType extends KeyTypeBase {
  readonly category: 'symmetric';
  readonly importable: true;
  readonly canonicalFormat: 'raw';
  readonly sizeBytes: number;
  /** Node's cipher name for the emulator's encrypt/decrypt. */
  readonly cipher: 'aes-128-gcm' | 'aes-256-gcm' | 'chacha20-poly1305';
}

/** An RSA key: imported as a PKCS#8 DER private key whose modulus has exactly `modulusBits` bits. */
export interface RsaKeyType extends KeyTypeBase {
  readonly category: 'rsa';
  readonly importable: true;
  readonly canonicalFormat: 'pkcs8-der';
  readonly modulusBits: 2048 | 3072 | 4096;
}

/** An ECDSA key: imported as a PKCS#8 DER private key on exactly this curve. */
export interface EcdsaKeyType extends KeyTypeBase {
  readonly category: 'ecdsa';
  readonly importable: true;
  readonly canonicalFormat: 'pkcs8-der';
  /** The curve's NIST name, as in JWK `crv`. */
  readonly curve: 'P-256' | 'P-384' | 'P-521';
  /** The curve's name as Node and OpenSSL report it. */
  readonly namedCurve: 'prime256v1' | 'secp384r1' | 'secp521r1';
  readonly hash: 'sha256' | 'sha384' | 'sha512';
}

/** An Ed25519 key: imported as an RFC 8410 PKCS#8 DER private key. */
export interface EddsaKeyType extends KeyTypeBase {
  readonly category: 'eddsa';
  readonly importable: true;
  readonly canonicalFormat: 'pkcs8-der';
  readonly curve: 'Ed25519';
}

/** An HMAC key: Thalassa generates these; they cannot be imported. */
export interface HmacKeyType extends KeyTypeBase {
  readonly category: 'hmac';
  readonly importable: false;
  readonly canonicalFormat: null;
  readonly hash: 'sha256' | 'sha512';
  readonly sizeBytes: number;
}

export type ImportableKeyType = SymmetricKeyType | RsaKeyType | EcdsaKeyType | EddsaKeyType;
export type KeyType = ImportableKeyType | HmacKeyType;

const symmetric = (name: string, sizeBytes: number, cipher: SymmetricKeyType['cipher']): SymmetricKeyType => ({
  name, category: 'symmetric', importable: true, canonicalFormat: 'raw', sizeBytes, cipher, operations: ['encrypt'],
});
const rsa = (modulusBits: RsaKeyType['modulusBits']): RsaKeyType => ({
  name: `rsa-${modulusBits}`, category: 'rsa', importable: true, canonicalFormat: 'pkcs8-der', modulusBits,
  operations: ['encrypt', 'sign'],
});
const ecdsa = (
  name: string, curve: EcdsaKeyType['curve'], namedCurve: EcdsaKeyType['namedCurve'], hash: EcdsaKeyType['hash'],
): EcdsaKeyType => ({
  name, category: 'ecdsa', importable: true, canonicalFormat: 'pkcs8-der', curve, namedCurve, hash, operations: ['sign'],
});
const hmac = (name: string, hash: HmacKeyType['hash']): HmacKeyType => ({
  name, category: 'hmac', importable: false, canonicalFormat: null, hash, sizeBytes: hash === 'sha512' ? 64 : 32,
  operations: ['hmac'],
});

/** All 13 key types, keyed by their API name. */
export const KEY_TYPES = Object.freeze({
  'aes128-gcm96': symmetric('aes128-gcm96', 16, 'aes-128-gcm'),
  'aes256-gcm96': symmetric('aes256-gcm96', 32, 'aes-256-gcm'),
  'chacha20-poly1305': symmetric('chacha20-poly1305', 32, 'chacha20-poly1305'),
  'rsa-2048': rsa(2048),
  'rsa-3072': rsa(3072),
  'rsa-4096': rsa(4096),
  'ecdsa-p256': ecdsa('ecdsa-p256', 'P-256', 'prime256v1', 'sha256'),
  'ecdsa-p384': ecdsa('ecdsa-p384', 'P-384', 'secp384r1', 'sha384'),
  'ecdsa-p521': ecdsa('ecdsa-p521', 'P-521', 'secp521r1', 'sha512'),
  'ed25519': { name: 'ed25519', category: 'eddsa', importable: true, canonicalFormat: 'pkcs8-der', curve: 'Ed25519', operations: ['sign'] } as EddsaKeyType,
  'hmac': hmac('hmac', 'sha256'),
  'hmac-sha256': hmac('hmac-sha256', 'sha256'),
  'hmac-sha512': hmac('hmac-sha512', 'sha512'),
} satisfies Record<string, KeyType>);

/** A key type's API name. */
export type KeyTypeName = keyof typeof KEY_TYPES;

/** The API name of a key type that can be imported: every type but HMAC (generated inside the KMS only). */
export type ImportableKeyTypeName = Exclude<KeyTypeName, 'hmac' | 'hmac-sha256' | 'hmac-sha512'>;

/** The names of the key types that can be imported (every type but HMAC), in table order. */
export const IMPORTABLE_KEY_TYPE_NAMES: readonly KeyTypeName[] = Object.freeze(
  (Object.keys(KEY_TYPES) as KeyTypeName[]).filter((n) => KEY_TYPES[n].importable),
);

/** Thrown for a key type that does not exist or cannot be imported. Codes: `KEY_TYPE_UNKNOWN`, `KEY_TYPE_NOT_IMPORTABLE`. */
export class KeyTypeError extends ByokError {}

/** True when `name` is one of the 13 key types. */
export function isKeyTypeName(name: unknown): name is KeyTypeName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(KEY_TYPES, name);
}

/** Looks a key type up by name; throws `KEY_TYPE_UNKNOWN` listing the valid names. */
export function keyType(name: string): KeyType {
  if (!isKeyTypeName(name)) throw unknownKeyType(name, Object.keys(KEY_TYPES) as KeyTypeName[]);
  return KEY_TYPES[name];
}

/** `KEY_TYPE_UNKNOWN` listing `choices`, with a "did you mean" for a near miss (only our own name is shown). */
function unknownKeyType(name: unknown, choices: readonly KeyTypeName[]): KeyTypeError {
  const suggestion = typeof name === 'string' ? nearestName(name, choices) : undefined;
  return new KeyTypeError(
    'KEY_TYPE_UNKNOWN',
    `Unknown key type ${shownValue(name)}.${suggestion ? ` Did you mean "${suggestion}"?` : ''} Expected one of: ${choices.join(', ')}.`,
  );
}

/** The choice within 2 edits of `name` (case and separators ignored), if exactly one is nearest. */
function nearestName(name: string, choices: readonly KeyTypeName[]): KeyTypeName | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '');
  const wanted = norm(name);
  if (wanted.length === 0 || wanted.length > 32) return undefined;
  const scored = choices.map((choice) => ({ choice, d: editDistance(wanted, norm(choice)) })).sort((a, b) => a.d - b.d);
  return scored[0].d <= 2 && scored[1]?.d !== scored[0].d ? scored[0].choice : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = row;
  }
  return previous[b.length];
}

/**
 * Looks an importable key type up by name. HMAC types throw `KEY_TYPE_NOT_IMPORTABLE`: Thalassa Cloud
 * generates HMAC keys inside the KMS and does not accept their material from outside.
 */
export function importableKeyType(name: string): ImportableKeyType {
  // Unknown names are offered only the importable types: listing HMAC types there read as if they were choices.
  if (!isKeyTypeName(name)) throw unknownKeyType(name, IMPORTABLE_KEY_TYPE_NAMES);
  const type = keyType(name);
  if (!type.importable) {
    throw new KeyTypeError(
      'KEY_TYPE_NOT_IMPORTABLE',
      `Key type "${type.name}" cannot be imported: Thalassa Cloud does not accept HMAC key material from outside ` +
        `(HMAC keys are generated inside the KMS). Importable types: ${IMPORTABLE_KEY_TYPE_NAMES.join(', ')}. ` +
        `To use an HMAC key, create it in Thalassa Cloud without importKeyMaterial.`,
    );
  }
  return type;
}
