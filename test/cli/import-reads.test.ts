/**
 * What an import reads before it acts, as the provisioners run it, against the emulator over real HTTP: it
 * sends its reads together (the wrapping key, the name, with --sweep-predecessors the construct's keys in
 * every region); nothing is created or adopted before the wrapping-key check, older keys of the construct are
 * scheduled for deletion only after the create, and a failed check ends the command at once, however long
 * the other reads would have gone on.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KmsClient } from '../../src/api';
import { startEmulator, type RunningEmulator } from '../../src/emulator';
import { KeyMaterial } from '../../src/material';
import { WrappingKey, wrap } from '../../src/wrapping';
import { runCli } from '../support/cli';
import { useTempDir } from '../support/openssl';

const ORG = 'org-sweep';
const TOKEN = 'tok-sweep-secret-0815';
const OWNER = 'owner-0123456789abcdef';
const CONSTRUCT = 'c'.repeat(32);

let emulator: RunningEmulator;
let env: NodeJS.ProcessEnv;
let client: KmsClient;
const dir = useTempDir();

beforeAll(async () => {
  emulator = await startEmulator({ tokens: [{ token: TOKEN, organisation: ORG }], regions: ['nl-01', 'fr-01'] });
  env = { THALASSA_API_ENDPOINT: emulator.url, THALASSA_API_TOKEN: TOKEN, THALASSA_ORGANISATION: ORG };
  client = KmsClient.fromEnvironment({ env });
});

afterAll(async () => {
  await client.close();
  await emulator.close();
});

/** The command line that imports fresh AES-256 material as `name` in `region` with the given ownership. */
async function importArgs(region: string, name: string, owner: string, construct: string, extra: string[] = []): Promise<string[]> {
  const loaded = KeyMaterial.fromBytes(randomBytes(32), { format: 'raw' }).load('aes256-gcm96');
  const wrappedFile = join(dir(), `${name}.wrapped`);
  const commitmentFile = join(dir(), `${name}.commitment`);
  writeFileSync(wrappedFile, wrap(loaded, WrappingKey.fromApiResponse(await client.wrappingKey(region))).toString('base64'), { mode: 0o600 });
  writeFileSync(commitmentFile, `${loaded.commitment()}\n`, { mode: 0o600 });
  return [
    'import', '--region', region, '--name', name, '--key-type', 'aes256-gcm96', '--wrapped-file', wrappedFile, '--fingerprint', loaded.fingerprint,
    '--commitment-file', commitmentFile, '--owner', owner, '--construct', construct, ...extra,
  ];
}

async function statusOf(region: string, name: string): Promise<string | undefined> {
  return (await client.listKeys(region)).find((k) => k.name === name)?.status;
}

it('schedules deletion of the construct\'s older keys in every region, only after the create, and of nothing else', async () => {
  for (const [region, name, owner, construct] of [
    ['fr-01', 'old-fr', OWNER, CONSTRUCT], ['nl-01', 'old-nl', OWNER, CONSTRUCT],
    ['nl-01', 'other-construct', OWNER, 'd'.repeat(32)], ['nl-01', 'other-owner', 'owner-fedcba9876543210', CONSTRUCT],
  ]) {
    expect((await runCli(await importArgs(region, name, owner, construct), env)).code).toBe(0);
  }
  const args = await importArgs('nl-01', 'new', OWNER, CONSTRUCT, ['--sweep-predecessors']);
  const before = emulator.requestLog.length;
  const result = await runCli(args, env);
  expect(result.code).toBe(0);
  const calls = emulator.requestLog.slice(before).map((e) => e.method);
  expect(calls.filter((m) => m === 'POST')).toHaveLength(1);
  expect(calls.filter((m) => m === 'DELETE')).toHaveLength(2);
  expect(calls.lastIndexOf('POST')).toBeLessThan(calls.indexOf('DELETE'));
  // The log says the new key exists before it names the deletions (the result itself comes last, on stdout).
  expect(result.stderr).toMatch(/Key (kms-[^ ]+) \("new"\) is imported and active; the keys it replaces go next\.\n(Scheduled deletion of key old-(fr|nl) .*\n){2}$/);
  expect(result.stderr).toMatch(/Scheduled deletion of key old-fr \(kms-[^)]+\) in fr-01/);
  expect(result.stderr).toMatch(/Scheduled deletion of key old-nl \(kms-[^)]+\) in nl-01/);
  expect(await statusOf('nl-01', 'new')).toBe('active');
  expect([await statusOf('fr-01', 'old-fr'), await statusOf('nl-01', 'old-nl')]).toEqual(['pending_deletion', 'pending_deletion']);
  expect([await statusOf('nl-01', 'other-construct'), await statusOf('nl-01', 'other-owner')]).toEqual(['active', 'active']);

  // A re-run lists the key among the construct's keys before it adopts it: the adopted key is kept.
  const again = await runCli(args, env);
  expect(again.code).toBe(0);
  expect(again.stdout).toMatch(/^Adopted existing key kms-/);
  expect(again.stderr).not.toMatch(/Scheduled deletion/);
  expect(await statusOf('nl-01', 'new')).toBe('active');
});

it('a failed listing leaves the new key active, sweeps nothing, and says the next deploy retries', async () => {
  const old = await importArgs('nl-01', 'old-2', OWNER, 'e'.repeat(32));
  expect((await runCli(old, env)).code).toBe(0);
  emulator.setFaults('500=1,match=GET /v1/kms/fr-01/keys');
  try {
    const result = await runCli(await importArgs('nl-01', 'new-2', OWNER, 'e'.repeat(32), ['--sweep-predecessors']), env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Key kms-\S+ \("new-2"\) is imported and active, but scheduling deletion of the keys it replaces failed: .*The next deploy retries\./);
  } finally {
    emulator.setFaults(undefined);
  }
  expect(await statusOf('nl-01', 'new-2')).toBe('active');
  expect(await statusOf('nl-01', 'old-2')).toBe('active');
});

describe('a failed wrapping-key check', () => {
  const WRONG_PIN = `spki-sha256:${'0'.repeat(64)}`;

  it('creates and adopts nothing, though the name lookup found the key', async () => {
    const args = await importArgs('nl-01', 'pending', OWNER, 'f'.repeat(32));
    expect((await runCli(args, env)).code).toBe(0);
    const key = (await client.listKeys('nl-01')).find((k) => k.name === 'pending');
    await client.deleteKey('nl-01', key?.identity as string);
    const before = emulator.requestLog.length;
    const result = await runCli([...args, '--wrapping-key-fingerprint', WRONG_PIN], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(WRONG_PIN);
    // The lookup ran alongside the check, and still nothing was created, restored or deleted.
    const calls = emulator.requestLog.slice(before).map((e) => `${e.method} ${e.path}`);
    expect(calls).toContain('GET /v1/kms/nl-01/keys?name');
    expect(calls.filter((c) => !c.startsWith('GET '))).toEqual([]);
    expect(await statusOf('nl-01', 'pending')).toBe('pending_deletion');
  });

  it('ends the command at once while another read waits to retry', async () => {
    const args = await importArgs('nl-01', 'no-wait', OWNER, 'a'.repeat(32), ['--sweep-predecessors', '--wrapping-key-fingerprint', WRONG_PIN]);
    // Every listing is refused with "retry in 30 s"; before the client abandoned such reads on close, the
    // process stayed alive through their retries.
    emulator.setFaults('429=1,retry-after=30,match=GET /v1/kms/*/keys');
    try {
      const started = Date.now();
      const result = await runCli(args, env);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(WRONG_PIN);
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      emulator.setFaults(undefined);
    }
  });
});
