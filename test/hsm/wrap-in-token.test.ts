/**
 * src/hsm against a real SoftHSM2 2.6.1 token this file creates: keys made inside the token are wrapped there,
 * imported into the emulator, and proven to be the token's keys (the emulator encrypts and the token decrypts;
 * the emulator signs and the token's public key verifies). Fingerprints are compared with the software path's.
 */
import { constants, createHash, createPublicKey, randomBytes, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as pkcs11js from 'pkcs11js';
import { startEmulator, type RunningEmulator } from '../../src/emulator';
import { fingerprintInToken, HsmError, wrapInToken, type Pkcs11KeyRef } from '../../src/hsm';
import { cmacAesFingerprint, fingerprintCanonical, kcvAesFingerprint, spkiFingerprint } from '../../src/material';
import { KEY_TYPES } from '../../src/key-types';
import { WrappingKey } from '../../src/wrapping';
import { bindToken, call, keysPath, ORG, REGION, TOKEN } from '../emulator/harness';
import { createToken, EC_SPKI_PREFIX, findObject, PIN, PIN_ENV, tokenSpki as tokenSpkiOf, type TestToken } from './softhsm';

let token: TestToken;
let emulator: RunningEmulator;
let wrappingKey: WrappingKey;

beforeAll(async () => {
  token = await createToken();
  token.tool(['--keygen', '--key-type', 'AES:32', '--label', 'aes256', '--id', 'a1', '--extractable']);
  token.tool(['--keygen', '--key-type', 'AES:32', '--label', 'aes256-fixed', '--id', 'a2']);
  token.tool(['--keypairgen', '--key-type', 'EC:prime256v1', '--label', 'p256', '--id', 'e1', '--extractable']);
  emulator = await startEmulator({ tokens: bindToken(TOKEN, ORG) });
  wrappingKey = WrappingKey.fromApiResponse((await call(emulator.url, 'GET', `/v1/kms/${REGION}/wrapping-key`)).json);
});

afterAll(async () => {
  await emulator?.close();
  token?.cleanup();
});

const ref = (extra: Partial<Pkcs11KeyRef>): Pkcs11KeyRef => ({ module: token.module, tokenLabel: token.label, pinEnv: PIN_ENV, ...extra });

let counter = 0;

/** Imports a token-made blob into the emulator (exportAllowed, so the test can compare fingerprints). */
async function importBlob(keyType: string, blob: Buffer, hashFunction: string): Promise<string> {
  const res = await call(emulator.url, 'POST', keysPath(), {
    body: { name: `hsm-${++counter}`, keyType, exportAllowed: true, hashFunction, importKeyMaterial: blob.toString('base64') },
  });
  expect({ status: res.status, message: res.json?.message }).toEqual({ status: 201, message: undefined });
  return res.json.identity as string;
}

async function exportMaterial(identity: string): Promise<Buffer> {
  const res = await call(emulator.url, 'POST', keysPath(`/${identity}/export`), { body: {} });
  expect(res.status).toBe(200);
  return Buffer.from(res.json.keyMaterial, 'base64');
}

/** AES-GCM decryption inside the token, of the emulator's ciphertext (nonce 12 ‖ body ‖ tag 16). */
function decryptInToken(label: string, data: Buffer): Buffer {
  return token.withSession((p, session) => {
    const key = findObject(p, session, pkcs11js.CKO_SECRET_KEY, label);
    const iv = data.subarray(0, 12);
    const body = data.subarray(12);
    p.C_DecryptInit(session, { mechanism: pkcs11js.CKM_AES_GCM, parameter: { type: pkcs11js.CK_PARAMS_AES_GCM, iv, ivBits: 96, tagBits: 128 } as pkcs11js.AesGCM }, key);
    return Buffer.from(p.C_Decrypt(session, body, Buffer.alloc(body.length)));
  });
}

const tokenSpki = (label: string, ecPrefix: string | undefined): Buffer => tokenSpkiOf(token, label, ecPrefix);

describe('AES-256 key made in the token', () => {
  it('wraps inside the token; the emulator imports it, encrypts, and the token decrypts', async () => {
    const result = wrapInToken(ref({ keyLabel: 'aes256' }), 'aes256-gcm96', wrappingKey);
    expect(result.hashFunction).toBe('sha1');
    expect(result.keyType).toBe('aes256-gcm96');
    expect(result.blob.length).toBe(wrappingKey.modulusBytes + 40);
    // pkcs11-tool --keygen (OpenSC 0.23 on SoftHSM2 2.6.1) leaves CKA_SIGN at SoftHSM's default, true: CMAC.
    expect(result.fingerprint).toMatch(/^cmac-aes:[0-9a-f]{32}$/);
    const identity = await importBlob('aes256-gcm96', result.blob, result.hashFunction);

    const plaintext = randomBytes(100);
    const encrypted = await call(emulator.url, 'POST', keysPath(`/${identity}/encrypt`), { body: { plaintext: plaintext.toString('base64') } });
    expect(encrypted.status).toBe(200);
    const data = Buffer.from(/^thalassa:v1:(.*)$/.exec(encrypted.json.ciphertext)?.[1] ?? '', 'base64');
    expect(decryptInToken('aes256', data)).toEqual(plaintext);

    const material = await exportMaterial(identity);
    expect(material.length).toBe(32);
    expect(cmacAesFingerprint(material)).toBe(result.fingerprint);
    expect(fingerprintInToken(ref({ keyId: 'a1' }), 'aes256-gcm96')).toBe(result.fingerprint);
  });

  it('gives the classic KCV (AES-ECB of a zero block) where the key may encrypt but not sign', async () => {
    token.withSession((p, session) => {
      p.C_GenerateKey(session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY }, { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
        { type: pkcs11js.CKA_VALUE_LEN, value: 16 }, { type: pkcs11js.CKA_TOKEN, value: true }, { type: pkcs11js.CKA_LABEL, value: 'aes128-encrypt' },
        { type: pkcs11js.CKA_SIGN, value: false }, { type: pkcs11js.CKA_ENCRYPT, value: true }, { type: pkcs11js.CKA_DECRYPT, value: true },
        { type: pkcs11js.CKA_SENSITIVE, value: true }, { type: pkcs11js.CKA_EXTRACTABLE, value: true },
      ]);
    });
    const result = wrapInToken(ref({ keyLabel: 'aes128-encrypt' }), 'aes128-gcm96', wrappingKey);
    expect(result.fingerprint).toMatch(/^kcv-aes:[0-9a-f]{32}$/);
    const identity = await importBlob('aes128-gcm96', result.blob, result.hashFunction);
    const material = await exportMaterial(identity);
    expect(material.length).toBe(16);
    expect(kcvAesFingerprint(material)).toBe(result.fingerprint);
    const plaintext = randomBytes(33);
    const encrypted = await call(emulator.url, 'POST', keysPath(`/${identity}/encrypt`), { body: { plaintext: plaintext.toString('base64') } });
    expect(decryptInToken('aes128-encrypt', Buffer.from(encrypted.json.ciphertext.replace(/^thalassa:v1:/, ''), 'base64'))).toEqual(plaintext);
    // Another kind of fingerprint than the same key from a file: moving a key into an HSM replaces it.
    expect(fingerprintCanonical(material, KEY_TYPES['aes128-gcm96'])).not.toBe(result.fingerprint);
  });
});

describe('ECDSA P-256 key made in the token', () => {
  it('wraps inside the token; the emulator imports it (zero padding and all), signs, and the token public key verifies', async () => {
    const result = wrapInToken(ref({ keyLabel: 'p256' }), 'ecdsa-p256', wrappingKey);
    expect(result.hashFunction).toBe('sha1');
    token.tool(['--read-object', '--type', 'pubkey', '--label', 'p256', '--output-file', join(token.dir, 'p256.der')]);
    const spki = readFileSync(join(token.dir, 'p256.der'));
    const tokenPublicKey = createPublicKey({ key: spki, format: 'der', type: 'spki' });
    expect(result.fingerprint).toBe(`spki-sha256:${createHash('sha256').update(spki).digest('hex')}`);
    expect(result.fingerprint).toBe(spkiFingerprint(tokenPublicKey));

    const identity = await importBlob('ecdsa-p256', result.blob, result.hashFunction);
    const input = randomBytes(64);
    const signed = await call(emulator.url, 'POST', keysPath(`/${identity}/sign`), { body: { input: input.toString('base64') } });
    expect(signed.status).toBe(200);
    expect(verify('sha256', input, tokenPublicKey, Buffer.from(signed.json.signature, 'base64'))).toBe(true);

    const published = await call(emulator.url, 'GET', keysPath(`/${identity}/public-key`));
    expect(spkiFingerprint(createPublicKey(published.json.keys['1']))).toBe(result.fingerprint);
    const material = await exportMaterial(identity);
    // SoftHSM2 wraps its 67-byte P-256 PKCS#8 zero-padded to 72; the emulator stored the key without the zeros.
    expect(material.length).toBe(67);
    expect(fingerprintCanonical(material, KEY_TYPES['ecdsa-p256'])).toBe(result.fingerprint);
  });

  it('computes the same fingerprint on its own, and it is stable', () => {
    const first = fingerprintInToken(ref({ keyLabel: 'p256' }), 'ecdsa-p256');
    expect(fingerprintInToken(ref({ keyId: 'e1' }), 'ecdsa-p256')).toBe(first);
    expect(wrapInToken(ref({ keyLabel: 'p256' }), 'ecdsa-p256', wrappingKey).fingerprint).toBe(first);
  });
});

describe.each([
  { keyType: 'rsa-2048', spec: 'rsa:2048', verifyWith: { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, hash: 'sha256', spkiPrefix: undefined },
  { keyType: 'rsa-3072', spec: 'rsa:3072', verifyWith: { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, hash: 'sha256', spkiPrefix: undefined },
  { keyType: 'rsa-4096', spec: 'rsa:4096', verifyWith: { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, hash: 'sha256', spkiPrefix: undefined },
  { keyType: 'ecdsa-p384', spec: 'EC:secp384r1', verifyWith: {}, hash: 'sha384', spkiPrefix: EC_SPKI_PREFIX['P-384'] },
  { keyType: 'ecdsa-p521', spec: 'EC:secp521r1', verifyWith: {}, hash: 'sha512', spkiPrefix: EC_SPKI_PREFIX['P-521'] },
])('$keyType key made in the token', ({ keyType, spec, verifyWith, hash, spkiPrefix }) => {
  it('wraps inside the token; the emulator signs, the token public key verifies, fingerprints agree', async () => {
    const label = `${keyType}-key`;
    token.tool(['--keypairgen', '--key-type', spec, '--label', label, '--extractable']);
    const result = wrapInToken(ref({ keyLabel: label }), keyType, wrappingKey);
    const tokenPublicKey = createPublicKey({ key: tokenSpki(label, spkiPrefix), format: 'der', type: 'spki' });
    expect(result.fingerprint).toBe(spkiFingerprint(tokenPublicKey));

    const identity = await importBlob(keyType, result.blob, result.hashFunction);
    const input = randomBytes(64);
    const signed = await call(emulator.url, 'POST', keysPath(`/${identity}/sign`), { body: { input: input.toString('base64') } });
    expect(signed.status).toBe(200);
    expect(verify(hash, input, { key: tokenPublicKey, ...verifyWith }, Buffer.from(signed.json.signature, 'base64'))).toBe(true);
    expect(fingerprintCanonical(await exportMaterial(identity), KEY_TYPES[keyType as 'rsa-2048'])).toBe(result.fingerprint);
  });
});

describe('errors name what is wrong, and never the PIN', () => {
  function expectHsmError(fn: () => unknown, code: string, message: RegExp): void {
    let caught: unknown;
    try {
      fn();
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(HsmError);
    expect({ code: (caught as HsmError).code, message: (caught as HsmError).message }).toEqual({ code, message: expect.stringMatching(message) });
    expect((caught as HsmError).message).not.toContain(PIN);
    expect((caught as HsmError).message).not.toContain('999999');
  }

  it('a wrong PIN, naming its variable', () => {
    process.env.THALASSA_TEST_WRONG_PIN = '999999';
    expectHsmError(() => wrapInToken(ref({ keyLabel: 'aes256', pinEnv: 'THALASSA_TEST_WRONG_PIN' }), 'aes256-gcm96', wrappingKey), 'HSM_PIN_WRONG', /THALASSA_TEST_WRONG_PIN.*CKR_PIN_INCORRECT/);
  });

  it('a PIN variable that is not set', () => {
    expectHsmError(() => wrapInToken(ref({ keyLabel: 'aes256', pinEnv: 'THALASSA_TEST_NO_SUCH_PIN' }), 'aes256-gcm96', wrappingKey), 'HSM_PIN_MISSING', /THALASSA_TEST_NO_SUCH_PIN, which is not set/);
  });

  it('the PIN itself where the variable name belongs is not echoed', () => {
    expectHsmError(() => wrapInToken(ref({ keyLabel: 'aes256', pinEnv: PIN }), 'aes256-gcm96', wrappingKey), 'HSM_PIN_MISSING', /not a variable name/);
  });

  it('a module that does not load, and a token that does not exist', () => {
    expectHsmError(() => wrapInToken(ref({ keyLabel: 'aes256', module: join(token.dir, 'no-such.so') }), 'aes256-gcm96', wrappingKey), 'HSM_MODULE', /Cannot load the PKCS#11 module/);
    expectHsmError(() => wrapInToken(ref({ keyLabel: 'aes256', tokenLabel: 'other' }), 'aes256-gcm96', wrappingKey), 'HSM_TOKEN_NOT_FOUND', /No token labelled "other".*"byok-test"/);
  });

  it('a key that is not there, or of another class', () => {
    expectHsmError(() => wrapInToken(ref({ keyLabel: 'nope' }), 'aes256-gcm96', wrappingKey), 'HSM_KEY_NOT_FOUND', /No secret key object is the key labelled "nope"/);
    expectHsmError(() => wrapInToken(ref({ keyLabel: 'p256' }), 'aes256-gcm96', wrappingKey), 'HSM_KEY_NOT_FOUND', /objects with that name: CKO_(PRIVATE|PUBLIC)_KEY/);
    expectHsmError(() => wrapInToken(ref({ keyLabel: 'x', keyId: 'a1' }), 'aes256-gcm96', wrappingKey), 'HSM_KEY_NOT_FOUND', /exactly one of keyLabel/);
  });

  it('a label two keys share, and a keyId that is not hex', () => {
    token.tool(['--keygen', '--key-type', 'AES:16', '--label', 'twice', '--id', 'b1', '--extractable']);
    token.tool(['--keygen', '--key-type', 'AES:16', '--label', 'twice', '--id', 'b2', '--extractable']);
    expectHsmError(() => wrapInToken(ref({ keyLabel: 'twice' }), 'aes128-gcm96', wrappingKey), 'HSM_KEY_AMBIGUOUS', /2 secret key objects match the key labelled "twice".*keyId/);
    expect(wrapInToken(ref({ keyId: 'b2' }), 'aes128-gcm96', wrappingKey).fingerprint).toMatch(/^cmac-aes:/);
    expectHsmError(() => wrapInToken(ref({ keyId: 'xyz' }), 'aes128-gcm96', wrappingKey), 'HSM_KEY_NOT_FOUND', /CKA_ID as hex/);
  });

  it('a key of another size or curve than the key type', () => {
    token.tool(['--keypairgen', '--key-type', 'rsa:2048', '--label', 'rsa-for-mismatch', '--extractable']);
    expectHsmError(() => wrapInToken(ref({ keyLabel: 'rsa-for-mismatch' }), 'rsa-4096', wrappingKey), 'HSM_KEY_TYPE_MISMATCH', /an RSA key of 2048 bits; key type rsa-4096 needs an RSA private key of 4096 bits/);
    expectHsmError(() => wrapInToken(ref({ keyLabel: 'aes256' }), 'aes128-gcm96', wrappingKey), 'HSM_KEY_TYPE_MISMATCH', /an AES key of 256 bits; key type aes128-gcm96 needs an AES key of 128 bits/);
    expectHsmError(() => wrapInToken(ref({ keyLabel: 'p256' }), 'ecdsa-p384', wrappingKey), 'HSM_KEY_TYPE_MISMATCH', /a key on P-256; key type ecdsa-p384 needs an EC private key on P-384/);
    expectHsmError(() => wrapInToken(ref({ keyLabel: 'p256' }), 'rsa-2048', wrappingKey), 'HSM_KEY_TYPE_MISMATCH', /a CKK_EC private key; key type rsa-2048/);
  });

  it('a key that is not extractable', () => {
    expectHsmError(() => wrapInToken(ref({ keyLabel: 'aes256-fixed' }), 'aes256-gcm96', wrappingKey), 'HSM_KEY_NOT_EXTRACTABLE', /not extractable \(CKA_EXTRACTABLE is false\)/);
  });

  it('an Ed25519 key SoftHSM2 2.6.1 will not wrap (CKR_KEY_NOT_WRAPPABLE)', () => {
    token.tool(['--keypairgen', '--key-type', 'EC:edwards25519', '--label', 'ed', '--id', 'd1', '--extractable']);
    expectHsmError(() => wrapInToken(ref({ keyLabel: 'ed' }), 'ed25519', wrappingKey), 'HSM_KEY_NOT_EXTRACTABLE', /CKR_KEY_NOT_WRAPPABLE.*must be extractable.*SoftHSM2 2.6.1 does not/);
  });

  it('ChaCha20, which a token cannot hold here', () => {
    expectHsmError(() => wrapInToken(ref({ keyLabel: 'aes256' }), 'chacha20-poly1305', wrappingKey), 'HSM_KEY_TYPE_UNSUPPORTED', /AES keys only/);
  });

  it('a symmetric key that allows neither sign nor encrypt has no check value', () => {
    token.withSession((p, session) => {
      p.C_GenerateKey(session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY }, { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
        { type: pkcs11js.CKA_VALUE_LEN, value: 32 }, { type: pkcs11js.CKA_TOKEN, value: true }, { type: pkcs11js.CKA_LABEL, value: 'aes-no-ops' },
        { type: pkcs11js.CKA_SIGN, value: false }, { type: pkcs11js.CKA_ENCRYPT, value: false }, { type: pkcs11js.CKA_DECRYPT, value: false },
        { type: pkcs11js.CKA_EXTRACTABLE, value: true },
      ]);
    });
    expectHsmError(() => wrapInToken(ref({ keyLabel: 'aes-no-ops' }), 'aes256-gcm96', wrappingKey), 'HSM_NO_CHECK_OPERATION', /neither CKA_SIGN .* nor CKA_ENCRYPT/);
  });

  it('a forced OAEP hash the token does not offer', () => {
    expectHsmError(() => wrapInToken(ref({ keyLabel: 'aes256' }), 'aes256-gcm96', wrappingKey, { hash: 'sha256' }), 'HSM_HASH_REFUSED', /refused CKM_RSA_PKCS_OAEP with sha256/);
  });

  it('leaves the token as it found it: no new objects (its session key and wrapping key were session objects)', () => {
    const objects = (): string[] => token.withSession((p, session) => {
      p.C_FindObjectsInit(session, []);
      const all = p.C_FindObjects(session, 200);
      p.C_FindObjectsFinal(session);
      return all.map((h) => `${p.C_GetAttributeValue(session, h, [{ type: pkcs11js.CKA_LABEL }])[0].value?.toString()}`).sort();
    });
    const before = objects();
    wrapInToken(ref({ keyLabel: 'aes256' }), 'aes256-gcm96', wrappingKey);
    expect(() => wrapInToken(ref({ keyLabel: 'aes256' }), 'aes256-gcm96', wrappingKey, { hash: 'sha512' })).toThrow(HsmError);
    expect(objects()).toEqual(before);
  });
});
