/**
 * Issue 12 Deliver 5: every answer of a scripted session over real HTTP — keys, lists, summary, wrapping key,
 * crypto operations, rotation, deletion, the token endpoint and errors — is checked against the schema in
 * `contract.ts`, written from the table of the official client's JSON. Run against the normal and the strict
 * emulator. A drift (a field of another type, a null, a field the client does not know) fails the build; the
 * last tests show the schema does catch one by validating mutated copies of real answers.
 */
import { randomBytes } from 'node:crypto';
import { startEmulator, type RunningEmulator } from '../../src/emulator';
import { KeyMaterial } from '../../src/material';
import { WrappingKey, wrap } from '../../src/wrapping';
import { checkExchange, kmsKey, encryptAnswer, summary, schemaFor, type Exchange } from './contract';
import { bindToken, call, keysPath, ORG, TOKEN, type CallOptions } from './harness';

const CLIENT = { id: 'contract-client', secret: 'contract-secret' };
const b64 = (text: string): string => Buffer.from(text).toString('base64');

/** Runs the session against `emulator`, recording every exchange. */
async function session(emulator: RunningEmulator): Promise<Exchange[]> {
  const exchanges: Exchange[] = [];
  const send = async (method: string, path: string, options: CallOptions = {}) => {
    const res = await call(emulator.url, method, path, options);
    exchanges.push({ method, path: path.split('?')[0], status: res.status, text: res.text });
    return res;
  };
  const token = async (body: string) => {
    const res = await fetch(`${emulator.url}/oidc/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
    exchanges.push({ method: 'POST', path: '/oidc/token', status: res.status, text: await res.text() });
    return res;
  };
  const create = (body: Record<string, unknown>, options: CallOptions = {}) => send('POST', keysPath(), { body, ...options });
  const op = (id: string, name: string, body: Record<string, unknown> = {}) => send('POST', keysPath(`/${id}/${name}`), { body });

  expect((await token(`grant_type=client_credentials&client_id=${CLIENT.id}&client_secret=${CLIENT.secret}`)).status).toBe(200);
  expect((await token(`grant_type=client_credentials&client_id=${CLIENT.id}&client_secret=wrong`)).status).toBe(401);
  expect((await token('grant_type=password')).status).toBe(400);

  await send('GET', '/v1/kms/summary');
  const wrappingKey = WrappingKey.fromApiResponse((await send('GET', '/v1/kms/nl-01/wrapping-key')).json);

  const aes = (await create({ name: 'contract-aes', keyType: 'aes256-gcm96', exportAllowed: true, description: 'contract', labels: { team: 'sec' }, annotations: { note: 'x' } })).json;
  const bare = (await create({ name: 'contract-bare', keyType: 'aes128-gcm96' })).json;
  const ed = (await create({ name: 'contract-ed', keyType: 'ed25519' }, { project: 'prj-contract' })).json;
  const ec = (await create({ name: 'contract-ec', keyType: 'ecdsa-p256' })).json;
  const mac = (await create({ name: 'contract-hmac', keyType: 'hmac-sha256' })).json;
  const material = KeyMaterial.fromBytes(randomBytes(32), { format: 'raw' }).load('aes256-gcm96');
  const imported = (await create({
    name: 'contract-imported', keyType: 'aes256-gcm96', importKeyMaterial: wrap(material, wrappingKey).toString('base64'),
    allowRotation: true, keyRotationEnabled: true, rotationPeriodInDays: 90,
  })).json;
  for (const key of [aes, bare, ed, ec, mac, imported]) expect(typeof key.identity).toBe('string');

  await send('GET', keysPath());
  await send('GET', keysPath('?name=contract-aes'));
  await send('GET', keysPath('?matchLabels[team]=sec'));
  await send('GET', keysPath(`/${aes.identity}`));
  await send('GET', keysPath('/contract-bare'));

  const enc = (await op(aes.identity, 'encrypt', { plaintext: b64('hello') })).json;
  await op(aes.identity, 'decrypt', { ciphertext: enc.ciphertext });
  await op(aes.identity, 'export', { keyVersion: '1' });
  await send('PATCH', keysPath(`/${aes.identity}/rotation`), { body: { keyRotationEnabled: true, rotationPeriodInDays: 30 } });
  await op(aes.identity, 'rotate');
  await op(aes.identity, 'encrypt', { plaintext: b64('again'), keyVersion: '1' });

  const sig = (await send('POST', keysPath(`/${ed.identity}/sign`), { body: { input: b64('m') }, project: 'prj-contract' })).json;
  await send('POST', keysPath(`/${ed.identity}/verify`), { body: { input: b64('m'), signature: sig.signature }, project: 'prj-contract' });
  await send('POST', keysPath(`/${ed.identity}/verify`), { body: { input: b64('other'), signature: sig.signature }, project: 'prj-contract' });
  const ecSig = (await op(ec.identity, 'sign', { input: b64('m'), hashAlgorithm: 'sha256' })).json;
  await op(ec.identity, 'verify', { input: b64('m'), signature: ecSig.signature, keyVersion: '1' });
  await send('GET', keysPath(`/${ec.identity}/public-key`));
  await send('GET', keysPath(`/${ec.identity}/public-key?version=1`));
  const hm = (await op(mac.identity, 'hmac', { input: b64('m') })).json;
  await op(mac.identity, 'verify-hmac', { input: b64('m'), hmac: hm.hmac });

  await op(bare.identity, 'disable');
  await op(bare.identity, 'enable');
  await send('DELETE', keysPath(`/${bare.identity}`));
  await send('GET', keysPath(`/${bare.identity}`));
  await send('DELETE', keysPath(`/${bare.identity}`));
  await send('DELETE', keysPath(`/${bare.identity}/cancel-deletion`));
  await send('DELETE', keysPath(`/${imported.identity}`));
  await send('GET', '/v1/kms/summary');

  // Errors, each with the API's error shape.
  const errors = [
    await send('GET', keysPath('/kms-does-not-exist')),
    await create({ name: 'contract-aes', keyType: 'aes256-gcm96' }),
    await create({ name: 'contract-rot', keyType: 'aes256-gcm96', keyRotationEnabled: true }),
    await send('PATCH', keysPath(`/${mac.identity}/rotation`), { body: {} }),
    await op(aes.identity, 'decrypt', { ciphertext: 'not-a-ciphertext' }),
    await op(bare.identity, 'sign', { input: b64('m') }),
    await send('GET', keysPath(), { token: null }),
    await send('GET', keysPath(), { org: null }),
    await send('GET', '/v1/kms/xx-99/keys'),
    await send('PUT', keysPath()),
    await send('GET', '/v1/nothing-here'),
    await send('POST', keysPath(), { rawBody: '{not json' }),
  ];
  expect(errors.map((e) => e.status)).toEqual([404, 409, 400, 400, 400, 400, 401, 400, 404, 405, 404, 400]);
  return exchanges;
}

describe.each([false, true])('the emulator (strict: %s) answers by the contract', (strict) => {
  let emulator: RunningEmulator;
  let exchanges: Exchange[];

  beforeAll(async () => {
    emulator = await startEmulator({ tokens: bindToken(TOKEN, ORG), clients: [CLIENT], strict });
    exchanges = await session(emulator);
  }, 60_000);

  afterAll(async () => {
    await emulator?.close();
  });

  it('every answer of the session follows the schema', () => {
    expect(exchanges.length).toBeGreaterThan(40);
    expect(exchanges.flatMap(checkExchange)).toEqual([]);
  });

  it('the session covers every kind of answer', () => {
    const kinds = new Set(exchanges.map((e) => {
      const schema = schemaFor(e);
      return schema === 'empty' ? 'empty' : `${e.method} ${e.path.replace(/kms-[0-9a-f]{16}|contract-bare/, ':id').replace(/^\/v1\/kms\/[a-z0-9-]+\//, '/v1/kms/:region/')} ${e.status >= 400 ? 'error' : 'ok'}`;
    }));
    for (const op of ['encrypt', 'decrypt', 'sign', 'verify', 'hmac', 'verify-hmac', 'export', 'rotate', 'disable', 'enable']) {
      expect(kinds).toContain(`POST /v1/kms/:region/keys/:id/${op} ok`);
    }
    for (const kind of ['GET /v1/kms/summary ok', 'GET /v1/kms/:region/wrapping-key ok', 'GET /v1/kms/:region/keys ok', 'POST /v1/kms/:region/keys ok',
      'GET /v1/kms/:region/keys/:id ok', 'PATCH /v1/kms/:region/keys/:id/rotation ok', 'GET /v1/kms/:region/keys/:id/public-key ok', 'POST /oidc/token ok', 'POST /oidc/token error', 'empty']) {
      expect(kinds).toContain(kind);
    }
  });

  it(strict ? 'leaves out every field the official client may not receive' : 'sends the optional fields it knows', () => {
    const bodies = exchanges.filter((e) => e.status < 300 && e.text !== '').map((e) => JSON.parse(e.text));
    const keys = bodies.flatMap((b) => (Array.isArray(b) ? b : [b])).filter((b) => typeof b?.keyType === 'string');
    const present = (field: string) => keys.some((k) => field in k);
    const withVersion = bodies.filter((b) => 'keyVersion' in b);
    if (strict) {
      for (const field of ['organisation', 'latestVersion', 'objectVersion', 'deletionScheduledAt']) expect({ field, present: present(field) }).toEqual({ field, present: false });
      expect(keys.flatMap((k) => k.versions).some((v) => 'status' in v)).toBe(false);
      expect(withVersion).toEqual([]);
      expect(exchanges.filter((e) => e.method === 'DELETE' && /keys\/[^/]+$/.test(e.path)).map((e) => e.status)).toEqual([204, 204, 204]);
    } else {
      for (const field of ['organisation', 'latestVersion', 'objectVersion', 'deletionScheduledAt']) expect({ field, present: present(field) }).toEqual({ field, present: true });
      expect(withVersion.length).toBeGreaterThan(5);
    }
    // Either way: what was set is sent.
    expect(keys.find((k) => k.name === 'contract-aes')).toMatchObject({ description: 'contract', labels: { team: 'sec' }, annotations: { note: 'x' } });
    expect(keys.find((k) => k.name === 'contract-imported')).toMatchObject({ imported: true, rotationPeriodInDays: 90 });
    expect(keys.find((k) => k.name === 'contract-ed')).toMatchObject({ projectId: 'prj-contract' });
  });
});

describe('the schema catches a drift', () => {
  let emulator: RunningEmulator;
  let key: Record<string, unknown>;
  let encrypted: Record<string, unknown>;

  beforeAll(async () => {
    emulator = await startEmulator({ tokens: bindToken(TOKEN, ORG), strict: false });
    key = (await call(emulator.url, 'POST', keysPath(), { body: { name: 'drift', keyType: 'aes256-gcm96', labels: { a: 'b' } } })).json;
    encrypted = (await call(emulator.url, 'POST', keysPath(`/${key.identity as string}/encrypt`), { body: { plaintext: b64('x') } })).json;
    expect(kmsKey(key, '$')).toEqual([]);
    expect(encryptAnswer(encrypted, '$')).toEqual([]);
  });

  afterAll(async () => {
    await emulator?.close();
  });

  it.each([
    ['latestVersion a string', (k: Record<string, unknown>) => ({ ...k, latestVersion: '1' }), '$.latestVersion: expected an integer, got string'],
    ['organisation a bare string', (k: Record<string, unknown>) => ({ ...k, organisation: ORG }), '$.organisation: expected an object, got string'],
    ['versions[].version a string', (k: Record<string, unknown>) => ({ ...k, versions: [{ ...(k.versions as object[])[0], version: '1' }] }), '$.versions[0].version: expected an integer, got string'],
    ['description null', (k: Record<string, unknown>) => ({ ...k, description: null }), '$.description: null, where the official client omits an absent field'],
    ['labels empty', (k: Record<string, unknown>) => ({ ...k, labels: {} }), '$.labels: an empty object, where the official client omits it'],
    ['allowRotation echoed', (k: Record<string, unknown>) => ({ ...k, allowRotation: true }), '$.allowRotation: not a field of this object'],
    ['imported false', (k: Record<string, unknown>) => ({ ...k, imported: false }), '$.imported: false, where it is omitted'],
    ['exportAllowed missing', ({ exportAllowed: _e, ...k }: Record<string, unknown>) => k, '$.exportAllowed: required, missing'],
    ['createdAt not RFC 3339', (k: Record<string, unknown>) => ({ ...k, createdAt: 'yesterday' }), '$.createdAt: expected an RFC 3339 timestamp, got "yesterday"'],
  ])('in a key: %s', (_what, mutate, problem) => {
    expect(kmsKey(mutate(key), '$')).toEqual([problem]);
  });

  it('in an operation answer: keyVersion a number', () => {
    expect(encryptAnswer({ ...encrypted, keyVersion: 1 }, '$')).toEqual(['$.keyVersion: expected a version string such as "1", got number 1']);
  });

  it('in a recorded exchange, by route: a 204 with a body, a summary region without kmsAvailable', () => {
    expect(checkExchange({ method: 'DELETE', path: '/v1/kms/nl-01/keys/k/cancel-deletion', status: 204, text: '{}' })).toEqual(['DELETE /v1/kms/nl-01/keys/k/cancel-deletion 204: a 204 with a body']);
    expect(summary({ featureEnabled: true, regions: [{ slug: 'nl-01' }] }, '$')).toEqual(['$.regions[0].kmsAvailable: required, missing']);
  });
});
