/**
 * Proves that a key in Thalassa Cloud KMS (or the emulator) holds material we know, without ever sending or
 * printing that material: the API encrypts or signs, and the result is decrypted or verified here, with the
 * local copy of the key; for asymmetric keys the API's public key must equal the material's public half.
 *
 * Used by the demo (`npm run demo`) and the end-to-end tests. Formats: `docs/emulator.md`, "Operations and
 * formats".
 */
import {
  type CipherGCMTypes, constants, createCipheriv, createDecipheriv, createPublicKey, privateDecrypt, randomBytes, verify, type KeyObject,
} from 'node:crypto';
import type { KmsClient, KmsKey } from '../src/api';
import { importableKeyType } from '../src/key-types';

/** The local copy of a key: the raw bytes of a symmetric key, or the private key of a pair. */
export type KnownMaterial =
  | { readonly kind: 'symmetric'; readonly secret: Buffer }
  | { readonly kind: 'asymmetric'; readonly privateKey: KeyObject };

/** Thrown when a check fails; the message names the key and the check, never material. */
export class KeyProofError extends Error {
  constructor(public readonly keyName: string, public readonly check: string, detail: string) {
    super(`Key "${keyName}": ${check} failed: ${detail}`);
    this.name = 'KeyProofError';
  }
}

const CIPHERTEXT = /^thalassa:v([0-9]+):([A-Za-z0-9+/]+={0,2})$/;

/**
 * Runs every check that fits the key's type against `key` (as the API describes it) and returns one line per
 * check that passed. Throws {@link KeyProofError} at the first that fails.
 */
export async function proveKeyHoldsMaterial(client: KmsClient, region: string, key: KmsKey, material: KnownMaterial): Promise<string[]> {
  const type = importableKeyType(key.keyType);
  const passed: string[] = [];
  const fail = (check: string, detail: string): never => {
    throw new KeyProofError(key.name, check, detail);
  };
  if (key.imported !== true) fail('imported', `the API reports imported ${String(key.imported)}`);
  if (key.status !== 'active') fail('status', `the API reports status ${key.status}`);
  passed.push('imported: true, active');

  const message = randomBytes(48);
  if (type.category === 'symmetric') {
    if (material.kind !== 'symmetric') return fail('material', 'a symmetric key needs symmetric material');
    // Node types ChaCha20-Poly1305 apart from GCM, but both take the same AEAD options.
    const aead = type.cipher as CipherGCMTypes;
    const { ciphertext } = await client.encrypt(region, key.identity, message.toString('base64'));
    const match = CIPHERTEXT.exec(ciphertext) ?? fail('encrypt', 'the ciphertext is not thalassa:v<N>:<base64>');
    const data = Buffer.from(match[2], 'base64');
    if (data.length < 12 + 16) fail('encrypt', `the ciphertext has only ${data.length} bytes`);
    const decipher = createDecipheriv(aead, material.secret, data.subarray(0, 12), { authTagLength: 16 });
    decipher.setAuthTag(data.subarray(data.length - 16));
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(data.subarray(12, data.length - 16)), decipher.final()]);
    } catch {
      return fail('local decrypt', `the API's ${type.cipher} ciphertext does not authenticate under the local key`);
    }
    if (!plain.equals(message)) fail('local decrypt', 'the decrypted text differs');
    passed.push(`encrypt via API, decrypt locally (${type.cipher})`);

    const nonce = randomBytes(12);
    const cipher = createCipheriv(aead, material.secret, nonce, { authTagLength: 16 });
    const local = Buffer.concat([nonce, cipher.update(message), cipher.final(), cipher.getAuthTag()]);
    const decrypted = await client.decrypt(region, key.identity, `thalassa:v${match[1]}:${local.toString('base64')}`);
    if (!Buffer.from(decrypted.plaintext, 'base64').equals(message)) fail('API decrypt', 'the API decrypted another text');
    passed.push('encrypt locally, decrypt via API');
    return passed;
  }

  if (material.kind !== 'asymmetric') return fail('material', 'an asymmetric key needs a private key');
  const localPublic = createPublicKey(material.privateKey).export({ type: 'spki', format: 'der' });
  const keys = await client.publicKeys(region, key.identity);
  const pem = keys[String(key.latestVersion ?? 1)] ?? Object.values(keys)[0] ?? fail('public key', 'the API returned no public key');
  if (!createPublicKey(pem).export({ type: 'spki', format: 'der' }).equals(localPublic)) fail('public key', "the API's public key differs from the material's public half");
  passed.push("API public key = material's public half");

  const { signature } = await client.sign(region, key.identity, { input: message.toString('base64') });
  const sig = Buffer.from(signature, 'base64');
  const publicKey = createPublicKey(material.privateKey);
  let valid: boolean;
  let scheme: string;
  if (type.category === 'rsa') {
    valid = verify('sha256', message, { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, sig);
    scheme = 'RSA-PSS SHA-256';
  } else if (type.category === 'ecdsa') {
    valid = verify(type.hash, message, publicKey, sig);
    scheme = `ECDSA ${type.hash.toUpperCase()}`;
  } else {
    valid = verify(null, message, publicKey, sig);
    scheme = 'Ed25519';
  }
  if (!valid) fail('local verify', `the API's ${scheme} signature does not verify under the material's public key`);
  passed.push(`sign via API, verify locally (${scheme})`);

  if (type.category === 'rsa') {
    const { ciphertext } = await client.encrypt(region, key.identity, message.toString('base64'));
    const match = CIPHERTEXT.exec(ciphertext) ?? fail('encrypt', 'the ciphertext is not thalassa:v<N>:<base64>');
    let plain: Buffer;
    try {
      plain = privateDecrypt({ key: material.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, Buffer.from(match[2], 'base64'));
    } catch {
      return fail('local decrypt', "the API's RSA-OAEP ciphertext does not decrypt under the local private key");
    }
    if (!plain.equals(message)) fail('local decrypt', 'the decrypted text differs');
    passed.push('encrypt via API, decrypt locally (RSA-OAEP SHA-256)');
  }
  return passed;
}
