/**
 * Every rule of the emulator, over real HTTP: authentication, organisation scoping, limits, validation,
 * names, lifecycle, rotation of imported keys, key operations, error bodies and the request log.
 */
import { createHmac, generateKeyPairSync, randomBytes } from 'node:crypto';
import { startEmulator, type RunningEmulator } from '../../src/emulator';
import { WrappingKey, wrap } from '../../src/wrapping';
import { bindToken, call, keysPath, ORG, REGION, TOKEN, type ApiResponse } from './harness';

let emulator: RunningEmulator;
let wrappingKey: WrappingKey;
const logLines: string[] = [];

beforeAll(async () => {
  // The fuller answers users get (latestVersion, expires_in, deletionScheduledAt…): the strict ones are
  // checked field by field in contract.test.ts.
  emulator = await startEmulator({
    strict: false,
    tokens: bindToken(TOKEN, ORG, 'org-other', 'org-without-kms'),
    clients: [{ id: 'ci', secret: 'ci-secret' }],
    regions: ['nl-01', 'de-01', 'fr-01'],
    unavailableRegions: ['fr-01'],
    featureDisabledOrganisations: ['org-without-kms'],
    log: (line) => logLines.push(line),
  });
  const res = await call(emulator.url, 'GET', `/v1/kms/${REGION}/wrapping-key`);
  wrappingKey = WrappingKey.fromApiResponse(res.json);
});

afterAll(async () => {
  await emulator?.close();
});

/** Asserts an error answer: the status, and a body that is exactly `{"message": <matching text>}`. */
function expectError(res: ApiResponse, status: number, message: RegExp): void {
  expect({ status: res.status, keys: Object.keys(res.json ?? {}) }).toEqual({ status, keys: ['message'] });
  expect(res.json.message).toMatch(message);
}

let counter = 0;
const uniqueName = (prefix: string): string => `${prefix}-${++counter}`;

function importBody(name: string, material: Buffer, keyType: string, extra: Record<string, unknown> = {}, hash = 'sha256'): Record<string, unknown> {
  return { name, keyType, importKeyMaterial: wrap(material, wrappingKey, { hash }).toString('base64'), hashFunction: hash, ...extra };
}

async function create(body: Record<string, unknown>, options: { org?: string; region?: string; project?: string } = {}): Promise<ApiResponse> {
  return call(emulator.url, 'POST', keysPath('', options.region), { body, org: options.org, project: options.project });
}

describe('authentication and scope', () => {
  it('answers 401 without credentials, with an empty or malformed header, and for an unknown token', async () => {
    expectError(await call(emulator.url, 'GET', keysPath(), { token: null }), 401, /Missing credentials/);
    expectError(await call(emulator.url, 'GET', keysPath(), { token: null, headers: { authorization: '' } }), 401, /Missing credentials/);
    expectError(await call(emulator.url, 'GET', keysPath(), { token: null, headers: { authorization: 'Token ' } }), 401, /Malformed|Missing/);
    expectError(await call(emulator.url, 'GET', keysPath(), { token: null, headers: { authorization: 'Basic abc' } }), 401, /Malformed/);
    const wrong = await call(emulator.url, 'GET', keysPath(), { token: 'not-the-token-x7' });
    expectError(wrong, 401, /Invalid credentials/);
    expect(wrong.text).not.toContain('not-the-token-x7');
  });

  it('accepts the configured token as Token or Bearer', async () => {
    expect((await call(emulator.url, 'GET', keysPath(), { scheme: 'Token' })).status).toBe(200);
    expect((await call(emulator.url, 'GET', keysPath(), { scheme: 'Bearer' })).status).toBe(200);
  });

  it('checks credentials before the organisation header, which is required', async () => {
    expectError(await call(emulator.url, 'GET', keysPath(), { token: null, org: null }), 401, /credentials/);
    expectError(await call(emulator.url, 'GET', keysPath(), { org: null }), 400, /X-Organisation-Identity/);
    expectError(await call(emulator.url, 'GET', keysPath(), { org: '  ' }), 400, /X-Organisation-Identity/);
  });

  it('issues OIDC client-credentials tokens that work as Bearer tokens, and refuses bad clients', async () => {
    const form = (body: string, headers: Record<string, string> = {}): Promise<Response> =>
      fetch(`${emulator.url}/oidc/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body });
    const good = await form('grant_type=client_credentials&client_id=ci&client_secret=ci-secret');
    expect(good.status).toBe(200);
    const token = (await good.json()) as { access_token: string; token_type: string; expires_in: number };
    expect(token).toMatchObject({ token_type: 'Bearer', expires_in: 3600 });
    expect(typeof token.access_token).toBe('string');
    expect((await call(emulator.url, 'GET', keysPath(), { token: token.access_token, scheme: 'Bearer' })).status).toBe(200);

    const basic = await form('grant_type=client_credentials', { authorization: `Basic ${Buffer.from('ci:ci-secret').toString('base64')}` });
    expect(basic.status).toBe(200);

    const bad = await form('grant_type=client_credentials&client_id=ci&client_secret=wrong');
    expect(bad.status).toBe(401);
    expect(await bad.json()).toEqual({ error: 'invalid_client' });
    const grant = await form('grant_type=password&client_id=ci&client_secret=ci-secret');
    expect(grant.status).toBe(400);
    expect(await grant.json()).toEqual({ error: 'unsupported_grant_type' });
  });

  it('expires issued tokens after tokenLifetimeSeconds; without clients any id/secret pair is accepted', async () => {
    const short = await startEmulator({ tokenLifetimeSeconds: 1, tokens: bindToken('static', ORG), strict: false });
    try {
      const res = await fetch(`${short.url}/oidc/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials&client_id=anyone&client_secret=anything' });
      expect(res.status).toBe(200);
      const { access_token: token, expires_in: expiresIn } = (await res.json()) as { access_token: string; expires_in: number };
      expect(expiresIn).toBe(1);
      expect((await call(short.url, 'GET', '/v1/kms/summary', { token, scheme: 'Bearer' })).status).toBe(200);
      await new Promise((r) => setTimeout(r, 1100));
      expectError(await call(short.url, 'GET', '/v1/kms/summary', { token, scheme: 'Bearer' }), 401, /expired/);
    } finally {
      await short.close();
    }
  });

  it('answers 403 for an organisation without the KMS feature, whose summary says featureEnabled false', async () => {
    expectError(await call(emulator.url, 'GET', keysPath(), { org: 'org-without-kms' }), 403, /KMS feature not enabled for organisation/);
    const summary = await call(emulator.url, 'GET', '/v1/kms/summary', { org: 'org-without-kms' });
    expect(summary.status).toBe(200);
    expect(summary.json.featureEnabled).toBe(false);
  });

  it('answers 404 for an unknown region and 503 where KMS is unavailable', async () => {
    expectError(await call(emulator.url, 'GET', '/v1/kms/xx-99/keys'), 404, /region "xx-99" not found/);
    expectError(await call(emulator.url, 'GET', '/v1/kms/fr-01/keys'), 503, /KMS not available in region/);
  });

  it('hides keys of another organisation (404) and scopes by project when asked', async () => {
    const name = uniqueName('scoped');
    const created = await create({ name, keyType: 'aes256-gcm96' }, { project: 'proj-a' });
    expect(created.status).toBe(201);
    expect(created.json.projectId).toBe('proj-a');
    expect(created.json.organisation).toMatchObject({ identity: ORG });
    expect(created.json).not.toHaveProperty('allowRotation');
    expect(created.json).not.toHaveProperty('region');
    expectError(await call(emulator.url, 'GET', keysPath(`/${created.json.identity}`), { org: 'org-other' }), 404, /not found/);
    expect((await call(emulator.url, 'GET', keysPath(), { org: 'org-other' })).json).toEqual([]);
    expectError(await call(emulator.url, 'DELETE', keysPath(`/${created.json.identity}`), { org: 'org-other' }), 404, /not found/);
    expectError(await call(emulator.url, 'GET', keysPath(`/${created.json.identity}`), { project: 'proj-b' }), 404, /not found/);
    expect((await call(emulator.url, 'GET', keysPath(`/${created.json.identity}`), { project: 'proj-a' })).status).toBe(200);
    // 409 is scoped by project too: the same name in another project of the organisation is fine, twice in one is not.
    expect((await create({ name, keyType: 'aes256-gcm96' }, { project: 'proj-b' })).status).toBe(201);
    expectError(await create({ name, keyType: 'aes256-gcm96' }, { project: 'proj-b' }), 409, /already exists .*in project proj-b/);
    // The same name in another organisation, or another region, is fine.
    expect((await create({ name, keyType: 'aes256-gcm96' }, { org: 'org-other' })).status).toBe(201);
    expect((await create({ name, keyType: 'aes256-gcm96' }, { region: 'de-01' })).status).toBe(201);
  });
});

describe('HTTP rules', () => {
  it('answers 404 for an unknown route and 405 (with Allow) for a wrong method', async () => {
    expectError(await call(emulator.url, 'GET', '/v1/kms/nl-01/nothing'), 404, /No route/);
    expectError(await call(emulator.url, 'GET', '/'), 404, /No route/);
    const res = await call(emulator.url, 'PUT', keysPath());
    expectError(res, 405, /not allowed/);
    expect(res.headers.get('allow')).toBe('GET, POST');
  });

  it('answers 413 for a body over 1 MiB', async () => {
    const big = JSON.stringify({ name: 'big', keyType: 'aes256-gcm96', description: 'x'.repeat(1024 * 1024) });
    expectError(await call(emulator.url, 'POST', keysPath(), { rawBody: big, headers: { 'content-type': 'application/json' } }), 413, /exceeds the limit of 1048576 bytes/);
  });

  it('answers 400 for malformed JSON and for JSON that is not an object', async () => {
    expectError(await call(emulator.url, 'POST', keysPath(), { rawBody: '{"name": ', headers: { 'content-type': 'application/json' } }), 400, /not valid JSON/);
    expectError(await call(emulator.url, 'POST', keysPath(), { rawBody: '[1,2]', headers: { 'content-type': 'application/json' } }), 400, /JSON object/);
  });

  it('validates the create request', async () => {
    const base = { name: uniqueName('valid'), keyType: 'aes256-gcm96' };
    expectError(await create({ keyType: 'aes256-gcm96' }), 400, /"name" is required/);
    expectError(await create({ ...base, name: '' }), 400, /"name" must be 1 to 255/);
    expectError(await create({ ...base, name: 'n'.repeat(256) }), 400, /"name" must be 1 to 255/);
    expect((await create({ ...base, name: `${uniqueName('n')}${'n'.repeat(240)}` })).status).toBe(201);
    expectError(await create({ ...base, description: 'd'.repeat(1025) }), 400, /"description" must be 0 to 1024/);
    expectError(await create({ ...base, labels: { env: 1 } }), 400, /"labels" must map strings to strings/);
    expectError(await create({ ...base, annotations: ['a'] }), 400, /"annotations" must be an object/);
    expectError(await create({ ...base, rotationPeriodInDays: 0 }), 400, /between 1 and 3650/);
    expectError(await create({ ...base, rotationPeriodInDays: 3651 }), 400, /between 1 and 3650/);
    expectError(await create({ ...base, keyType: 'aes512' }), 400, /Unknown keyType/);
    expectError(await create({ ...base, exportAllowed: 'yes' }), 400, /"exportAllowed" must be a boolean/);
    expectError(await create({ ...base, importKeyMaterial: 'not base64!' }), 400, /base64/);
  });
});

describe('names', () => {
  it('refuses a duplicate name or slug in the region (409), including a key pending deletion', async () => {
    const name = uniqueName('Dup Key');
    const first = await create({ name, keyType: 'aes128-gcm96' });
    expect(first.status).toBe(201);
    expect(first.json.slug).toBe(`dup-key-${counter}`);
    expectError(await create({ name, keyType: 'aes128-gcm96' }), 409, /already exists/);
    expectError(await create({ name: `dup_key_${counter}`, keyType: 'aes128-gcm96' }), 409, /slug/);
    expect((await call(emulator.url, 'DELETE', keysPath(`/${first.json.identity}`))).status).toBe(200);
    expectError(await create({ name, keyType: 'aes128-gcm96' }), 409, /pending deletion/);
    // Imports obey the same rule.
    expectError(await create(importBody(name, randomBytes(16), 'aes128-gcm96')), 409, /already exists/);
  });

  it('finds keys by identity or slug, and lists with name, slug, identity and matchLabels filters', async () => {
    const name = uniqueName('Listed Key');
    const a = await create({ name, keyType: 'aes256-gcm96', labels: { env: 'prod', team: 'pay' } });
    const b = await create({ name: uniqueName('other'), keyType: 'aes256-gcm96', labels: { env: 'prod', team: 'web' } });
    expect((await call(emulator.url, 'GET', keysPath(`/${a.json.slug}`))).json.identity).toBe(a.json.identity);
    expect((await call(emulator.url, 'GET', keysPath(`/${a.json.identity}`))).json.name).toBe(name);
    const list = async (query: string): Promise<string[]> => (await call(emulator.url, 'GET', keysPath(query))).json.map((k: { identity: string }) => k.identity);
    expect(await list(`?name=${encodeURIComponent(name)}`)).toEqual([a.json.identity]);
    expect(await list(`?slug=${a.json.slug}`)).toEqual([a.json.identity]);
    expect(await list(`?identity=${b.json.identity}`)).toEqual([b.json.identity]);
    const prod = await list('?matchLabels[env]=prod');
    expect(prod).toEqual(expect.arrayContaining([a.json.identity, b.json.identity]));
    expect(await list('?matchLabels[env]=prod&matchLabels[team]=web')).toEqual([b.json.identity]);
    expect(await list('?matchLabels%5Bteam%5D=pay')).toEqual([a.json.identity]);
  });
});

describe('import', () => {
  it('refuses HMAC material with 400 naming the rule', async () => {
    expectError(await create(importBody(uniqueName('hmac'), randomBytes(32), 'hmac-sha256')), 400, /HMAC keys cannot be imported/);
  });

  it('answers 400 without echo for a wrong hash, a damaged blob, a truncated blob and mismatched material', async () => {
    const material = randomBytes(32);
    const body = importBody(uniqueName('bad'), material, 'aes256-gcm96');
    const blob = body.importKeyMaterial as string;
    const check = async (res: ApiResponse, message: RegExp): Promise<void> => {
      expectError(res, 400, message);
      expect(res.text).not.toContain(blob.slice(0, 32));
      expect(res.text).not.toContain(material.toString('base64'));
      expect(res.text).not.toContain(material.toString('hex'));
    };
    await check(await create({ ...body, hashFunction: 'sha512' }), /does not decrypt with this wrapping key and hash sha512/);
    await check(await create({ ...body, hashFunction: 'md5' }), /Unsupported hash function/);
    const damaged = Buffer.from(blob, 'base64');
    damaged[damaged.length - 3] ^= 0xff;
    await check(await create({ ...body, importKeyMaterial: damaged.toString('base64') }), /integrity check/);
    await check(await create({ ...body, importKeyMaterial: Buffer.from(blob, 'base64').subarray(0, 100).toString('base64') }), /received 100 bytes/);
    await check(await create({ ...body, keyType: 'aes128-gcm96' }), /does not match keyType aes128-gcm96/);
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'der', type: 'pkcs8' });
    await check(await create(importBody(uniqueName('curve'), ec, 'ecdsa-p384')), /does not match keyType ecdsa-p384.*curve/);
  });

  it('refuses rotation of an imported key without allowRotation, by rotate and by PATCH rotation', async () => {
    const created = await create(importBody(uniqueName('fixed'), randomBytes(32), 'aes256-gcm96'));
    expect(created.json).toMatchObject({ imported: true, keyRotationEnabled: false });
    const id = created.json.identity;
    expectError(await call(emulator.url, 'POST', keysPath(`/${id}/rotate`)), 400, /allowRotation/);
    expectError(await call(emulator.url, 'PATCH', keysPath(`/${id}/rotation`), { body: { keyRotationEnabled: true } }), 400, /allowRotation/);
    expectError(await call(emulator.url, 'PATCH', keysPath(`/${id}/rotation`), { body: { rotationPeriodInDays: 90 } }), 400, /allowRotation/);
    expect((await call(emulator.url, 'PATCH', keysPath(`/${id}/rotation`), { body: { keyRotationEnabled: false } })).status).toBe(200);
    expectError(await create(importBody(uniqueName('fixed'), randomBytes(32), 'aes256-gcm96', { keyRotationEnabled: true })), 400, /allowRotation/);
    expect((await call(emulator.url, 'GET', keysPath(`/${id}`))).json.latestVersion).toBe(1);
  });

  it('rotates an imported key with allowRotation: encrypt uses the latest version, decrypt follows the prefix', async () => {
    const created = await create(importBody(uniqueName('rotating'), randomBytes(32), 'chacha20-poly1305', { allowRotation: true }));
    const id = created.json.identity;
    const encrypt = async (extra = {}): Promise<ApiResponse> => call(emulator.url, 'POST', keysPath(`/${id}/encrypt`), { body: { plaintext: Buffer.from('hello').toString('base64'), ...extra } });
    const v1 = (await encrypt()).json.ciphertext;
    expect(v1).toMatch(/^thalassa:v1:/);
    const rotated = await call(emulator.url, 'POST', keysPath(`/${id}/rotate`));
    expect(rotated.status).toBe(200);
    expect(rotated.json.latestVersion).toBe(2);
    expect(rotated.json.versions.map((v: { version: number }) => v.version)).toEqual([1, 2]);
    expect((await encrypt()).json).toMatchObject({ ciphertext: expect.stringMatching(/^thalassa:v2:/), keyVersion: '2' });
    expect((await encrypt({ keyVersion: '1' })).json.ciphertext).toMatch(/^thalassa:v1:/);
    expectError(await encrypt({ keyVersion: '3' }), 400, /no version 3/);
    const decrypted = await call(emulator.url, 'POST', keysPath(`/${id}/decrypt`), { body: { ciphertext: v1 } });
    expect(decrypted.json).toEqual({ plaintext: Buffer.from('hello').toString('base64'), keyVersion: '1' });
    const patched = await call(emulator.url, 'PATCH', keysPath(`/${id}/rotation`), { body: { keyRotationEnabled: true, rotationPeriodInDays: 30 } });
    expect(patched.json).toMatchObject({ keyRotationEnabled: true, rotationPeriodInDays: 30 });
  });
});

describe('lifecycle', () => {
  it('schedules deletion 30 days ahead, repeats as a no-op, refuses operations, and cancels back to active', async () => {
    const created = await create({ name: uniqueName('doomed'), keyType: 'aes256-gcm96' });
    const id = created.json.identity;
    expect(created.json).not.toHaveProperty('deletionScheduledAt');
    expect(created.json).not.toHaveProperty('description');
    const before = Date.now();
    const deleted = await call(emulator.url, 'DELETE', keysPath(`/${id}`));
    expect(deleted.status).toBe(200);
    expect(deleted.json).toMatchObject({ identity: id, status: 'pending_deletion', deletionScheduledAt: expect.any(String) });
    const pending = (await call(emulator.url, 'GET', keysPath(`/${id}`))).json;
    expect(deleted.json.deletionScheduledAt).toBe(pending.deletionScheduledAt);
    expect(pending.status).toBe('pending_deletion');
    const due = Date.parse(pending.deletionScheduledAt);
    expect(due - before).toBeGreaterThanOrEqual(30 * 86_400_000 - 1000);
    expect(due - before).toBeLessThan(30 * 86_400_000 + 60_000);
    const again = await call(emulator.url, 'DELETE', keysPath(`/${id}`));
    expect({ status: again.status, deletionScheduledAt: again.json.deletionScheduledAt }).toEqual({ status: 200, deletionScheduledAt: pending.deletionScheduledAt });
    expect((await call(emulator.url, 'GET', keysPath(`/${id}`))).json.deletionScheduledAt).toBe(pending.deletionScheduledAt);
    expectError(await call(emulator.url, 'POST', keysPath(`/${id}/encrypt`), { body: { plaintext: 'aGk=' } }), 400, /pending deletion/);
    expectError(await call(emulator.url, 'POST', keysPath(`/${id}/enable`)), 400, /pending deletion/);
    expect((await call(emulator.url, 'DELETE', keysPath(`/${id}/cancel-deletion`))).status).toBe(204);
    const back = (await call(emulator.url, 'GET', keysPath(`/${id}`))).json;
    expect(back.status).toBe('active');
    expect(back).not.toHaveProperty('deletionScheduledAt');
    expect(back.objectVersion).toBeGreaterThan(created.json.objectVersion);
  });

  it('refuses operations on a disabled key until it is enabled', async () => {
    const id = (await create({ name: uniqueName('sleepy'), keyType: 'aes256-gcm96' })).json.identity;
    expect((await call(emulator.url, 'POST', keysPath(`/${id}/disable`))).json.status).toBe('disabled');
    expectError(await call(emulator.url, 'POST', keysPath(`/${id}/encrypt`), { body: { plaintext: 'aGk=' } }), 400, /disabled/);
    expectError(await call(emulator.url, 'POST', keysPath(`/${id}/rotate`)), 400, /disabled/);
    expect((await call(emulator.url, 'POST', keysPath(`/${id}/enable`))).json.status).toBe('active');
    expect((await call(emulator.url, 'POST', keysPath(`/${id}/encrypt`), { body: { plaintext: 'aGk=' } })).status).toBe(200);
  });

  it('counts keys by status in the summary', async () => {
    const summary = await call(emulator.url, 'GET', '/v1/kms/summary');
    expect(summary.json.featureEnabled).toBe(true);
    const nl = summary.json.regions.find((r: { slug: string }) => r.slug === 'nl-01');
    expect(nl.kmsAvailable).toBe(true);
    expect(nl.totalKeys).toBe(nl.activeKeys + nl.disabledKeys + nl.pendingDeletionKeys);
    expect(nl.pendingDeletionKeys).toBeGreaterThan(0);
    expect(summary.json.regions.find((r: { slug: string }) => r.slug === 'fr-01').kmsAvailable).toBe(false);
  });
});

describe('generated keys and operations', () => {
  it('generates every one of the 13 key types, and never shows material in the key', async () => {
    const types = ['aes128-gcm96', 'aes256-gcm96', 'chacha20-poly1305', 'rsa-2048', 'rsa-3072', 'rsa-4096', 'ecdsa-p256', 'ecdsa-p384', 'ecdsa-p521', 'ed25519', 'hmac', 'hmac-sha256', 'hmac-sha512'];
    const results = await Promise.all(types.map((keyType) => create({ name: uniqueName(`gen-${keyType}`), keyType })));
    for (const [i, res] of results.entries()) {
      expect(res.status).toBe(201);
      expect(res.json).toMatchObject({ keyType: types[i], latestVersion: 1 });
      expect(res.json).not.toHaveProperty('imported');
      expect(res.json).not.toHaveProperty('material');
      expect(res.json).not.toHaveProperty('keyMaterial');
    }
  });

  it('computes and verifies HMACs that match a local HMAC with the exported material', async () => {
    const id = (await create({ name: uniqueName('mac'), keyType: 'hmac-sha512', exportAllowed: true })).json.identity;
    const input = Buffer.from('data to authenticate');
    const mac = await call(emulator.url, 'POST', keysPath(`/${id}/hmac`), { body: { input: input.toString('base64') } });
    expect(mac.status).toBe(200);
    const material = Buffer.from((await call(emulator.url, 'POST', keysPath(`/${id}/export`))).json.keyMaterial, 'base64');
    expect(material).toHaveLength(64);
    expect(mac.json.hmac).toBe(createHmac('sha512', material).update(input).digest('base64'));
    expect((await call(emulator.url, 'POST', keysPath(`/${id}/verify-hmac`), { body: { input: input.toString('base64'), hmac: mac.json.hmac } })).json.valid).toBe(true);
    expect((await call(emulator.url, 'POST', keysPath(`/${id}/verify-hmac`), { body: { input: 'eA==', hmac: mac.json.hmac } })).json.valid).toBe(false);
    expectError(await call(emulator.url, 'POST', keysPath(`/${id}/encrypt`), { body: { plaintext: 'aGk=' } }), 400, /does not support encrypt/);
  });

  it('refuses export without exportAllowed, operations the type lacks, and bad inputs', async () => {
    const aes = (await create({ name: uniqueName('noexport'), keyType: 'aes256-gcm96' })).json.identity;
    expectError(await call(emulator.url, 'POST', keysPath(`/${aes}/export`)), 400, /exportAllowed/);
    expectError(await call(emulator.url, 'POST', keysPath(`/${aes}/sign`), { body: { input: 'aGk=' } }), 400, /does not support sign/);
    expectError(await call(emulator.url, 'POST', keysPath(`/${aes}/hmac`), { body: { input: 'aGk=' } }), 400, /does not support hmac/);
    expectError(await call(emulator.url, 'GET', keysPath(`/${aes}/public-key`)), 400, /no public key/);
    expectError(await call(emulator.url, 'POST', keysPath(`/${aes}/encrypt`), { body: {} }), 400, /"plaintext" is required/);
    expectError(await call(emulator.url, 'POST', keysPath(`/${aes}/decrypt`), { body: { ciphertext: 'vault:v1:abc' } }), 400, /thalassa:v/);
    expectError(await call(emulator.url, 'POST', keysPath(`/${aes}/decrypt`), { body: { ciphertext: `thalassa:v1:${randomBytes(40).toString('base64')}` } }), 400, /does not decrypt/);
    const ed = (await create({ name: uniqueName('ed'), keyType: 'ed25519' })).json.identity;
    expectError(await call(emulator.url, 'POST', keysPath(`/${ed}/encrypt`), { body: { plaintext: 'aGk=' } }), 400, /does not support encrypt/);
    expectError(await call(emulator.url, 'POST', keysPath(`/${ed}/sign`), { body: { input: 'aGk=', prehashed: true } }), 400, /prehashed/);
    const ec = (await create({ name: uniqueName('ec'), keyType: 'ecdsa-p256' })).json.identity;
    expectError(await call(emulator.url, 'POST', keysPath(`/${ec}/sign`), { body: { input: 'aGk=', hashAlgorithm: 'md5' } }), 400, /hashAlgorithm/);
    const pub = await call(emulator.url, 'GET', keysPath(`/${ec}/public-key?version=1`));
    expect(Object.keys(pub.json.keys)).toEqual(['1']);
    expectError(await call(emulator.url, 'GET', keysPath(`/${ec}/public-key?version=2`)), 400, /no version 2/);
  });
});

describe('request log', () => {
  it('logs method, path, status and duration, and never a token, a query value or material', async () => {
    const material = randomBytes(32);
    const body = importBody(uniqueName('logged'), material, 'aes256-gcm96');
    await create(body);
    await call(emulator.url, 'GET', keysPath('?name=confidential-name-42&matchLabels[env]=prod'));
    const text = logLines.join('\n');
    expect(text).toMatch(/ POST \/v1\/kms\/nl-01\/keys 201 \d+ms/);
    expect(text).toMatch(/ GET \/v1\/kms\/nl-01\/keys\?name&matchLabels\[env\] 200 \d+ms/);
    expect(text).toMatch(/ GET \/v1\/kms\/nl-01\/keys 401 \d+ms/);
    for (const secret of [TOKEN, 'ci-secret', 'not-the-token-x7', 'confidential-name-42', (body.importKeyMaterial as string).slice(0, 24), material.toString('base64'), material.toString('hex')]) {
      expect(text).not.toContain(secret);
    }
    const entry = emulator.requestLog[emulator.requestLog.length - 1];
    expect(entry).toMatchObject({ method: 'GET', path: '/v1/kms/nl-01/keys?name&matchLabels[env]', status: 200 });
    expect(typeof entry.durationMs).toBe('number');
  });
});
