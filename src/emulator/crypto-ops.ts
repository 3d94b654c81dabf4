/**
 * The cryptography behind the emulator's key operations, on Node's `crypto` (OpenSSL):
 *
 * - symmetric encrypt/decrypt: the type's AEAD (AES-GCM or ChaCha20-Poly1305), 12-byte random nonce, 16-byte
 *   tag, no associated data; the ciphertext is `thalassa:v<N>:` + base64(nonce ‖ ciphertext ‖ tag);
 * - RSA encrypt/decrypt: RSA-OAEP with SHA-256 (and MGF1-SHA-256); `thalassa:v<N>:` + base64(ciphertext);
 * - sign/verify: ECDSA with the curve's hash (DER signatures), Ed25519 (pure, or Ed25519ctx with a context when
 *   this Node.js can do it), RSA-PSS (SHA-256 unless asked otherwise, salt length = digest length);
 * - HMAC with the type's hash.
 *
 * Material is the canonical form throughout: raw bytes, or PKCS#8 DER.
 */
import {
  type CipherGCMTypes, constants, createCipheriv, createDecipheriv, createHmac, createPrivateKey, createPublicKey, generateKeyPair,
  generateKeyPairSync, KeyObject, privateDecrypt, publicEncrypt, randomBytes, sign, timingSafeEqual, verify,
} from 'node:crypto';
import type { KeyType, SymmetricKeyType } from '../key-types';
import { badRequest } from './errors';

/** A fresh private key, generated off the event loop (RSA-4096 takes a while). */
export function generatePrivateKey(
  spec: { type: 'rsa'; modulusLength: number } | { type: 'ec'; namedCurve: string } | { type: 'ed25519' },
): Promise<KeyObject> {
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, _publicKey: KeyObject, privateKey: KeyObject): void => (err ? reject(err) : resolve(privateKey));
    if (spec.type === 'rsa') generateKeyPair('rsa', { modulusLength: spec.modulusLength }, done);
    else if (spec.type === 'ec') generateKeyPair('ec', { namedCurve: spec.namedCurve }, done);
    else generateKeyPair('ed25519', undefined, done);
  });
}

const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** Makes fresh canonical material for a key type: what "create without importKeyMaterial" and "rotate" store. */
export async function generateMaterial(type: KeyType): Promise<Buffer> {
  switch (type.category) {
    case 'symmetric':
    case 'hmac':
      return randomBytes(type.sizeBytes);
    case 'rsa':
      return (await generatePrivateKey({ type: 'rsa', modulusLength: type.modulusBits })).export({ format: 'der', type: 'pkcs8' });
    case 'ecdsa':
      return (await generatePrivateKey({ type: 'ec', namedCurve: type.namedCurve })).export({ format: 'der', type: 'pkcs8' });
    case 'eddsa':
      return (await generatePrivateKey({ type: 'ed25519' })).export({ format: 'der', type: 'pkcs8' });
  }
}

/** The prefix that says which key version a ciphertext belongs to. */
export function ciphertextPrefix(version: number): string {
  return `thalassa:v${version}:`;
}

/** Splits `thalassa:v<N>:<base64>`; a 400 for anything else. */
export function parseCiphertext(ciphertext: string): { version: number; data: Buffer } {
  const match = /^thalassa:v([1-9][0-9]{0,8}):([A-Za-z0-9+/]*={0,2})$/.exec(ciphertext);
  if (!match) throw badRequest('The ciphertext is not of the form "thalassa:v<version>:<base64>".');
  return { version: Number(match[1]), data: Buffer.from(match[2], 'base64') };
}

// ChaCha20-Poly1305 has the same AEAD interface (tag length, get/setAuthTag) as GCM in Node; the GCM
// overload gives it the right type.
function aead(type: SymmetricKeyType): CipherGCMTypes {
  return type.cipher as CipherGCMTypes;
}

function privateKeyOf(material: Buffer): KeyObject {
  return createPrivateKey({ key: material, format: 'der', type: 'pkcs8' });
}

/** Encrypts with one key version; returns the raw ciphertext (without prefix). */
export function encrypt(type: KeyType, material: Buffer, plaintext: Buffer): Buffer {
  if (type.category === 'symmetric') {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv(aead(type), material, nonce, { authTagLength: TAG_BYTES });
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([nonce, body, cipher.getAuthTag()]);
  }
  if (type.category === 'rsa') {
    const maxBytes = type.modulusBits / 8 - 2 * 32 - 2;
    if (plaintext.length > maxBytes) {
      throw badRequest(`RSA-OAEP with SHA-256 and a ${type.modulusBits}-bit key encrypts at most ${maxBytes} bytes; received ${plaintext.length}.`);
    }
    return publicEncrypt({ key: createPublicKey(privateKeyOf(material)), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, plaintext);
  }
  throw badRequest(`Key type ${type.name} does not support encrypt; use a symmetric or RSA key.`);
}

/** Decrypts a raw ciphertext (without prefix) with one key version. A 400 when it does not authenticate. */
export function decrypt(type: KeyType, material: Buffer, data: Buffer): Buffer {
  if (type.category === 'symmetric') return decryptSymmetric(type, material, data);
  if (type.category === 'rsa') {
    try {
      return privateDecrypt({ key: privateKeyOf(material), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, data);
    } catch {
      throw badRequest('The ciphertext does not decrypt with this key version: it was made with another key or is damaged.');
    }
  }
  throw badRequest(`Key type ${type.name} does not support decrypt; use a symmetric or RSA key.`);
}

function decryptSymmetric(type: SymmetricKeyType, material: Buffer, data: Buffer): Buffer {
  if (data.length < NONCE_BYTES + TAG_BYTES) throw badRequest(`The ciphertext is too short: at least ${NONCE_BYTES + TAG_BYTES} bytes (nonce and tag) are expected.`);
  const nonce = data.subarray(0, NONCE_BYTES);
  const tag = data.subarray(data.length - TAG_BYTES);
  try {
    const decipher = createDecipheriv(aead(type), material, nonce, { authTagLength: TAG_BYTES });
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(data.subarray(NONCE_BYTES, data.length - TAG_BYTES)), decipher.final()]);
  } catch {
    throw badRequest('The ciphertext does not decrypt with this key version: it was made with another key or is damaged.');
  }
}

/** Normalizes a hash name (`SHA-256`, `sha2-256`, `sha256`) to Node's; a 400 for anything else. */
export function parseSignHash(value: unknown): 'sha256' | 'sha384' | 'sha512' {
  const normalized = String(value).toLowerCase().replace(/[-_]/g, '').replace(/^sha2(256|384|512)$/, 'sha$1');
  if (normalized === 'sha256' || normalized === 'sha384' || normalized === 'sha512') return normalized;
  throw badRequest(`Unsupported hashAlgorithm ${JSON.stringify(String(value).slice(0, 32))}; expected sha256, sha384 or sha512.`);
}

function signParameters(type: KeyType, material: Buffer, hashAlgorithm: unknown): { hash: string | null; key: KeyObject; rsaPss: boolean } {
  switch (type.category) {
    case 'ecdsa':
      return { hash: hashAlgorithm === undefined ? type.hash : parseSignHash(hashAlgorithm), key: privateKeyOf(material), rsaPss: false };
    case 'rsa':
      return { hash: hashAlgorithm === undefined ? 'sha256' : parseSignHash(hashAlgorithm), key: privateKeyOf(material), rsaPss: true };
    case 'eddsa':
      // Ed25519 hashes internally (pure EdDSA); a hashAlgorithm does not apply and is ignored.
      return { hash: null, key: privateKeyOf(material), rsaPss: false };
    default:
      throw badRequest(`Key type ${type.name} does not support sign/verify; use an RSA, ECDSA or Ed25519 key.`);
  }
}

// `context` is not in every @types/node release; Node itself reads it where it supports it.
type ContextKeyInput = { key: KeyObject; context: Buffer };

let ed25519ctxProbe: boolean | undefined;

/**
 * Whether this Node.js signs Ed25519ctx (RFC 8032) when `crypto.sign` gets a `context`. Probed once, not
 * assumed: Node 20 accepts the option and silently ignores it (the signature is pure Ed25519), others may
 * throw. Only a signature that differs from the pure one, verifies with the context and fails without it counts.
 */
export function ed25519ctxAvailable(): boolean {
  if (ed25519ctxProbe === undefined) {
    try {
      const { privateKey, publicKey } = generateKeyPairSync('ed25519');
      const message = Buffer.from('ed25519ctx probe');
      const context = Buffer.from('probe');
      const withContext = sign(null, message, { key: privateKey, context } as ContextKeyInput);
      ed25519ctxProbe = !withContext.equals(sign(null, message, privateKey))
        && verify(null, message, { key: publicKey, context } as ContextKeyInput, withContext)
        && !verify(null, message, publicKey, withContext);
    } catch {
      ed25519ctxProbe = false;
    }
  }
  return ed25519ctxProbe;
}

/** A 400 unless a context can be used with this key type on this Node.js. */
function checkContext(type: KeyType): void {
  if (type.category !== 'eddsa') {
    throw badRequest(`"context" applies only to ed25519 keys (Ed25519ctx); key type ${type.name} signs without one. Leave "context" out.`);
  }
  if (!ed25519ctxAvailable()) {
    throw badRequest(
      `"context" needs Ed25519ctx, which the crypto of this emulator's Node.js (${process.version}) cannot do: it ignores or refuses a context `
        + 'for Ed25519 keys. Sign without a context (pure Ed25519), or run the emulator on a Node.js that supports Ed25519ctx.',
    );
  }
}

function signKeyInput(key: KeyObject, rsaPss: boolean, context: Buffer | undefined): KeyObject | ContextKeyInput | { key: KeyObject; padding: number; saltLength: number } {
  if (rsaPss) return { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST };
  return context === undefined ? key : { key, context };
}

/** Signs `input` (the message itself, not a digest); with `context`, Ed25519ctx (ed25519 keys only). */
export function signMessage(type: KeyType, material: Buffer, input: Buffer, hashAlgorithm: unknown, context?: Buffer): Buffer {
  const { hash, key, rsaPss } = signParameters(type, material, hashAlgorithm);
  if (context !== undefined) checkContext(type);
  return sign(hash, input, signKeyInput(key, rsaPss, context));
}

/** Verifies a signature made by {@link signMessage}, with the same `context` if it had one. */
export function verifySignature(type: KeyType, material: Buffer, input: Buffer, signature: Buffer, hashAlgorithm: unknown, context?: Buffer): boolean {
  const { hash, key, rsaPss } = signParameters(type, material, hashAlgorithm);
  if (context !== undefined) checkContext(type);
  const publicKey = createPublicKey(key);
  try {
    return verify(hash, input, signKeyInput(publicKey, rsaPss, context), signature);
  } catch {
    return false;
  }
}

/** The HMAC of `input` with an HMAC key version. */
export function hmac(type: KeyType, material: Buffer, input: Buffer): Buffer {
  if (type.category !== 'hmac') throw badRequest(`Key type ${type.name} does not support hmac; use an hmac, hmac-sha256 or hmac-sha512 key.`);
  return createHmac(type.hash, material).update(input).digest();
}

/** Constant-time check of an HMAC. */
export function verifyHmac(type: KeyType, material: Buffer, input: Buffer, mac: Buffer): boolean {
  const expected = hmac(type, material, input);
  return expected.length === mac.length && timingSafeEqual(expected, mac);
}

/** The SPKI PEM of an asymmetric key version. */
export function publicKeyPem(type: KeyType, material: Buffer): string {
  if (type.category === 'symmetric' || type.category === 'hmac') {
    throw badRequest(`Key type ${type.name} has no public key; public-key applies to RSA, ECDSA and Ed25519 keys.`);
  }
  return createPublicKey(privateKeyOf(material)).export({ format: 'pem', type: 'spki' }).toString();
}
