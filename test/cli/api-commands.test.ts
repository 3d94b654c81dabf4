/**
 * The apply-step commands against the emulator over real HTTP, as separate processes: exit codes, messages,
 * idempotence, adoption by fingerprint, and what a user sees for each API failure.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KmsClient } from '../../src/api';
import { COMMITMENT_ANNOTATION } from '../../src/protocol';
import { startEmulator, type RunningEmulator } from '../../src/emulator';
import { KeyMaterial, FINGERPRINT_ANNOTATION } from '../../src/material';
import { WrappingKey, wrap } from '../../src/wrapping';
import { runCli } from '../support/cli';
import { expectNoLeak } from '../support/no-leak';
import { useTempDir } from '../support/openssl';

const ORG = 'org-cli';
const TOKEN = 'tok-cli-secret-4711';

let emulator: RunningEmulator;
let env: NodeJS.ProcessEnv;
let wrappingKey: WrappingKey;
let client: KmsClient;
const dir = useTempDir();

beforeAll(async () => {
  emulator = await startEmulator({ tokens: [{ token: TOKEN, organisation: ORG }, { token: TOKEN, organisation: 'org-nokms' }], regions: ['nl-01', 'de-01'], unavailableRegions: ['de-01'], featureDisabledOrganisations: ['org-nokms'] });
  env = { THALASSA_API_ENDPOINT: emulator.url, THALASSA_API_TOKEN: TOKEN, THALASSA_ORGANISATION: ORG };
  client = KmsClient.fromEnvironment({ env });
  wrappingKey = WrappingKey.fromApiResponse(await client.wrappingKey('nl-01'));
});

afterAll(async () => {
  await client.close();
  await emulator.close();
});

/** Fresh AES-256 material, its fingerprint, and a wrapped-blob file in the test's temp dir. */
/** Material, its wrapped blob and its commitment (the proof adoption asks of a symmetric key), as the synth writes them. */
function symmetricKey(): { material: Buffer; fingerprint: string; wrappedFile: string; commitmentFile: string } {
  const material = randomBytes(32);
  const loaded = KeyMaterial.fromBytes(material, { format: 'raw' }).load('aes256-gcm96');
  const wrappedFile = join(dir(), `${loaded.fingerprint.slice(12, 20)}.wrapped`);
  writeFileSync(wrappedFile, wrap(loaded, wrappingKey).toString('base64'), { mode: 0o600 });
  const commitmentFile = join(dir(), `${loaded.fingerprint.slice(12, 20)}.commitment`);
  writeFileSync(commitmentFile, `${loaded.commitment()}\n`, { mode: 0o600 });
  return { material, fingerprint: loaded.fingerprint, wrappedFile, commitmentFile };
}

function importArgs(name: string, key: { fingerprint: string; wrappedFile: string; commitmentFile?: string }, extra: string[] = []): string[] {
  return [
    'import', '--region', 'nl-01', '--name', name, '--key-type', 'aes256-gcm96', '--wrapped-file', key.wrappedFile, '--fingerprint', key.fingerprint,
    ...(key.commitmentFile === undefined ? [] : ['--commitment-file', key.commitmentFile]), ...extra,
  ];
}

async function keysNamed(name: string) {
  return (await client.listKeys('nl-01')).filter((k) => k.name === name);
}

describe('thalassa-byok import', () => {
  it('imports, records the fingerprint, and the key holds exactly the material', async () => {
    const key = symmetricKey();
    const result = await runCli(importArgs('cli-import-1', key, ['--label', 'team=sec', '--description', 'from the CLI', '--json']), env);
    expect(result.code).toBe(0);
    const out = JSON.parse(result.stdout);
    expect(out.action).toBe('created');
    expect(out.key).toMatchObject({ name: 'cli-import-1', imported: true, keyType: 'aes256-gcm96', labels: { team: 'sec' }, annotations: { [FINGERPRINT_ANNOTATION]: key.fingerprint } });
    // The key carries the commitment, and no output shows it: not even --json.
    const commitment = readFileSync(key.commitmentFile, 'utf8').trim();
    expect((await keysNamed('cli-import-1'))[0].annotations?.[COMMITMENT_ANNOTATION]).toBe(commitment);
    expect(out.key.annotations[COMMITMENT_ANNOTATION]).toBe('(recorded; not shown)');
    for (const command of [['describe', '--name', 'cli-import-1'], ['list']]) {
      const shown = await runCli([...command, '--region', 'nl-01', '--json'], env);
      expect(shown.code).toBe(0);
      expect(shown.stdout).toContain('(recorded; not shown)');
      expect(shown.stdout + shown.stderr).not.toContain(commitment);
    }
    expect(result.stdout + result.stderr).not.toContain(commitment);
    // The emulator decrypts with the imported key: decrypting its ciphertext locally proves it is our key.
    const { ciphertext } = await client.encrypt('nl-01', out.key.identity, Buffer.from('hello').toString('base64'));
    const raw = Buffer.from(ciphertext.split(':')[2], 'base64');
    const { createDecipheriv } = await import('node:crypto');
    const decipher = createDecipheriv('aes-256-gcm', key.material, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(raw.length - 16));
    expect(Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]).toString()).toBe('hello');
    for (const text of [result.stdout, result.stderr]) {
      expectNoLeak(text, key.material);
      expectNoLeak(text, Buffer.from(readFileSync(key.wrappedFile, 'utf8'), 'base64'));
      expect(text).not.toContain(TOKEN);
    }
  });

  it('is a no-op success when re-run, and adopts instead of creating twice', async () => {
    const key = symmetricKey();
    expect((await runCli(importArgs('cli-rerun', key), env)).code).toBe(0);
    const again = await runCli(importArgs('cli-rerun', key), env);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^Adopted existing key kms-/);
    expect(await keysNamed('cli-rerun')).toHaveLength(1);
  });

  it('refuses (exit 3) a name taken by a key with another fingerprint and creates nothing', async () => {
    const first = symmetricKey();
    const second = symmetricKey();
    expect((await runCli(importArgs('cli-taken', first), env)).code).toBe(0);
    const result = await runCli(importArgs('cli-taken', second), env);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(`carries fingerprint ${first.fingerprint}, not ${second.fingerprint}. Nothing was changed: the key this construct used before (if any) is untouched and stays active.`);
    const keys = await keysNamed('cli-taken');
    expect(keys).toHaveLength(1);
    expect(keys[0].annotations?.[FINGERPRINT_ANNOTATION]).toBe(first.fingerprint);
  });

  it('refuses a key that was not imported by this tool (no fingerprint annotation)', async () => {
    await client.createKey('nl-01', { name: 'cli-foreign', keyType: 'aes256-gcm96' });
    const result = await runCli(importArgs('cli-foreign', symmetricKey()), env);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/has no cdktf-thalassa-byok\/fingerprint annotation \(it was not imported by cdktf-thalassa-byok\)/);
  });

  it('restores its own key that is pending deletion instead of failing on the kept name', async () => {
    const key = symmetricKey();
    expect((await runCli(importArgs('cli-restore', key), env)).code).toBe(0);
    expect((await runCli(['delete', '--region', 'nl-01', '--name', 'cli-restore', '--fingerprint', key.fingerprint], env)).code).toBe(0);
    expect((await keysNamed('cli-restore'))[0].status).toBe('pending_deletion');
    const result = await runCli(importArgs('cli-restore', key), env);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Adopted \(deletion cancelled\)/);
    expect((await keysNamed('cli-restore'))[0].status).toBe('active');
  });

  it('restores its own asymmetric key pending deletion (whose public key the API shows only once it is restored)', async () => {
    const pem = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const loaded = KeyMaterial.fromBytes(pem).load('ecdsa-p256');
    const wrappedFile = join(dir(), 'restore-ec.wrapped');
    writeFileSync(wrappedFile, wrap(loaded, wrappingKey).toString('base64'), { mode: 0o600 });
    const args = ['import', '--region', 'nl-01', '--name', 'cli-restore-ec', '--key-type', 'ecdsa-p256', '--wrapped-file', wrappedFile, '--fingerprint', loaded.fingerprint];
    loaded.destroy();
    expect((await runCli(args, env)).code).toBe(0);
    expect((await runCli(['delete', '--region', 'nl-01', '--name', 'cli-restore-ec', '--fingerprint', args[args.length - 1]], env)).code).toBe(0);
    const result = await runCli(args, env);
    expect([result.code, result.stdout]).toEqual([0, expect.stringMatching(/Adopted \(deletion cancelled\)/)]);
    expect((await keysNamed('cli-restore-ec')).map((k) => k.status)).toEqual(['active']);
  });

  it('refuses to adopt its own material imported with other settings (a reused physical name)', async () => {
    const key = symmetricKey();
    expect((await runCli(importArgs('cli-settings', key, ['--label', 'tier=1']), env)).code).toBe(0);
    expect((await runCli(['delete', '--region', 'nl-01', '--name', 'cli-settings', '--fingerprint', key.fingerprint], env)).code).toBe(0);
    // allowRotation is not a field of the official KmsKey, so the emulator no longer echoes it: a label is the
    // setting whose difference the answer can show.
    const result = await runCli(importArgs('cli-settings', key, ['--label', 'tier=2']), env);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/was imported with other settings \(labels .*"tier":"1".* ≠ declared .*"tier":"2".*\).*leave physicalName unset/);
    const keys = await keysNamed('cli-settings');
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ status: 'pending_deletion', labels: { tier: '1' } });
  });

  it('survives a lost answer: the create is committed, the response dropped, and import adopts the one key', async () => {
    const key = symmetricKey();
    emulator.setFaults({ rules: [{ kind: 'drop-after-commit', method: 'POST', path: '/v1/kms/nl-01/keys', count: 1 }] });
    try {
      const result = await runCli(importArgs('cli-dropped', key), env);
      expect(result.stderr).toMatch(/outcome is unknown.*looking the key up/);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^Adopted existing key/);
    } finally {
      emulator.setFaults(undefined);
    }
    expect(await keysNamed('cli-dropped')).toHaveLength(1);
    const again = await runCli(importArgs('cli-dropped', key), env);
    expect(again.code).toBe(0);
    expect(await keysNamed('cli-dropped')).toHaveLength(1);
  });

  it('sends the wrapped blob in the create call and nowhere else', async () => {
    const key = symmetricKey();
    const before = emulator.requestLog.length;
    expect((await runCli(importArgs('cli-one-post', key), env)).code).toBe(0);
    const calls = emulator.requestLog.slice(before).map((e) => `${e.method} ${e.path}`);
    expect(calls.filter((c) => c.startsWith('POST'))).toEqual(['POST /v1/kms/nl-01/keys']);
  });

  it('reads the blob from an environment variable too', async () => {
    const key = symmetricKey();
    const blob = readFileSync(key.wrappedFile, 'utf8');
    const result = await runCli(['import', '--region', 'nl-01', '--name', 'cli-env', '--key-type', 'aes256-gcm96', '--wrapped-env', 'BLOB', '--fingerprint', key.fingerprint], { ...env, BLOB: blob });
    expect(result.code).toBe(0);
    expect(result.stdout + result.stderr).not.toContain(blob.slice(0, 40));
  });

  it.each([
    [['--name', 'x'], /Missing required option --region/],
    [['--region', 'nl-01', '--name', 'x', '--key-type', 'aes256-gcm96', '--fingerprint', 'kcv:abcdef'], /exactly one of --wrapped-file F or --wrapped-env VAR/],
    [['--region', 'NL 01', '--name', 'x'], /--region must be a region slug/],
    [['--region', 'nl-01', '--name', 'x', '--key-type', 'aes256-gcm96', '--fingerprint', 'x', '--wrapped-file', '/nonexistent'], /--fingerprint must be/],
    [['--region', 'nl-01', '--name', 'x', '--key-type', 'aes256-gcm96', '--fingerprint', 'kcv:abcdef', '--wrapped-file', '/nonexistent/blob'], /Cannot read --wrapped-file \/nonexistent\/blob \(ENOENT\)/],
    [['--region', 'nl-01', '--name', 'x', '--key-type', 'aes256-gcm96', '--fingerprint', 'kcv:abcdef', '--wrapped-env', 'B', '--label', 'novalue'], /--label takes key=value/],
    [['--region', 'nl-01', '--bogus'], /Unknown option '--bogus'/],
  ])('exits 2 on a usage error: %j', async (args, message) => {
    const result = await runCli(['import', ...args], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toMatch(/Run "thalassa-byok import --help" for usage/);
  });

  it('exits 1 naming HMAC as not importable, before any API call', async () => {
    const before = emulator.requestLog.length;
    const result = await runCli(['import', '--region', 'nl-01', '--name', 'h', '--key-type', 'hmac-sha256', '--wrapped-env', 'B', '--fingerprint', 'kcv:abcdef'], { ...env, B: 'AAAA' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/cannot be imported.*HMAC/);
    expect(emulator.requestLog.length).toBe(before);
  });
});

describe('API failures give a message a user can act on', () => {
  const key = () => symmetricKey();

  it('401 names the credential variable', async () => {
    const result = await runCli(importArgs('x401', key()), { ...env, THALASSA_API_TOKEN: 'wrong-token-value' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/answered 401.*credentials from THALASSA_API_TOKEN were rejected.*\[API_UNAUTHORIZED\]/);
    expect(result.stderr).not.toContain('wrong-token-value');
  });

  it('403 names the organisation and the missing feature', async () => {
    const result = await runCli(['list', '--region', 'nl-01'], { ...env, THALASSA_ORGANISATION: 'org-nokms' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/KMS feature is not enabled for organisation org-nokms \(THALASSA_ORGANISATION\)/);
  });

  it('404 names the region, the project and the IAM permission', async () => {
    const result = await runCli(['describe', '--region', 'xx-99', '--name', 'k'], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/region xx-99 does not exist.*THALASSA_PROJECT_ID.*IAM permission/);
  });

  it('409 from a raced create is resolved by looking the key up', async () => {
    // Two imports of the same key at once: one creates, the other meets 409 or finds the key, and adopts.
    const k = key();
    const [a, b] = await Promise.all([runCli(importArgs('cli-race', k), env), runCli(importArgs('cli-race', k), env)]);
    expect([a.code, b.code]).toEqual([0, 0]);
    expect(await keysNamed('cli-race')).toHaveLength(1);
  });

  it('503 names the region and says to retry later', async () => {
    const result = await runCli(['list', '--region', 'de-01'], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/KMS is not available in region de-01 right now; try again later/);
  });

  it('a missing organisation or credential is named before any request', async () => {
    const noOrg = await runCli(['list', '--region', 'nl-01'], { THALASSA_API_ENDPOINT: emulator.url, THALASSA_API_TOKEN: TOKEN });
    expect(noOrg.code).toBe(1);
    expect(noOrg.stderr).toMatch(/Export THALASSA_ORGANISATION/);
    const noCreds = await runCli(['list', '--region', 'nl-01'], { THALASSA_API_ENDPOINT: emulator.url, THALASSA_ORGANISATION: ORG });
    expect(noCreds.stderr).toMatch(/No Thalassa credentials are set. Export THALASSA_API_TOKEN/);
  });

  it('plain http to a non-loopback host is refused before connecting', async () => {
    const result = await runCli(['list', '--region', 'nl-01'], { ...env, THALASSA_API_ENDPOINT: 'http://192.0.2.10:8080' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/plain http:\/\/ to a host that is not loopback/);
  });
});

describe('thalassa-byok delete', () => {
  it('schedules deletion only with the right fingerprint; a wrong one deletes nothing (exit 3)', async () => {
    const key = symmetricKey();
    expect((await runCli(importArgs('cli-del', key), env)).code).toBe(0);
    const wrong = await runCli(['delete', '--region', 'nl-01', '--name', 'cli-del', '--fingerprint', `hmac-sha256:${'ab'.repeat(32)}`], env);
    expect(wrong.code).toBe(3);
    expect(wrong.stderr).toMatch(/Refusing to delete key cli-del/);
    expect((await keysNamed('cli-del'))[0].status).toBe('active');

    const right = await runCli(['delete', '--region', 'nl-01', '--name', 'cli-del', '--fingerprint', key.fingerprint], env);
    expect(right.code).toBe(0);
    expect(right.stdout).toMatch(/Scheduled deletion of key kms-.*pending for 30 days/);
    expect((await keysNamed('cli-del'))[0].status).toBe('pending_deletion');

    const again = await runCli(['delete', '--region', 'nl-01', '--name', 'cli-del', '--fingerprint', key.fingerprint], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/already scheduled for deletion/);
    const absent = await runCli(['delete', '--region', 'nl-01', '--name', 'never-existed', '--fingerprint', key.fingerprint, '--json'], env);
    expect(absent.code).toBe(0);
    expect(JSON.parse(absent.stdout)).toEqual({ action: 'absent' });
  });
});

describe('the other commands', () => {
  it('wrapping-key prints the fingerprint, saves a public PEM and refuses a pin mismatch', async () => {
    const out = join(dir(), 'wk.pem');
    const ok = await runCli(['wrapping-key', '--region', 'nl-01', '--out', out, '--pin', wrappingKey.fingerprint], env);
    expect(ok.code).toBe(0);
    expect(ok.stdout.trim()).toBe(wrappingKey.fingerprint);
    expect(WrappingKey.fromPemFile(out).fingerprint).toBe(wrappingKey.fingerprint);
    expect(statSync(out).mode & 0o777).toBe(0o644);
    const bad = await runCli(['wrapping-key', '--region', 'nl-01', '--pin', `spki-sha256:${'0'.repeat(64)}`, '--out', join(dir(), 'no.pem')], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/WRAPPING_KEY_PIN_MISMATCH/);
  });

  it('set-rotation applies settings to a key imported with --allow-rotation, and the API refuses it otherwise', async () => {
    const key = symmetricKey();
    expect((await runCli(importArgs('cli-rot', key, ['--allow-rotation']), env)).code).toBe(0);
    const set = await runCli(['set-rotation', '--region', 'nl-01', '--name', 'cli-rot', '--fingerprint', key.fingerprint, '--enabled', 'true', '--period-days', '30', '--json'], env);
    expect(set.code).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({ keyRotationEnabled: true, rotationPeriodInDays: 30 });

    const fixed = symmetricKey();
    expect((await runCli(importArgs('cli-norot', fixed), env)).code).toBe(0);
    const refused = await runCli(['set-rotation', '--region', 'nl-01', '--name', 'cli-norot', '--fingerprint', fixed.fingerprint, '--enabled', 'true'], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/answered 400.*allowRotation/);
    const badPeriod = await runCli(['set-rotation', '--region', 'nl-01', '--name', 'cli-rot', '--fingerprint', key.fingerprint, '--enabled', 'true', '--period-days', '0'], env);
    expect(badPeriod.code).toBe(2);
  });

  it('set-rotation --enabled true needs a period, sent now or already on the key', async () => {
    const key = symmetricKey();
    expect((await runCli(importArgs('cli-rot-period', key, ['--allow-rotation']), env)).code).toBe(0);
    const args = ['set-rotation', '--region', 'nl-01', '--name', 'cli-rot-period', '--fingerprint', key.fingerprint];
    const refused = await runCli([...args, '--enabled', 'true'], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/answered 400.*rotationPeriodInDays/);
    expect((await runCli([...args, '--enabled', 'true', '--period-days', '14'], env)).code).toBe(0);
    expect((await runCli([...args, '--enabled', 'false'], env)).code).toBe(0);
    const again = await runCli([...args, '--enabled', 'true', '--json'], env);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ keyRotationEnabled: true, rotationPeriodInDays: 14 });
  });

  it('describe, list and cancel-deletion', async () => {
    const key = symmetricKey();
    expect((await runCli(importArgs('cli-misc', key, ['--label', 'tier=gold']), env)).code).toBe(0);
    const described = await runCli(['describe', '--region', 'nl-01', '--name', 'cli-misc'], env);
    expect(described.code).toBe(0);
    expect(described.stdout).toMatch(/^identity\s+kms-/m);
    expect(described.stdout).toContain(`fingerprint   ${key.fingerprint}`);
    const listed = await runCli(['list', '--region', 'nl-01', '--label', 'tier=gold', '--json'], env);
    expect(JSON.parse(listed.stdout).map((k: { name: string }) => k.name)).toEqual(['cli-misc']);
    expect((await runCli(['delete', '--region', 'nl-01', '--name', 'cli-misc', '--fingerprint', key.fingerprint], env)).code).toBe(0);
    const restored = await runCli(['cancel-deletion', '--region', 'nl-01', '--name', 'cli-misc'], env);
    expect(restored.code).toBe(0);
    expect(restored.stdout).toMatch(/is active/);
    const missing = await runCli(['describe', '--region', 'nl-01', '--name', 'nope'], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/No key named "nope" exists in region nl-01/);
  });

  it('every command has --help (exit 0) and the main help lists them', async () => {
    const main = await runCli(['--help']);
    expect(main.code).toBe(0);
    for (const name of ['wrap', 'fingerprint', 'wrapping-key', 'import', 'delete', 'set-rotation', 'cancel-deletion', 'describe', 'list', 'emulator']) {
      expect(main.stdout).toContain(`  ${name} `);
      const help = await runCli([name, '--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(new RegExp(`^Usage: thalassa-byok ${name}`));
    }
    expect((await runCli(['nope'])).code).toBe(2);
  });
});
