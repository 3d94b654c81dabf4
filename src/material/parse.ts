/**
 * Turns user-supplied key material into the canonical import format of a key type (raw bytes for symmetric
 * keys, PKCS#8 DER for asymmetric ones) and validates it strictly against that type.
 *
 * Inputs are handled as bytes throughout; error messages describe inputs by size and shape only.
 */
import { shownValue } from '../disclosure';
import { createPrivateKey, createPublicKey, KeyObject, X509Certificate } from 'node:crypto';
import type { ImportableKeyType } from '../key-types';
import { KeyMaterialError } from './errors';
import { derSequenceLength } from './der';
import { spkiFingerprint } from './fingerprint';
import { ED25519_PKCS8_PREFIX, readEd25519Seed, readWellFormedKey, type WellFormedKey } from './well-formed-keys';
import { asText, decodeText, describeInput, formatError, parseJwk } from './input-text';
import { lengthError, normalizeSymmetric } from './symmetric';

/**
 * How the material is encoded. `auto` (the default) recognises every other format from the input itself.
 *
 * - `raw`: the key bytes themselves (symmetric keys), or a raw 32-byte Ed25519 seed.
 * - `hex`, `base64`: text encodings of raw bytes (base64url accepted too); surrounding whitespace is ignored.
 * - `pem`: PKCS#8 (`PRIVATE KEY`, `ENCRYPTED PRIVATE KEY`), PKCS#1 (`RSA PRIVATE KEY`) or SEC1 (`EC PRIVATE KEY`).
 * - `der`: the binary form of the same three structures.
 * - `jwk`: a JSON Web Key with its private part (`d`, or `k` for `kty: "oct"`).
 * - `seed`: an Ed25519 private seed: 32 bytes, as raw, hex or base64.
 */
export type MaterialFormat = 'auto' | 'raw' | 'hex' | 'base64' | 'pem' | 'der' | 'jwk' | 'seed';

export const MATERIAL_FORMATS: readonly MaterialFormat[] = ['auto', 'raw', 'hex', 'base64', 'pem', 'der', 'jwk', 'seed'];

/** Options that say how to read key material. */
export interface MaterialParseOptions {
  /** @default 'auto' */
  readonly format?: MaterialFormat;
  /** The passphrase of an encrypted PKCS#8 key. Prefer `passphraseEnv` in code that is committed. */
  readonly passphrase?: string;
  /** Where the passphrase came from, for error messages (e.g. `environment variable KEY_PASS`). */
  readonly passphraseSource?: string;
}

/**
 * Normalizes `input` to the canonical import bytes of `type`, validating it strictly.
 * Throws {@link KeyMaterialError} naming what was expected and what was received.
 */
export function normalizeMaterial(input: Uint8Array, type: ImportableKeyType, options: MaterialParseOptions = {}): Buffer {
  return normalizeMaterialKey(input, type, options).canonical;
}

/**
 * {@link normalizeMaterial}, and for asymmetric types the fingerprint of the key it parsed: computing it here
 * saves parsing the canonical bytes again (OpenSSL takes ~0.5 ms per parse, the largest per-key cost of a synth).
 */
export function normalizeMaterialKey(input: Uint8Array, type: ImportableKeyType, options: MaterialParseOptions = {}): { canonical: Buffer; fingerprint?: string } {
  const bytes = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  const format = options.format ?? 'auto';
  if (!MATERIAL_FORMATS.includes(format)) {
    throw new KeyMaterialError('MATERIAL_FORMAT', `Unknown material format ${shownValue(format)}. Expected one of: ${MATERIAL_FORMATS.join(', ')}.`);
  }
  if (bytes.length === 0) {
    throw new KeyMaterialError('MATERIAL_SOURCE', `Key material for ${type.name} is empty (0 bytes).`);
  }
  if (type.category === 'symmetric') return { canonical: normalizeSymmetric(bytes, type, format) };
  const resolved = format === 'auto' ? detectAsymmetricFormat(bytes, type) : format;
  const text = resolved === 'pem' ? asText(bytes) : undefined;
  const wellFormed = resolved === 'der' ? readWellFormedKey({ der: bytes }, type) : text !== undefined ? readWellFormedKey({ pem: text }, type) : undefined;
  if (wellFormed !== undefined) return wellFormed;
  if (type.category === 'eddsa' && (resolved === 'seed' || resolved === 'raw')) {
    const seed = seedOf(bytes, type, resolved);
    let fromSeed: WellFormedKey | undefined;
    try {
      fromSeed = readEd25519Seed(seed);
    } finally {
      if (seed !== bytes) seed.fill(0);
    }
    if (fromSeed !== undefined) return fromSeed;
  }
  const privateKey = checkPrivateKey(toPrivateKey(bytes, type, resolved, options), type);
  return { canonical: exportPkcs8(privateKey), fingerprint: spkiFingerprint(privateKey) };
}

/**
 * Validates bytes that claim to be in canonical form already (what an importer receives after unwrapping),
 * without any format guessing. Returns the parsed private key for asymmetric types.
 */
export function parseCanonicalMaterial(canonical: Uint8Array, type: ImportableKeyType): KeyObject | undefined {
  const bytes = Buffer.from(canonical.buffer, canonical.byteOffset, canonical.byteLength);
  if (type.category === 'symmetric') {
    if (bytes.length !== type.sizeBytes) throw lengthError(type, bytes.length, 'raw');
    return undefined;
  }
  // OpenSSL ignores bytes after the outer SEQUENCE; an importer must not, or junk would be stored and
  // exported as part of the key.
  const encoded = derSequenceLength(bytes);
  if (encoded !== undefined && encoded !== bytes.length) {
    throw new KeyMaterialError('MATERIAL_FORMAT', `Expected exactly one PKCS#8 DER private key for ${type.name}; received ${bytes.length} bytes of which the key takes ${encoded}.`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: bytes, format: 'der', type: 'pkcs8' });
  } catch {
    throw new KeyMaterialError('MATERIAL_FORMAT', `Expected a PKCS#8 DER private key for ${type.name}; received ${bytes.length} bytes that are not PKCS#8 DER.`);
  }
  return checkPrivateKey(key, type);
}

/** The private key in `bytes`, read as `format` (already resolved from `auto` by the caller). */
function toPrivateKey(bytes: Buffer, type: ImportableKeyType, resolved: MaterialFormat, options: MaterialParseOptions): KeyObject {
  switch (resolved) {
    case 'pem':
      return fromPem(bytes, type, options);
    case 'der':
      return fromDer(bytes, type, options);
    case 'jwk':
      return fromJwk(bytes, type);
    case 'seed':
    case 'raw':
      return fromSeed(bytes, type, resolved);
    default:
      throw formatError(type, 'pem, der, jwk (or seed for ed25519)', `format "${resolved}" (a format for symmetric keys)`);
  }
}

function detectAsymmetricFormat(bytes: Buffer, type: ImportableKeyType): MaterialFormat {
  const text = asText(bytes);
  const trimmed = text?.trim();
  if (trimmed?.startsWith('-----BEGIN')) return 'pem';
  if (trimmed?.startsWith('{')) return 'jwk';
  if (type.category === 'eddsa' && (bytes.length === 32 || trimmed?.length === 64 || trimmed?.length === 43 || trimmed?.length === 44)) return 'seed';
  if (bytes[0] === 0x30) return 'der';
  throw formatError(type, expectedAsymmetric(type), describeInput(bytes));
}

function fromPem(bytes: Buffer, type: ImportableKeyType, options: MaterialParseOptions): KeyObject {
  const text = asText(bytes);
  // The private key's block, not just the first one: `openssl ecparam -genkey` writes EC PARAMETERS before it.
  const labels = text ? [...text.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----/g)].map((m) => m[1]) : [];
  const label = labels.find((l) => /PRIVATE KEY$/.test(l)) ?? labels[0];
  if (!text || !label) throw formatError(type, 'a PEM private key', describeInput(bytes));
  if (/PUBLIC KEY|CERTIFICATE/.test(label)) throw notPrivate(type, `a PEM "${label}"`);
  if (!/PRIVATE KEY$/.test(label)) throw formatError(type, 'a PEM private key (PRIVATE KEY, ENCRYPTED PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY)', `a PEM "${label}"`);
  if (!text.includes(`-----END ${label}-----`)) throw formatError(type, 'a complete PEM private key', `a PEM "${label}" without its END line (truncated?)`);
  const encrypted = label === 'ENCRYPTED PRIVATE KEY' || /Proc-Type:\s*4,ENCRYPTED/.test(text);
  if (encrypted && options.passphrase === undefined) {
    throw new KeyMaterialError(
      'MATERIAL_PASSPHRASE_MISSING',
      `The ${type.name} key is an encrypted PEM ("${label}") and no passphrase was given. ` +
        `Set passphraseEnv to the name of an environment variable holding it (CLI: --passphrase-env VAR).`,
    );
  }
  try {
    return createPrivateKey({ key: text, format: 'pem', passphrase: encrypted ? options.passphrase : undefined });
  } catch (err) {
    if (encrypted) throw wrongPassphrase(type, options);
    throw formatError(type, `a valid PEM "${label}"`, `one that does not parse (${opensslReason(err)}): is it damaged or cut short, or a key of another type?`);
  }
}

function fromDer(bytes: Buffer, type: ImportableKeyType, options: MaterialParseOptions): KeyObject {
  const attempts: ({ type: 'pkcs8' | 'pkcs1' | 'sec1' })[] = [{ type: 'pkcs8' }];
  if (type.category === 'rsa') attempts.push({ type: 'pkcs1' });
  if (type.category === 'ecdsa') attempts.push({ type: 'sec1' });
  let encrypted = false;
  for (const attempt of attempts) {
    try {
      return createPrivateKey({ key: bytes, format: 'der', type: attempt.type });
    } catch (err) {
      // an EncryptedPrivateKeyInfo parses far enough for OpenSSL to ask for its passphrase
      if ((err as { code?: string }).code === 'ERR_MISSING_PASSPHRASE') encrypted = true;
    }
  }
  if (encrypted && options.passphrase === undefined) {
    throw new KeyMaterialError(
      'MATERIAL_PASSPHRASE_MISSING',
      `The ${type.name} key is an encrypted PKCS#8 DER and no passphrase was given. ` +
        `Set passphraseEnv to the name of an environment variable holding it (CLI: --passphrase-env VAR).`,
    );
  }
  if (options.passphrase !== undefined) {
    try {
      return createPrivateKey({ key: bytes, format: 'der', type: 'pkcs8', passphrase: options.passphrase });
    } catch {
      throw wrongPassphrase(type, options);
    }
  }
  const publicDer = describePublicDer(bytes);
  if (publicDer !== undefined) throw notPrivate(type, publicDer);
  throw formatError(type, expectedAsymmetric(type), `${bytes.length} bytes that are not a DER private key`);
}

function fromJwk(bytes: Buffer, type: ImportableKeyType): KeyObject {
  const jwk = parseJwk(bytes, type);
  if (typeof jwk.kty !== 'string') throw formatError(type, 'a JWK with a "kty" member', 'JSON without "kty"');
  if (jwk.d === undefined && jwk.kty !== 'oct') throw notPrivate(type, `a public JWK (kty ${shownValue(jwk.kty)}, no "d")`);
  try {
    return createPrivateKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' });
  } catch (err) {
    throw formatError(type, `a valid private JWK for ${type.name}`, `a JWK with kty ${shownValue(jwk.kty)} that does not import (${opensslReason(err)})`);
  }
}

function fromSeed(bytes: Buffer, type: ImportableKeyType, format: 'seed' | 'raw'): KeyObject {
  const seed = seedOf(bytes, type, format);
  const pkcs8 = Buffer.concat([ED25519_PKCS8_PREFIX, seed]);
  try {
    return createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
  } finally {
    pkcs8.fill(0);
    if (seed !== bytes) seed.fill(0);
  }
}

/** The 32-byte Ed25519 seed in `bytes` (itself, or decoded from hex or base64 for `seed`). */
function seedOf(bytes: Buffer, type: ImportableKeyType, format: 'seed' | 'raw'): Buffer {
  if (type.category !== 'eddsa') {
    throw formatError(type, expectedAsymmetric(type), `format "${format}" (raw seeds exist only for ed25519)`);
  }
  let seed: Buffer | undefined = bytes.length === 32 ? bytes : undefined;
  if (seed === undefined && format === 'seed') {
    seed = decodeText(bytes, 'hex') ?? decodeText(bytes, 'base64');
  }
  if (seed === undefined || seed.length !== 32) {
    const received = seed?.length ?? bytes.length;
    seed?.fill(0);
    throw new KeyMaterialError(
      'MATERIAL_LENGTH',
      `An ed25519 seed must be exactly 32 bytes (or 64 hex / 43-44 base64 characters); received ${received} bytes.`,
    );
  }
  return seed;
}

/** Checks a parsed private key against the type: algorithm, RSA modulus size, EC curve. */
function checkPrivateKey(key: KeyObject, type: ImportableKeyType): KeyObject {
  if (key.type !== 'private') throw notPrivate(type, `a ${key.type} key`);
  const algorithm = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails ?? {};
  switch (type.category) {
    case 'rsa':
      if (algorithm !== 'rsa') throw algorithmError(type, algorithm, details.namedCurve);
      if (details.modulusLength !== type.modulusBits) {
        throw new KeyMaterialError(
          'MATERIAL_RSA_SIZE',
          `Key type ${type.name} needs an RSA key with a ${type.modulusBits}-bit modulus; received an RSA key with a ${details.modulusLength}-bit modulus. ` +
            `Use key type rsa-${details.modulusLength} if that size is intended.`,
        );
      }
      return key;
    case 'ecdsa':
      if (algorithm !== 'ec') throw algorithmError(type, algorithm, undefined);
      if (details.namedCurve !== type.namedCurve) {
        throw new KeyMaterialError(
          'MATERIAL_CURVE',
          `Key type ${type.name} needs an EC key on curve ${type.curve} (${type.namedCurve}); received an EC key on curve ${details.namedCurve ?? 'unknown'}.`,
        );
      }
      return key;
    case 'eddsa':
      if (algorithm !== 'ed25519') throw algorithmError(type, algorithm, details.namedCurve);
      return key;
    default:
      throw new Error(`unreachable: ${type.category}`);
  }
}

function exportPkcs8(key: KeyObject): Buffer {
  return key.export({ format: 'der', type: 'pkcs8' });
}

/** 'a DER …' when the bytes are a public key (SPKI or PKCS#1) or a certificate; undefined otherwise. */
function describePublicDer(bytes: Buffer): string | undefined {
  for (const type of ['spki', 'pkcs1'] as const) {
    try {
      createPublicKey({ key: bytes, format: 'der', type });
      return `a DER public key (${type === 'spki' ? 'SubjectPublicKeyInfo' : 'PKCS#1 RSAPublicKey'})`;
    } catch {
      // not this structure
    }
  }
  try {
    new X509Certificate(bytes);
    return 'a DER X.509 certificate';
  } catch {
    return undefined;
  }
}

function expectedAsymmetric(type: ImportableKeyType): string {
  const base = 'a private key as PEM, DER (PKCS#8';
  if (type.category === 'rsa') return `${base}, PKCS#1) or JWK`;
  if (type.category === 'ecdsa') return `${base}, SEC1) or JWK`;
  return `${base}), JWK or a raw 32-byte seed`;
}

function notPrivate(type: ImportableKeyType, received: string): KeyMaterialError {
  return new KeyMaterialError(
    'MATERIAL_NOT_PRIVATE',
    `Key type ${type.name} needs the private key; received ${received}. Importing requires the private half: export the private key from your key source.`,
  );
}

/** Node's `asymmetricKeyType`s as a message names them, with their article (as the letters are read). */
const ALGORITHM_NAMES: Readonly<Record<string, string>> = {
  'rsa': 'an RSA key', 'rsa-pss': 'an RSA-PSS key', 'dsa': 'a DSA key', 'dh': 'a DH key', 'ed25519': 'an Ed25519 key',
  'ed448': 'an Ed448 key', 'x25519': 'an X25519 key', 'x448': 'an X448 key',
};

function algorithmError(type: ImportableKeyType, algorithm: string | undefined, curve: string | undefined): KeyMaterialError {
  const wanted = type.category === 'rsa' ? 'an RSA' : type.category === 'ecdsa' ? 'an EC (ECDSA)' : 'an Ed25519';
  const got = algorithm === 'ec' ? `an EC key${curve ? ` on ${curve}` : ''}` : ALGORITHM_NAMES[algorithm ?? ''] ?? `a key of type ${shownValue(algorithm ?? 'unknown')}`;
  return new KeyMaterialError('MATERIAL_ALGORITHM', `Key type ${type.name} needs ${wanted} private key; received ${got}.`);
}

function wrongPassphrase(type: ImportableKeyType, options: MaterialParseOptions): KeyMaterialError {
  const from = options.passphraseSource ? ` from ${options.passphraseSource}` : '';
  return new KeyMaterialError(
    'MATERIAL_PASSPHRASE_WRONG',
    `The encrypted ${type.name} key could not be decrypted with the passphrase${from}: the passphrase is wrong or the key is damaged.`,
  );
}

/** OpenSSL's reason text (e.g. "bad decrypt"), which describes the failure without echoing input. */
function opensslReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const reason = /::([^:]+)$/.exec(message)?.[1] ?? (err as { code?: string }).code ?? 'unknown error';
  return reason.slice(0, 80);
}
