/**
 * Issue 12: the emulator and the client speak the official client's JSON (thalassa-kms-api.md, "What the
 * official client and provider show"), over real HTTP:
 *
 * 1. `keyVersion` is a string in operation answers; the emulator accepts a string or a number in requests;
 *    `latestVersion` and `versions[].version` stay integers.
 * 2. DELETE answers 200 with the key and its `deletionScheduledAt`; the client accepts that and an empty 204.
 * 3. `sign` takes a `context`: Ed25519ctx for ed25519 where Node can do it (else a clear 400), 400 elsewhere.
 * 4. Enabling rotation needs `rotationPeriodInDays`, at create and in PATCH …/rotation.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPublicKey, generateKeyPairSync, sign as nodeSign, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { KmsClient } from '../../src/api';
import { startEmulator, type RunningEmulator } from '../../src/emulator';
import { ed25519ctxAvailable } from '../../src/emulator/crypto-ops';
import { bindToken, call, keysPath, ORG, TOKEN, type ApiResponse } from './harness';

let emulator: RunningEmulator;
let client: KmsClient;

beforeAll(async () => {
  // The answers users get: strict mode leaves keyVersion and DELETE's body out (contract.test.ts checks those).
  emulator = await startEmulator({ tokens: bindToken(TOKEN, ORG), strict: false });
  client = KmsClient.fromEnvironment({ env: { THALASSA_API_ENDPOINT: emulator.url, THALASSA_API_TOKEN: TOKEN, THALASSA_ORGANISATION: ORG } });
});

afterAll(async () => {
  await client?.close();
  await emulator?.close();
});

function expectError(res: ApiResponse, status: number, message: RegExp): void {
  expect({ status: res.status, keys: Object.keys(res.json ?? {}) }).toEqual({ status, keys: ['message'] });
  expect(res.json.message).toMatch(message);
}

let counter = 0;
const uniqueName = (prefix: string): string => `${prefix}-${++counter}`;
const create = (body: Record<string, unknown>): Promise<ApiResponse> => call(emulator.url, 'POST', keysPath(), { body });
const post = (id: string, op: string, body: Record<string, unknown> = {}): Promise<ApiResponse> => call(emulator.url, 'POST', keysPath(`/${id}/${op}`), { body });
const MESSAGE = Buffer.from('message to sign').toString('base64');

describe('keyVersion is a string (point 1)', () => {
  let id: string;

  beforeAll(async () => {
    id = (await create({ name: uniqueName('versions'), keyType: 'aes256-gcm96', exportAllowed: true })).json.identity;
    expect((await post(id, 'rotate')).json).toMatchObject({ latestVersion: 2, versions: [{ version: 1 }, { version: 2 }] });
  });

  it('answers encrypt, decrypt and export with a string keyVersion; the key keeps integer versions', async () => {
    const enc = await post(id, 'encrypt', { plaintext: 'aGk=' });
    expect(enc.json.keyVersion).toBe('2');
    expect((await post(id, 'decrypt', { ciphertext: enc.json.ciphertext })).json.keyVersion).toBe('2');
    expect((await post(id, 'export', { keyVersion: '1' })).json.keyVersion).toBe('1');
    const key = (await call(emulator.url, 'GET', keysPath(`/${id}`))).json;
    expect(typeof key.latestVersion).toBe('number');
    expect(key.versions.map((v: { version: unknown }) => typeof v.version)).toEqual(['number', 'number']);
  });

  it('accepts the version as a string (the official client) and as a number (lenient), and "" as absent', async () => {
    expect((await post(id, 'encrypt', { plaintext: 'aGk=', keyVersion: '1' })).json).toMatchObject({ ciphertext: expect.stringMatching(/^thalassa:v1:/), keyVersion: '1' });
    expect((await post(id, 'encrypt', { plaintext: 'aGk=', keyVersion: 1 })).json).toMatchObject({ ciphertext: expect.stringMatching(/^thalassa:v1:/), keyVersion: '1' });
    expect((await post(id, 'encrypt', { plaintext: 'aGk=', keyVersion: '' })).json.keyVersion).toBe('2');
  });

  it('refuses versions that are no version, without echoing them', async () => {
    expectError(await post(id, 'encrypt', { plaintext: 'aGk=', keyVersion: '3' }), 400, /no version 3/);
    expectError(await post(id, 'encrypt', { plaintext: 'aGk=', keyVersion: '0' }), 400, /between 1 and 65535/);
    const odd = await post(id, 'encrypt', { plaintext: 'aGk=', keyVersion: 'v2-secretish' });
    expectError(odd, 400, /"keyVersion" must be a version number/);
    expect(odd.text).not.toContain('secretish');
    expectError(await post(id, 'encrypt', { plaintext: 'aGk=', keyVersion: 1.5 }), 400, /"keyVersion" must be an integer/);
    expectError(await post(id, 'encrypt', { plaintext: 'aGk=', keyVersion: true }), 400, /"keyVersion" must be a version string/);
  });

  it('answers sign, verify, hmac and verify-hmac with string versions', async () => {
    const ec = (await create({ name: uniqueName('ec-version'), keyType: 'ecdsa-p256' })).json.identity;
    const signed = await post(ec, 'sign', { input: MESSAGE, keyVersion: '1' });
    expect(signed.json.keyVersion).toBe('1');
    expect((await post(ec, 'verify', { input: MESSAGE, signature: signed.json.signature })).json).toEqual({ valid: true, keyVersion: '1' });
    const mac = (await create({ name: uniqueName('mac-version'), keyType: 'hmac-sha256' })).json.identity;
    const hmac = await post(mac, 'hmac', { input: MESSAGE, keyVersion: 1 });
    expect(hmac.json.keyVersion).toBe('1');
    expect((await post(mac, 'verify-hmac', { input: MESSAGE, hmac: hmac.json.hmac, keyVersion: '1' })).json).toEqual({ valid: true, keyVersion: '1' });
  });

  it('the client sends and returns strings', async () => {
    const enc = await client.encrypt('nl-01', id, 'aGk=', '1');
    expect(enc.keyVersion).toBe('1');
    expect(enc.ciphertext).toMatch(/^thalassa:v1:/);
    expect((await client.decrypt('nl-01', id, enc.ciphertext)).keyVersion).toBe('1');
    const ed = (await create({ name: uniqueName('ed-client'), keyType: 'ed25519' })).json.identity;
    expect((await client.sign('nl-01', ed, { input: MESSAGE, keyVersion: '1' })).keyVersion).toBe('1');
  });
});

describe('DELETE answers the key with deletionScheduledAt (point 2)', () => {
  it('answers 200 with the key JSON, pending_deletion and an RFC 3339 deletionScheduledAt 30 days ahead', async () => {
    const id = (await create({ name: uniqueName('doomed'), keyType: 'aes128-gcm96' })).json.identity;
    const before = Date.now();
    const res = await call(emulator.url, 'DELETE', keysPath(`/${id}`));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect(res.json).toMatchObject({ identity: id, keyType: 'aes128-gcm96', status: 'pending_deletion', organisation: { identity: ORG } });
    expect(res.json.deletionScheduledAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
    expect(Date.parse(res.json.deletionScheduledAt) - before).toBeGreaterThanOrEqual(30 * 86_400_000 - 1000);
    expect(res.json).not.toHaveProperty('allowRotation');
  });

  it('the client returns the key and the date from a body', async () => {
    const id = (await create({ name: uniqueName('client-doomed'), keyType: 'aes128-gcm96' })).json.identity;
    const result = await client.deleteKey('nl-01', id);
    expect(result.key).toMatchObject({ identity: id, status: 'pending_deletion' });
    expect(result.deletionScheduledAt).toBe(result.key?.deletionScheduledAt);
    expect(typeof result.deletionScheduledAt).toBe('string');
  });

  describe('against a server that answers like the official client expects, or with just the date', () => {
    let server: Server;
    let answer: { status: number; body?: string };
    let stubClient: KmsClient;

    beforeAll(async () => {
      server = createServer((req, res) => {
        req.resume();
        req.on('end', () => {
          res.writeHead(answer.status, answer.body === undefined ? {} : { 'content-type': 'application/json' });
          res.end(answer.body);
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      stubClient = KmsClient.fromEnvironment({ env: { THALASSA_API_ENDPOINT: url, THALASSA_API_TOKEN: TOKEN, THALASSA_ORGANISATION: ORG } });
    });

    afterAll(async () => {
      await stubClient?.close();
      await new Promise((resolve) => server?.close(resolve));
    });

    it('accepts an empty 204', async () => {
      answer = { status: 204 };
      expect(await stubClient.deleteKey('nl-01', 'kms-x')).toEqual({});
    });

    it('accepts an empty 200 and a body with only deletionScheduledAt', async () => {
      answer = { status: 200, body: '' };
      expect(await stubClient.deleteKey('nl-01', 'kms-x')).toEqual({});
      answer = { status: 200, body: JSON.stringify({ deletionScheduledAt: '2027-01-01T00:00:00Z' }) };
      expect(await stubClient.deleteKey('nl-01', 'kms-x')).toEqual({ deletionScheduledAt: '2027-01-01T00:00:00Z' });
    });

    it('turns a number keyVersion from a server into a string', async () => {
      answer = { status: 200, body: JSON.stringify({ ciphertext: 'thalassa:v3:AAAA', keyVersion: 3 }) };
      expect(await stubClient.encrypt('nl-01', 'kms-x', 'aGk=')).toEqual({ ciphertext: 'thalassa:v3:AAAA', keyVersion: '3' });
      answer = { status: 200, body: JSON.stringify({ signature: 'AAAA' }) };
      expect(await stubClient.sign('nl-01', 'kms-x', { input: 'aGk=' })).toEqual({ signature: 'AAAA' });
    });
  });
});

/** Whether this Node.js really signs Ed25519ctx, judged here independently of the emulator's own probe. */
function nodeSignsEd25519ctx(): boolean {
  const { privateKey } = generateKeyPairSync('ed25519');
  const message = Buffer.from('m');
  try {
    const withContext = nodeSign(null, message, { key: privateKey, context: Buffer.from('c') } as unknown as KeyObject);
    return !withContext.equals(nodeSign(null, message, privateKey));
  } catch {
    return false;
  }
}

describe('sign with a context (point 3)', () => {
  const context = Buffer.from('my-protocol v1').toString('base64');

  it('ed25519: Ed25519ctx where this Node.js can do it, else a 400 that says why', async () => {
    const id = (await create({ name: uniqueName('ed-ctx'), keyType: 'ed25519' })).json.identity;
    const res = await post(id, 'sign', { input: MESSAGE, context });
    if (nodeSignsEd25519ctx()) {
      expect(res.status).toBe(200);
      const pem = Object.values((await call(emulator.url, 'GET', keysPath(`/${id}/public-key`))).json.keys)[0] as string;
      const publicKey = createPublicKey(pem);
      const signature = Buffer.from(res.json.signature, 'base64');
      const message = Buffer.from(MESSAGE, 'base64');
      expect(nodeVerify(null, message, { key: publicKey, context: Buffer.from(context, 'base64') } as unknown as KeyObject, signature)).toBe(true);
      expect(nodeVerify(null, message, publicKey, signature)).toBe(false);
      expect((await post(id, 'verify', { input: MESSAGE, signature: res.json.signature, context })).json.valid).toBe(true);
      expect((await post(id, 'verify', { input: MESSAGE, signature: res.json.signature })).json.valid).toBe(false);
    } else {
      // Node 20 takes the option and silently signs pure Ed25519: the emulator must not pretend otherwise.
      expectError(res, 400, /"context" needs Ed25519ctx.*Node\.js \(v\d+/);
    }
  });

  it("the emulator's probe agrees with this test's own look at Node's crypto", () => {
    expect(ed25519ctxAvailable()).toBe(nodeSignsEd25519ctx());
  });

  it('ed25519: an empty context is pure Ed25519, the same signature as none', async () => {
    const id = (await create({ name: uniqueName('ed-empty'), keyType: 'ed25519' })).json.identity;
    const plain = await post(id, 'sign', { input: MESSAGE });
    const empty = await post(id, 'sign', { input: MESSAGE, context: '' });
    expect(empty.status).toBe(200);
    expect(empty.json.signature).toBe(plain.json.signature);
  });

  it('ed25519: a context that is not base64, or over 255 bytes, is a 400 naming "context"', async () => {
    const id = (await create({ name: uniqueName('ed-badctx'), keyType: 'ed25519' })).json.identity;
    expectError(await post(id, 'sign', { input: MESSAGE, context: 'not base64!' }), 400, /"context" must be base64/);
    expectError(await post(id, 'sign', { input: MESSAGE, context: Buffer.alloc(256, 1).toString('base64') }), 400, /"context" must decode to 1 to 255 bytes/);
    expectError(await post(id, 'sign', { input: MESSAGE, context: 7 }), 400, /"context" must be a string/);
  });

  it.each(['rsa-2048', 'ecdsa-p256'])('%s: a context makes no sense, 400', async (keyType) => {
    const id = (await create({ name: uniqueName(`ctx-${keyType}`), keyType })).json.identity;
    expectError(await post(id, 'sign', { input: MESSAGE, context }), 400, new RegExp(`"context" applies only to ed25519 keys.*${keyType}`));
    expect((await post(id, 'sign', { input: MESSAGE })).status).toBe(200);
  });

  it('a key type that cannot sign still says so first', async () => {
    const id = (await create({ name: uniqueName('ctx-aes'), keyType: 'aes256-gcm96' })).json.identity;
    expectError(await post(id, 'sign', { input: MESSAGE, context }), 400, /does not support sign/);
  });
});

describe('rotation needs a period (point 4)', () => {
  it('create: keyRotationEnabled true without rotationPeriodInDays is a 400 naming the field', async () => {
    expectError(await create({ name: uniqueName('rot'), keyType: 'aes256-gcm96', keyRotationEnabled: true }), 400, /"rotationPeriodInDays".*required.*"keyRotationEnabled" is true/);
    const ok = await create({ name: uniqueName('rot'), keyType: 'aes256-gcm96', keyRotationEnabled: true, rotationPeriodInDays: 90 });
    expect(ok.status).toBe(201);
    expect(ok.json).toMatchObject({ keyRotationEnabled: true, rotationPeriodInDays: 90 });
    // A period without enabling is fine: it is kept for later.
    expect((await create({ name: uniqueName('rot'), keyType: 'aes256-gcm96', rotationPeriodInDays: 30 })).json).toMatchObject({ keyRotationEnabled: false, rotationPeriodInDays: 30 });
  });

  it('PATCH: judged on the resulting state', async () => {
    const bare = (await create({ name: uniqueName('rot-patch'), keyType: 'aes256-gcm96' })).json;
    const patch = (id: string, body: Record<string, unknown>): Promise<ApiResponse> => call(emulator.url, 'PATCH', keysPath(`/${id}/rotation`), { body });
    expectError(await patch(bare.identity, { keyRotationEnabled: true }), 400, /"rotationPeriodInDays".*required/);
    expect((await call(emulator.url, 'GET', keysPath(`/${bare.identity}`))).json).toMatchObject({ keyRotationEnabled: false, objectVersion: bare.objectVersion });
    expect((await patch(bare.identity, { keyRotationEnabled: false })).status).toBe(200);
    // A stored period makes a later enable valid on its own.
    expect((await patch(bare.identity, { rotationPeriodInDays: 60 })).json).toMatchObject({ keyRotationEnabled: false, rotationPeriodInDays: 60 });
    expect((await patch(bare.identity, { keyRotationEnabled: true })).json).toMatchObject({ keyRotationEnabled: true, rotationPeriodInDays: 60 });
    expect((await patch(bare.identity, { rotationPeriodInDays: 7 })).json).toMatchObject({ keyRotationEnabled: true, rotationPeriodInDays: 7 });
  });
});
