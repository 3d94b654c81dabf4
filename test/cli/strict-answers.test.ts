/**
 * The commands against the strict emulator (answers without any field the official client may not receive):
 * each fallback the CLI has for such a field, shown to be used. Always strict, whatever the environment (the
 * rest of the suite is strict by default, see jest.config.js).
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KmsClient } from '../../src/api';
import { startEmulator, strictFromEnvironment, type RunningEmulator } from '../../src/emulator';
import { KeyMaterial } from '../../src/material';
import { WrappingKey, wrap } from '../../src/wrapping';
import { runCli } from '../support/cli';
import { useTempDir } from '../support/openssl';

const TOKEN = 'tok-strict-5150';
const CLIENT = { id: 'strict-client', secret: 'strict-secret-6160' };
let emulator: RunningEmulator;
let env: Record<string, string>;
let client: KmsClient;
const dir = useTempDir();

beforeAll(async () => {
  emulator = await startEmulator({ tokens: [{ token: TOKEN, organisation: 'org-strict' }], clients: [CLIENT], strict: true });
  env = { THALASSA_API_ENDPOINT: emulator.url, THALASSA_API_TOKEN: TOKEN, THALASSA_ORGANISATION: 'org-strict' };
  client = KmsClient.fromEnvironment({ env });
});

afterAll(async () => {
  await client.close();
  await emulator.close();
});

it('THALASSA_EMULATOR_STRICT decides the default, an explicit option wins', async () => {
  expect(emulator.strict).toBe(true);
  expect(strictFromEnvironment({ THALASSA_EMULATOR_STRICT: '1' })).toBe(true);
  expect(strictFromEnvironment({ THALASSA_EMULATOR_STRICT: '0' })).toBe(false);
  expect(strictFromEnvironment({})).toBe(false);
  const lenient = await startEmulator({ tokens: [{ token: TOKEN, organisation: 'org-strict' }], strict: false });
  expect(lenient.strict).toBe(false);
  await lenient.close();
});

it('describe shows the latest version from versions when latestVersion is left out', async () => {
  const key = await client.createKey('nl-01', { name: 'strict-rotated', keyType: 'aes256-gcm96' });
  const rotated = await client.rotateKey('nl-01', key.identity);
  expect(rotated).not.toHaveProperty('latestVersion');
  expect(rotated.versions?.map((v) => v.version)).toEqual([1, 2]);
  const result = await runCli(['describe', '--region', 'nl-01', '--identity', key.identity], env);
  expect(result.code).toBe(0);
  expect(result.stdout).toMatch(/^latestVersion +2$/m);
});

it('import, describe and delete work against lean answers (a 204 DELETE, no deletionScheduledAt)', async () => {
  const wrappingKey = WrappingKey.fromApiResponse(await client.wrappingKey('nl-01'));
  const loaded = KeyMaterial.fromBytes(randomBytes(32), { format: 'raw' }).load('aes256-gcm96');
  const file = join(dir(), 'strict.wrapped');
  writeFileSync(file, wrap(loaded, wrappingKey).toString('base64'), { mode: 0o600 });
  const commitment = join(dir(), 'strict.commitment');
  writeFileSync(commitment, `${loaded.commitment()}\n`, { mode: 0o600 });
  const args = ['--region', 'nl-01', '--name', 'strict-imported'];
  const imported = await runCli(['import', ...args, '--key-type', 'aes256-gcm96', '--wrapped-file', file, '--fingerprint', loaded.fingerprint, '--commitment-file', commitment], env);
  expect(imported.code).toBe(0);
  // Adopted the second time, from answers without organisation, latestVersion or versions[].status.
  const again = await runCli(['import', ...args, '--key-type', 'aes256-gcm96', '--wrapped-file', file, '--fingerprint', loaded.fingerprint, '--commitment-file', commitment, '--json'], env);
  expect(again.code).toBe(0);
  expect(JSON.parse(again.stdout).action).toBe('adopted');
  const before = emulator.requestLog.length;
  const deleted = await runCli(['delete', ...args, '--fingerprint', loaded.fingerprint], env);
  expect(deleted.code).toBe(0);
  expect(emulator.requestLog.slice(before).filter((e) => e.method === 'DELETE').map((e) => e.status)).toEqual([204]);
  const described = await runCli(['describe', ...args], env);
  expect(described.code).toBe(0);
  expect(described.stdout).toMatch(/^status {8}pending_deletion$/m);
  expect(described.stdout).not.toMatch(/^deletion/m);
  expect((await runCli(['cancel-deletion', ...args], env)).code).toBe(0);
});

it('client credentials work without expires_in in the token answer (the lifetime defaults to 300 s)', async () => {
  const before = emulator.requestLog.length;
  const result = await runCli(['list', '--region', 'nl-01'], { ...env, THALASSA_API_TOKEN: '', THALASSA_CLIENT_ID: CLIENT.id, THALASSA_CLIENT_SECRET: CLIENT.secret });
  expect(result.code).toBe(0);
  expect(emulator.requestLog.slice(before).map((e) => `${e.path} ${e.status}`)).toEqual(['/oidc/token 200', '/v1/kms/nl-01/keys 200']);
});

it('wrapping-key reports no algorithm when the answer has none', async () => {
  const result = await runCli(['wrapping-key', '--region', 'nl-01', '--json'], env);
  expect(result.code).toBe(0);
  expect(JSON.parse(result.stdout)).toMatchObject({ algorithm: null, modulusBits: 4096 });
});
