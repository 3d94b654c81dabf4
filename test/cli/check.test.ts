/**
 * `thalassa-byok check` on bad input, as a separate process against the emulator: a missing or foreign synth
 * folder, a manifest of another version, an unknown stack, no credentials. Each gets a clear message and its
 * exit code, and nothing is sent to the API. (The drift kinds after real deploys: test/e2e/check.e2e.test.ts.)
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KmsClient } from '../../src/api';
import { startEmulator, type RunningEmulator } from '../../src/emulator';
import { KeyMaterial } from '../../src/material';
import { COMMITMENT_ANNOTATION, CONSTRUCT_LABEL, FINGERPRINT_ANNOTATION, OWNER_LABEL, STACK_MANIFEST_VERSION, type StackManifest } from '../../src/protocol';
import { WrappingKey, wrap } from '../../src/wrapping';
import { encodeWrappedKeys } from '../../src/wrapped-keys';
import { runCli } from '../support/cli';
import { useTempDir } from '../support/openssl';

const ORG = 'org-check';
const TOKEN = 'tok-check-secret-0815';

let emulator: RunningEmulator;
let env: NodeJS.ProcessEnv;
let client: KmsClient;
let wrappingFingerprint: string;
const dir = useTempDir();

beforeAll(async () => {
  emulator = await startEmulator({ tokens: [{ token: TOKEN, organisation: ORG }] });
  env = { THALASSA_API_ENDPOINT: emulator.url, THALASSA_API_TOKEN: TOKEN, THALASSA_ORGANISATION: ORG };
  client = KmsClient.fromEnvironment({ env });
  wrappingFingerprint = WrappingKey.fromApiResponse(await client.wrappingKey('nl-01')).fingerprint;
});

afterAll(async () => {
  await client.close();
  await emulator.close();
});

function manifest(overrides: Partial<StackManifest> & Record<string, unknown> = {}): StackManifest {
  return {
    version: STACK_MANIFEST_VERSION, stack: 'app', owner: { source: 'explicit', id: 'owner-check-1' },
    keys: [{
      construct: '0123456789abcdef0123456789abcdef', path: 'app/k', region: 'nl-01', name: 'chk-unit-k', fingerprint: `hmac-sha256:${'ab'.repeat(32)}`,
      keyType: 'aes256-gcm96', removalPolicy: 'schedule-deletion', resource: 'terraform_data.k_Key_01234567',
      settings: { description: '', labels: {}, annotations: {}, exportAllowed: false, allowRotation: false, hashFunction: 'sha256' },
      wrappingKey: { fingerprint: wrappingFingerprint, region: 'nl-01' },
    }],
    ...overrides,
  } as StackManifest;
}

/**
 * A synth output folder with one stack `app` (and an `empty` stack without keys), as cdktf writes it: the
 * manifest, and a wrapped-keys file with an entry for each of its keys (a placeholder blob; `commitment` if given).
 */
function synthOutput(keys: unknown = manifest(), commitment?: string): string {
  const out = join(dir(), 'cdktf.out');
  mkdirSync(join(out, 'stacks', 'app', 'byok'), { recursive: true, mode: 0o700 });
  mkdirSync(join(out, 'stacks', 'empty'), { recursive: true, mode: 0o700 });
  writeFileSync(join(out, 'manifest.json'), JSON.stringify({
    version: '0.20.0', stacks: { app: { name: 'app', workingDirectory: 'stacks/app' }, empty: { name: 'empty', workingDirectory: 'stacks/empty' } },
  }));
  writeFileSync(join(out, 'stacks', 'app', 'byok', 'keys.json'), JSON.stringify(keys), { mode: 0o600 });
  const listed = Array.isArray((keys as Partial<StackManifest>).keys) ? (keys as StackManifest).keys : [];
  writeFileSync(join(out, 'stacks', 'app', 'byok', 'keys.wrapped'), encodeWrappedKeys(listed.map((k) => ({
    construct: k.construct, blob: randomBytes(528), ...(commitment === undefined ? {} : { commitment }),
  }))), { mode: 0o600 });
  return out;
}

async function requestsDuring(body: () => Promise<void>): Promise<number> {
  const before = emulator.requestLog.length;
  await body();
  return emulator.requestLog.length - before;
}

describe('thalassa-byok check: bad input', () => {
  it('a missing synth folder: exit 2, says to synth first, no request', async () => {
    const sent = await requestsDuring(async () => {
      const r = await runCli(['check', '--dir', join(dir(), 'nowhere')], env);
      expect([r.code, r.stdout]).toEqual([2, '']);
      expect(r.stderr).toContain('does not exist. Run "cdktf synth" first');
    });
    expect(sent).toBe(0);
  });

  it('a folder that is not a cdktf synth output: exit 2', async () => {
    const r = await runCli(['check', '--dir', dir()], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('is not a cdktf synth output folder (no manifest.json)');
  });

  it('a manifest of another format version: exit 2, names both versions, no request', async () => {
    const out = synthOutput(manifest({ version: 1 as never }));
    const sent = await requestsDuring(async () => {
      const r = await runCli(['check', '--dir', out], env);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`format version 1, this CLI reads ${STACK_MANIFEST_VERSION}. Synth again`);
    });
    expect(sent).toBe(0);
  });

  it('a v1-shaped manifest labelled with the current version (no settings): exit 2', async () => {
    const m = manifest();
    const r = await runCli(['check', '--dir', synthOutput({ ...m, keys: m.keys.map(({ settings: _s, ...k }) => k) })], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`key 1 lacks a field of format ${STACK_MANIFEST_VERSION}`);
  });

  it('an unknown stack, or one without keys: exit 2', async () => {
    const out = synthOutput();
    const unknown = await runCli(['check', '--dir', out, '--stack', 'nope'], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('has no such stack (it has: app, empty)');
    const empty = await runCli(['check', '--dir', out, '--stack', 'empty'], env);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('declares no ImportedKmsKey');
  });

  it('no credentials: exit 1, names the variables, no request', async () => {
    const out = synthOutput();
    const sent = await requestsDuring(async () => {
      const r = await runCli(['check', '--dir', out], { THALASSA_API_ENDPOINT: emulator.url, THALASSA_ORGANISATION: ORG });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('THALASSA_API_TOKEN');
    });
    expect(sent).toBe(0);
  });

  it('a wrong token: exit 1 (could not check), nothing changed', async () => {
    const r = await runCli(['check', '--dir', synthOutput()], { ...env, THALASSA_API_TOKEN: 'wrong' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('[API_UNAUTHORIZED]');
    expect(`${r.stdout}${r.stderr}`).not.toContain(TOKEN);
  });

  it('with an explicit owner id no Terraform state is read: a key not imported yet is drift (exit 4), and --repair leaves it to the deploy', async () => {
    const out = synthOutput();
    const r = await runCli(['check', '--dir', out, '--json'], { ...env, TERRAFORM_BINARY_NAME: '/nonexistent/terraform' });
    expect([r.code, r.stderr]).toEqual([4, '']);
    const report = JSON.parse(r.stdout) as { version: number; inSync: boolean; stacks: { keys: { status: string; findings: { nextStep: string }[] }[] }[] };
    expect([report.version, report.inSync, report.stacks[0].keys[0].status]).toEqual([1, false, 'not-imported']);
    expect(report.stacks[0].keys[0].findings[0].nextStep).toContain('terraform apply -replace=terraform_data.k_Key_01234567');
    const repaired = await runCli(['check', '--dir', out, '--repair'], env);
    expect(repaired.code).toBe(4);
    expect(await client.listKeys('nl-01', { name: 'chk-unit-k' })).toEqual([]);
  });

  it('a look-alike (our labels and fingerprint copied onto other material, deletion scheduled): foreign-name, and --repair leaves it pending', async () => {
    const out = synthOutput(manifest({ keys: manifest().keys.map((k) => ({ ...k, name: 'chk-unit-lookalike' })) }), `hmac-sha256:${'cd'.repeat(32)}`);
    const [declared] = manifest().keys;
    const other = KeyMaterial.fromBytes(randomBytes(32), { format: 'raw' }).load('aes256-gcm96');
    const planted = await client.createKey('nl-01', {
      name: 'chk-unit-lookalike', keyType: 'aes256-gcm96', importKeyMaterial: wrap(other, WrappingKey.fromApiResponse(await client.wrappingKey('nl-01'))).toString('base64'),
      labels: { [OWNER_LABEL]: 'owner-check-1', [CONSTRUCT_LABEL]: declared.construct },
      annotations: { [FINGERPRINT_ANNOTATION]: declared.fingerprint, [COMMITMENT_ANNOTATION]: `hmac-sha256:${'ef'.repeat(32)}` },
    });
    await client.deleteKey('nl-01', planted.identity);
    const r = await runCli(['check', '--dir', out, '--json', '--repair'], env);
    expect(r.code).toBe(4);
    const report = JSON.parse(r.stdout) as { stacks: { keys: { status: string; findings: { message: string }[] }[] }[] };
    expect(report.stacks[0].keys[0].status).toBe('foreign-name');
    expect(report.stacks[0].keys[0].findings[0].message).toContain('does not carry this material\'s commitment');
    expect((await client.getKey('nl-01', planted.identity)).status).toBe('pending_deletion');
  });

  it('--owner needs exactly one stack with keys; a bad --owner is a usage error', async () => {
    const out = synthOutput();
    expect((await runCli(['check', '--dir', out, '--owner', 'bad id'], env)).code).toBe(2);
  });
});
