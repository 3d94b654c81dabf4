/**
 * SoftHSM2's CKM_AES_KEY_WRAP_PAD zero-pads the data to a multiple of 8 before the key wrap, so a P-256 PKCS#8
 * unwraps with zero bytes after it. The emulator accepts that narrowly (docs/emulator.md); every other trailing
 * byte stays refused. Over real HTTP, with blobs in the project's wrap format.
 */
import { createPublicKey, generateKeyPairSync, randomBytes, verify } from 'node:crypto';
import { startEmulator, type RunningEmulator } from '../../src/emulator';
import { stripKwpZeroPadding } from '../../src/emulator/kwp-zero-padding';
import { KEY_TYPES } from '../../src/key-types';
import { WrappingKey, wrap } from '../../src/wrapping';
import { bindToken, call, keysPath, ORG, REGION, TOKEN, type ApiResponse } from './harness';

let emulator: RunningEmulator;
let wrappingKey: WrappingKey;

beforeAll(async () => {
  emulator = await startEmulator({ tokens: bindToken(TOKEN, ORG) });
  wrappingKey = WrappingKey.fromApiResponse((await call(emulator.url, 'GET', `/v1/kms/${REGION}/wrapping-key`)).json);
});

afterAll(async () => {
  await emulator?.close();
});

let counter = 0;

async function importRaw(plaintext: Buffer, keyType: string, hash = 'sha1'): Promise<ApiResponse> {
  const body = {
    name: `kwp-pad-${++counter}`, keyType, exportAllowed: true, hashFunction: hash,
    importKeyMaterial: wrap(plaintext, wrappingKey, { hash }).toString('base64'),
  };
  return call(emulator.url, 'POST', keysPath(), { body });
}

/** A P-256 PKCS#8 without the optional public key, 67 bytes: the shape SoftHSM2 wraps. */
function p256Pkcs8WithoutPublicKey(): { der: Buffer; publicSpki: Buffer } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const d = Buffer.from(privateKey.export({ format: 'jwk' }).d as string, 'base64url');
  const der = Buffer.concat([
    Buffer.from('3041020100301306072a8648ce3d020106082a8648ce3d030107042730250201010420', 'hex'),
    d,
  ]);
  return { der, publicSpki: publicKey.export({ format: 'der', type: 'spki' }) };
}

const zeros = (n: number): Buffer => Buffer.alloc(n);

async function exported(identity: string): Promise<Buffer> {
  const res = await call(emulator.url, 'POST', keysPath(`/${identity}/export`), { body: {} });
  expect(res.status).toBe(200);
  return Buffer.from(res.json.keyMaterial, 'base64');
}

describe('import of zero-padded PKCS#8 (SoftHSM2 CKM_AES_KEY_WRAP_PAD)', () => {
  it('accepts a 67-byte P-256 PKCS#8 followed by 5 zero bytes, stores the 67 bytes, and the key signs', async () => {
    const { der, publicSpki } = p256Pkcs8WithoutPublicKey();
    expect(der.length).toBe(67);
    const res = await importRaw(Buffer.concat([der, zeros(5)]), 'ecdsa-p256');
    expect(res.status).toBe(201);
    expect(await exported(res.json.identity)).toEqual(der);
    const input = randomBytes(40);
    const signed = await call(emulator.url, 'POST', keysPath(`/${res.json.identity}/sign`), { body: { input: input.toString('base64') } });
    expect(signed.status).toBe(200);
    const publicKey = createPublicKey({ key: publicSpki, format: 'der', type: 'spki' });
    expect(verify('sha256', input, publicKey, Buffer.from(signed.json.signature, 'base64'))).toBe(true);
  });

  it('accepts a Node-exported P-256 PKCS#8 (138 bytes) padded to 144', async () => {
    const der = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'der', type: 'pkcs8' });
    expect(der.length % 8).not.toBe(0);
    const res = await importRaw(Buffer.concat([der, zeros(8 - (der.length % 8))]), 'ecdsa-p256', 'sha256');
    expect(res.status).toBe(201);
    expect(await exported(res.json.identity)).toEqual(der);
  });

  it('refuses 8 zero bytes after a PKCS#8 whose length is already a multiple of 8 (Ed25519, 48 bytes)', async () => {
    const der = generateKeyPairSync('ed25519').privateKey.export({ format: 'der', type: 'pkcs8' });
    expect(der.length).toBe(48);
    const res = await importRaw(Buffer.concat([der, zeros(8)]), 'ed25519');
    expect(res.status).toBe(400);
    expect(res.json.message).toMatch(/does not match keyType ed25519.*received 56 bytes of which the key takes 48/);
  });

  it('refuses 13 zero bytes (more than a pad to 8 adds), though the total is a multiple of 8', async () => {
    const { der } = p256Pkcs8WithoutPublicKey();
    const res = await importRaw(Buffer.concat([der, zeros(13)]), 'ecdsa-p256');
    expect(res.status).toBe(400);
    expect(res.json.message).toMatch(/received 80 bytes of which the key takes 67/);
  });

  it('refuses padding that holds a non-zero byte', async () => {
    const { der } = p256Pkcs8WithoutPublicKey();
    for (const tail of [Buffer.from([0, 0, 0, 0, 1]), Buffer.from([0x80, 0, 0, 0, 0])]) {
      const res = await importRaw(Buffer.concat([der, tail]), 'ecdsa-p256');
      expect(res.status).toBe(400);
      expect(res.json.message).toMatch(/received 72 bytes of which the key takes 67/);
    }
  });

  it('refuses zero bytes when the unwrapped length is not a multiple of 8', async () => {
    const { der } = p256Pkcs8WithoutPublicKey();
    const res = await importRaw(Buffer.concat([der, zeros(3)]), 'ecdsa-p256');
    expect(res.status).toBe(400);
    expect(res.json.message).toMatch(/received 70 bytes of which the key takes 67/);
  });

  it('never strips a symmetric key: 16 bytes that look like a DER SEQUENCE plus 3 zeros are the AES-128 key itself', async () => {
    const material = Buffer.concat([Buffer.from([0x30, 0x0b]), randomBytes(11), zeros(3)]);
    const res = await importRaw(material, 'aes128-gcm96');
    expect(res.status).toBe(201);
    expect(await exported(res.json.identity)).toEqual(material);
  });

  it('refuses a padded symmetric key as the wrong length', async () => {
    const res = await importRaw(Buffer.concat([randomBytes(16), zeros(8)]), 'aes128-gcm96');
    expect(res.status).toBe(400);
    expect(res.json.message).toMatch(/does not match keyType aes128-gcm96.*exactly 16 bytes/);
  });
});

describe('stripKwpZeroPadding (the rule itself)', () => {
  const der = p256Pkcs8WithoutPublicKey().der;

  it('returns a copy without the zeros and zeroes the input', () => {
    const padded = Buffer.concat([der, zeros(5)]);
    const stripped = stripKwpZeroPadding(padded, KEY_TYPES['ecdsa-p256']);
    expect(stripped).toEqual(der);
    expect(padded.every((b) => b === 0)).toBe(true);
  });

  it('leaves everything else untouched for the canonical check to judge', () => {
    for (const input of [der, Buffer.concat([der, zeros(13)]), Buffer.concat([der, zeros(3)]), Buffer.concat([der, Buffer.from([0, 0, 0, 0, 2])])]) {
      const copy = Buffer.from(input);
      expect(stripKwpZeroPadding(input, KEY_TYPES['ecdsa-p256'])).toBe(input);
      expect(input).toEqual(copy);
    }
    const symmetric = Buffer.concat([Buffer.from([0x30, 0x0b]), randomBytes(11), zeros(3)]);
    expect(stripKwpZeroPadding(symmetric, KEY_TYPES['aes128-gcm96'])).toBe(symmetric);
  });
});
