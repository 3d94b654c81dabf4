/**
 * `import --sweep-predecessors`, as the provisioners run it, against the emulator over real HTTP: the import
 * lists the construct's keys while it checks the wrapping key, and schedules deletion of the older ones only
 * once the new key is active — in every region, and nothing of another construct or owner.
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

it('schedules deletion of the construct\'s older keys in every region once the new one is active, and of nothing else', async () => {
  for (const [region, name, owner, construct] of [
    ['fr-01', 'old-fr', OWNER, CONSTRUCT], ['nl-01', 'old-nl', OWNER, CONSTRUCT],
    ['nl-01', 'other-construct', OWNER, 'd'.repeat(32)], ['nl-01', 'other-owner', 'owner-fedcba9876543210', CONSTRUCT],
  ]) {
    expect((await runCli(await importArgs(region, name, owner, construct), env)).code).toBe(0);
  }
  const args = await importArgs('nl-01', 'new', OWNER, CONSTRUCT, ['--sweep-predecessors']);
  const result = await runCli(args, env);
  expect(result.code).toBe(0);
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
