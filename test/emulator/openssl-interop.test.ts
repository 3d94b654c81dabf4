/**
 * Acceptance: a blob wrapped by the openssl command line (not by this package) imports for every importable
 * key type, and the emulator then demonstrably holds exactly that key — encrypt/decrypt, sign/verify and the
 * public key all check out locally against the material the test generated.
 */
import {
  constants, createDecipheriv, createCipheriv, createPrivateKey, createPublicKey, privateDecrypt, verify, type KeyObject,
} from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IMPORTABLE_KEY_TYPE_NAMES, KEY_TYPES, type KeyTypeName } from '../../src/key-types';
import { startEmulator, type RunningEmulator } from '../../src/emulator';
import { bindToken, call, keysPath, openssl, ORG, REGION, tempDir, TOKEN } from './harness';

let emulator: RunningEmulator;
let dir: { path: string; cleanup: () => void };

beforeAll(async () => {
  dir = tempDir();
  emulator = await startEmulator({ tokens: bindToken(TOKEN, ORG) });
  const res = await call(emulator.url, 'GET', `/v1/kms/${REGION}/wrapping-key`);
  expect(res.status).toBe(200);
  expect(res.json.publicKey).toMatch(/^-----BEGIN PUBLIC KEY-----/);
  expect(createPublicKey(res.json.publicKey).asymmetricKeyDetails?.modulusLength).toBe(4096);
  writeFileSync(join(dir.path, 'wk.pem'), res.json.publicKey);
});

afterAll(async () => {
  await emulator?.close();
  dir?.cleanup();
});

/** Makes canonical material for a type with openssl; returns its bytes. */
async function generateWithOpenssl(name: KeyTypeName, cwd: string): Promise<Buffer> {
  const type = KEY_TYPES[name];
  const out = `${name}.material`;
  switch (type.category) {
    case 'symmetric':
      await openssl(['rand', '-out', out, String(type.sizeBytes)], cwd);
      break;
    case 'rsa':
      await openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', `rsa_keygen_bits:${type.modulusBits}`, '-out', `${name}.pem`], cwd);
      break;
    case 'ecdsa':
      await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', `ec_paramgen_curve:${type.curve}`, '-out', `${name}.pem`], cwd);
      break;
    case 'eddsa':
      await openssl(['genpkey', '-algorithm', 'ED25519', '-out', `${name}.pem`], cwd);
      break;
    default:
      throw new Error(`not importable: ${name}`);
  }
  if (type.category !== 'symmetric') {
    await openssl(['pkcs8', '-topk8', '-nocrypt', '-in', `${name}.pem`, '-outform', 'DER', '-out', out], cwd);
  }
  return readFileSync(join(cwd, out));
}

/** Wraps a material file exactly as the API contract says, with openssl only. Returns base64 of the blob. */
async function wrapWithOpenssl(name: string, hash: string, cwd: string): Promise<string> {
  const eph = `${name}.eph`;
  await openssl(['rand', '-out', eph, '32'], cwd);
  const ephHex = readFileSync(join(cwd, eph)).toString('hex');
  await openssl(['enc', '-id-aes256-wrap-pad', '-K', ephHex, '-iv', 'A65959A6', '-in', `${name}.material`, '-out', `${name}.kwp`], cwd);
  await openssl(['pkeyutl', '-encrypt', '-pubin', '-inkey', 'wk.pem', '-in', eph, '-out', `${name}.oaep`,
    '-pkeyopt', 'rsa_padding_mode:oaep', '-pkeyopt', `rsa_oaep_md:${hash}`, '-pkeyopt', `rsa_mgf1_md:${hash}`], cwd);
  return Buffer.concat([readFileSync(join(cwd, `${name}.oaep`)), readFileSync(join(cwd, `${name}.kwp`))]).toString('base64');
}

const HASHES = ['sha256', 'sha384', 'sha512', 'sha1'];

describe.each(IMPORTABLE_KEY_TYPE_NAMES.map((name, i) => [name, HASHES[i % HASHES.length]] as const))('openssl-wrapped %s (%s)', (name, hash) => {
  it('imports, and the emulator holds exactly that key', async () => {
    const type = KEY_TYPES[name];
    const material = await generateWithOpenssl(name, dir.path);
    const blob = await wrapWithOpenssl(name, hash, dir.path);
    const created = await call(emulator.url, 'POST', keysPath(), {
      body: { name: `interop-${name}`, keyType: name, importKeyMaterial: blob, hashFunction: hash, exportAllowed: true },
    });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ name: `interop-${name}`, keyType: name, imported: true, status: 'active', exportAllowed: true });
    // versions, not latestVersion: the strict emulator leaves latestVersion out, as the real API may.
    expect((created.json.versions as { version: number }[]).map((v) => v.version)).toEqual([1]);
    // The official client's KmsKey has no allowRotation: the emulator does not invent it.
    expect(created.json).not.toHaveProperty('allowRotation');
    expect(created.text).not.toContain(blob.slice(0, 40));
    const id = created.json.identity as string;
    const op = (suffix: string, body: unknown): ReturnType<typeof call> => call(emulator.url, 'POST', keysPath(`/${id}/${suffix}`), { body });

    const exported = await op('export', {});
    expect(exported.status).toBe(200);
    expect(Buffer.from(exported.json.keyMaterial, 'base64').equals(material)).toBe(true);

    const message = Buffer.from(`a message for ${name}`);
    if (type.category === 'symmetric') {
      const enc = await op('encrypt', { plaintext: message.toString('base64') });
      expect(enc.status).toBe(200);
      // keyVersion is omitempty (strict mode leaves it out); the ciphertext's prefix names the version anyway.
      if (enc.json.keyVersion !== undefined) expect(enc.json.keyVersion).toBe('1');
      const m = /^thalassa:v1:(.+)$/.exec(enc.json.ciphertext);
      expect(m).not.toBeNull();
      const data = Buffer.from(m![1], 'base64');
      const decipher = createDecipheriv(type.cipher as 'aes-256-gcm', material, data.subarray(0, 12), { authTagLength: 16 });
      decipher.setAuthTag(data.subarray(data.length - 16));
      expect(Buffer.concat([decipher.update(data.subarray(12, data.length - 16)), decipher.final()]).equals(message)).toBe(true);

      // And the other way round: a ciphertext made locally decrypts in the emulator.
      const nonce = Buffer.alloc(12, 7);
      const cipher = createCipheriv(type.cipher as 'aes-256-gcm', material, nonce, { authTagLength: 16 });
      const local = Buffer.concat([nonce, cipher.update(message), cipher.final(), cipher.getAuthTag()]);
      const dec = await op('decrypt', { ciphertext: `thalassa:v1:${local.toString('base64')}` });
      expect(dec.status).toBe(200);
      expect(Buffer.from(dec.json.plaintext, 'base64').equals(message)).toBe(true);

      expect((await call(emulator.url, 'GET', keysPath(`/${id}/public-key`))).status).toBe(400);
      return;
    }

    const privateKey: KeyObject = createPrivateKey({ key: material, format: 'der', type: 'pkcs8' });
    const publicKey = createPublicKey(privateKey);
    const pub = await call(emulator.url, 'GET', keysPath(`/${id}/public-key`));
    expect(pub.status).toBe(200);
    expect(Object.keys(pub.json.keys)).toEqual(['1']);
    const served = createPublicKey(pub.json.keys['1']).export({ format: 'der', type: 'spki' });
    expect(served.equals(publicKey.export({ format: 'der', type: 'spki' }))).toBe(true);

    const signed = await op('sign', { input: message.toString('base64') });
    expect(signed.status).toBe(200);
    const signature = Buffer.from(signed.json.signature, 'base64');
    if (type.category === 'rsa') {
      expect(verify('sha256', message, { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, signature)).toBe(true);
      const enc = await op('encrypt', { plaintext: message.toString('base64') });
      expect(enc.status).toBe(200);
      const data = Buffer.from(/^thalassa:v1:(.+)$/.exec(enc.json.ciphertext)![1], 'base64');
      expect(privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, data).equals(message)).toBe(true);
    } else if (type.category === 'ecdsa') {
      expect(verify(type.hash, message, publicKey, signature)).toBe(true);
    } else {
      expect(verify(null, message, publicKey, signature)).toBe(true);
    }
    // The emulator agrees with itself, and rejects a damaged signature.
    expect((await op('verify', { input: message.toString('base64'), signature: signed.json.signature })).json.valid).toBe(true);
    signature[signature.length - 1] ^= 1;
    expect((await op('verify', { input: message.toString('base64'), signature: signature.toString('base64') })).json.valid).toBe(false);
  });
});
