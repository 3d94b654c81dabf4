/**
 * Import under an unreliable network: with 30% of requests hit by 429s, 503s, resets and latency, every
 * import still converges on exactly one key, and the client-credentials path works against a real token
 * endpoint.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KmsClient } from '../../src/api';
import { startEmulator, type RunningEmulator } from '../../src/emulator';
import { KeyMaterial } from '../../src/material';
import { WrappingKey, wrap } from '../../src/wrapping';
import { runCli } from '../support/cli';
import { makeTempDir, removeDir } from '../support/openssl';

let emulator: RunningEmulator;
let dir: string;

beforeAll(async () => {
  emulator = await startEmulator({ tokens: [{ token: 'tok', organisation: 'org-faults' }], clients: [{ id: 'ci-client', secret: 'ci-secret-value' }] });
  dir = makeTempDir();
});

afterAll(async () => {
  await emulator.close();
  removeDir(dir);
});

it('50 sequential imports with faults on 30% of requests all succeed, leaving exactly 50 keys', async () => {
  const env = { THALASSA_API_ENDPOINT: emulator.url, THALASSA_API_TOKEN: 'tok', THALASSA_ORGANISATION: 'org-faults' };
  const client = KmsClient.fromEnvironment({ env });
  const wrappingKey = WrappingKey.fromApiResponse(await client.wrappingKey('nl-01'));
  emulator.setFaults('seed=2026;429=0.08,retry-after=0;503=0.08;reset=0.07;latency=0.07,ms=5-40');
  const failures: string[] = [];
  try {
    for (let i = 0; i < 50; i++) {
      const loaded = KeyMaterial.fromBytes(randomBytes(16), { format: 'raw' }).load('aes128-gcm96');
      const file = join(dir, `k${i}.wrapped`);
      writeFileSync(file, wrap(loaded, wrappingKey).toString('base64'), { mode: 0o600 });
      const result = await runCli(['import', '--region', 'nl-01', '--name', `faulty-${i}`, '--key-type', 'aes128-gcm96', '--wrapped-file', file, '--fingerprint', loaded.fingerprint], env);
      if (result.code !== 0) failures.push(`faulty-${i}: exit ${result.code}: ${result.stderr}`);
    }
  } finally {
    emulator.setFaults(undefined);
  }
  expect(failures).toEqual([]);
  const keys = await client.listKeys('nl-01');
  expect(keys).toHaveLength(50);
  expect(new Set(keys.map((k) => k.name)).size).toBe(50);
  // The faults really happened: the emulator answered 429/503 or reset connections many times.
  const faulted = emulator.requestLog.filter((e) => e.status === 429 || e.status === 503 || e.fault !== undefined);
  expect(faulted.length).toBeGreaterThan(20);
  await client.close();
}, 180_000);

it('client credentials: the token is fetched from /oidc/token once, cached, and used as Bearer', async () => {
  const env = { THALASSA_API_ENDPOINT: emulator.url, THALASSA_CLIENT_ID: 'ci-client', THALASSA_CLIENT_SECRET: 'ci-secret-value', THALASSA_ORGANISATION: 'org-oidc' };
  const client = KmsClient.fromEnvironment({ env });
  const before = emulator.requestLog.length;
  await client.listKeys('nl-01');
  await client.summary();
  await client.wrappingKey('nl-01');
  const paths = emulator.requestLog.slice(before).map((e) => e.path);
  expect(paths.filter((p) => p === '/oidc/token')).toHaveLength(1);
  expect(paths).toHaveLength(4);
  await client.close();

  const wrong = await runCli(['list', '--region', 'nl-01'], { ...env, THALASSA_CLIENT_SECRET: 'not-the-secret' });
  expect(wrong.code).toBe(1);
  expect(wrong.stderr).toMatch(/rejected the client credentials \(401\). Check THALASSA_CLIENT_ID and THALASSA_CLIENT_SECRET/);
  expect(wrong.stderr).not.toContain('not-the-secret');
});
