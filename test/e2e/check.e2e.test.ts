/**
 * Issue #13's acceptance, end to end: real `cdktf deploy`s and `cdktf synth`s against the emulator over HTTP,
 * then `thalassa-byok check` (the built CLI, as a pipeline runs it). Each drift is made by hand through the
 * API, and must be reported with its kind and exit code 4; `--repair` restores what it can. The steps of a
 * describe run in order (read the first failure).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KmsClient, type KmsKey } from '../../src/api';
import { startEmulator, type RunningEmulator } from '../../src/emulator';
import { WrappingKey } from '../../src/wrapping';
import type { StackManifest } from '../../src/protocol';
import { proveKeyHoldsMaterial } from '../../examples/key-proof';
import { expectNoLeak } from '../support/no-leak';
import { runCli, type CliResult } from '../support/cli';
import { E2eProject, generateDistinctMaterial, ORGANISATION, REGION, REPO, TERRAFORM, type AppConfig, type GeneratedMaterial } from './harness';

jest.setTimeout(300_000);

const STACK = 'app';
let emulator: RunningEmulator;
let client: KmsClient;
let token: string;
const apiEnv: Record<string, string> = {};
let wrappingKey: WrappingKey;
const projects: E2eProject[] = [];
const materials = new Map<string, GeneratedMaterial>();
const outputs: string[] = [];

beforeAll(async () => {
  token = randomBytes(18).toString('base64url');
  emulator = await startEmulator({ tokens: [{ token, organisation: ORGANISATION }] });
  Object.assign(apiEnv, { THALASSA_API_ENDPOINT: emulator.url, THALASSA_API_TOKEN: token, THALASSA_ORGANISATION: ORGANISATION });
  client = KmsClient.fromEnvironment({ env: apiEnv });
  wrappingKey = WrappingKey.fromApiResponse(await client.wrappingKey(REGION));
});

afterAll(async () => {
  await client?.close();
  await emulator?.close();
  if (process.env.BYOK_E2E_KEEP !== '1') for (const p of projects) p.remove();
});

interface CheckRun extends CliResult {
  readonly report: {
    version: number;
    inSync: boolean;
    stacks: { stack: string; ownerKnown: boolean; keys: { path: string; name: string; status: string; findings: { kind: string; differences?: unknown[] }[] }[]; undeclared: { kind: string; name: string }[] }[];
    repairs?: { kind: string; action: string }[];
  };
}

/** `thalassa-byok check --json [args]` in the project folder, as a pipeline runs it after `cdktf synth`. */
async function check(project: E2eProject, ...args: string[]): Promise<CheckRun> {
  const result = await runCli(['check', '--dir', join(project.dir, 'cdktf.out'), '--json', ...args], { ...apiEnv, TERRAFORM_BINARY_NAME: TERRAFORM, HOME: project.dir, CHECKPOINT_DISABLE: '1' }, 120_000);
  outputs.push(result.stdout, result.stderr);
  let report: CheckRun['report'];
  try {
    report = JSON.parse(result.stdout) as CheckRun['report'];
  } catch {
    throw new Error(`check printed no JSON (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
  }
  return { ...result, report };
}

/** The human report too (what a pipeline log shows). */
async function checkHuman(project: E2eProject, ...args: string[]): Promise<CliResult> {
  const result = await runCli(['check', '--dir', join(project.dir, 'cdktf.out'), ...args], { ...apiEnv, TERRAFORM_BINARY_NAME: TERRAFORM, HOME: project.dir, CHECKPOINT_DISABLE: '1' }, 120_000);
  outputs.push(result.stdout, result.stderr);
  return result;
}

function statusOf(run: CheckRun, id: string): string {
  const key = run.report.stacks[0].keys.find((k) => k.path.endsWith(`/${id}`));
  if (key === undefined) throw new Error(`no key ${id} in the report: ${JSON.stringify(run.report)}`);
  return key.status;
}

function kindsOf(run: CheckRun, id: string): string[] {
  return run.report.stacks[0].keys.find((k) => k.path.endsWith(`/${id}`))!.findings.map((f) => f.kind).sort();
}

class Scenario {
  public readonly project: E2eProject;

  constructor(prefix: string) {
    this.project = new E2eProject(prefix, apiEnv);
    projects.push(this.project);
  }

  /** Material by id, shared across scenarios: another state may declare the same key. */
  public async material(id: string, keyType: string): Promise<GeneratedMaterial> {
    let m = materials.get(id);
    if (m === undefined) {
      const dir = join(this.project.dir, 'material', id);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      // Distinct material per key: a shared fixture would let one key's proof stand for another's.
      m = await generateDistinctMaterial(keyType as never, dir, id);
      materials.set(id, m);
    }
    return m;
  }

  public async declare(keys: readonly { id: string; keyType?: string; props?: Record<string, unknown> }[], extra: Partial<AppConfig> = {}): Promise<void> {
    const wrappingKeyFile = join(this.project.dir, 'wrapping-key.pem');
    writeFileSync(wrappingKeyFile, wrappingKey.pem);
    const appKeys = [];
    for (const k of keys) {
      const keyType = k.keyType ?? 'aes256-gcm96';
      appKeys.push({ id: k.id, name: `chk-${k.id}`, keyType, file: (await this.material(k.id, keyType)).file, props: k.props });
    }
    this.project.writeConfig({
      cdktf: join(REPO, 'node_modules', 'cdktf'), library: join(REPO, 'dist'), stack: STACK, wrappingKeyFile, pin: wrappingKey.fingerprint, keys: appKeys, ...extra,
    });
  }

  public async run(...args: string[]): Promise<string> {
    const result = await this.project.cdktf(STACK, ...args);
    if (result.code !== 0) throw new Error(`cdktf ${args.join(' ')} exited ${result.code}:\n${result.output.slice(-5000)}`);
    return result.output;
  }

  public manifest(): StackManifest {
    return JSON.parse(readFileSync(join(this.project.stackDir(STACK), 'byok', 'keys.json'), 'utf8')) as StackManifest;
  }

  public declaredName(id: string): string {
    return this.manifest().keys.find((k) => k.path.endsWith(`/${id}`))!.name;
  }

  public async live(id: string): Promise<KmsKey> {
    const key = await client.findKeyByName(REGION, this.declaredName(id));
    if (key === undefined) throw new Error(`no live key for ${id}`);
    return key;
  }
}

const KEYS = [
  { id: 'sym', props: { allowRotation: true, rotation: { enabled: true, periodInDays: 30 }, labels: { team: 'a' } } },
  { id: 'sym2' },
  { id: 'asym', keyType: 'ed25519' },
  { id: 'kept', props: { removalPolicy: 'retain' } },
];

describe('check after a real deploy: every drift is found, --repair restores what it can', () => {
  const s = new Scenario('byok-e2e-check-');

  test('the manifest records the settings, rotation, wrapping key, files and owner (v2), without material', async () => {
    await s.declare(KEYS);
    await s.run('deploy', '--auto-approve');
    const manifest = s.manifest();
    expect(manifest.version).toBe(3);
    expect(manifest.owner).toEqual({ source: 'state', address: expect.stringMatching(/^terraform_data\.ThalassaByokKeyOwner_[0-9A-F]{8}$/), attribute: 'id' });
    const sym = manifest.keys.find((k) => k.path.endsWith('/sym'))!;
    expect(sym).toMatchObject({
      settings: { description: '', labels: { team: 'a' }, annotations: {}, exportAllowed: false, allowRotation: true, hashFunction: 'sha256' },
      rotation: { enabled: true, periodInDays: 30 }, wrappingKey: { fingerprint: wrappingKey.fingerprint, region: REGION },
      resource: expect.stringMatching(/^terraform_data\./),
    });
  });

  test('right after the deploy: every key in sync, exit 0', async () => {
    const run = await check(s.project);
    expect([run.code, run.stderr]).toEqual([0, '']);
    expect(run.report.inSync).toBe(true);
    expect(run.report.stacks[0].keys.map((k) => k.status)).toEqual(['in-sync', 'in-sync', 'in-sync', 'in-sync']);
    const human = await checkHuman(s.project);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('Stack app:');
    expect(human.stdout).toContain('Every key is in sync.');
  });

  test('rotation period changed by hand: rotation-drifted, have vs want, exit 4', async () => {
    await client.updateRotation(REGION, (await s.live('sym')).identity, { rotationPeriodInDays: 90 });
    const run = await check(s.project);
    expect(run.code).toBe(4);
    expect(statusOf(run, 'sym')).toBe('rotation-drifted');
    const finding = run.report.stacks[0].keys.find((k) => k.path.endsWith('/sym'))!.findings[0];
    expect(finding.differences).toEqual([{ setting: 'rotation.periodInDays', have: 90, want: 30 }]);
    expect(statusOf(run, 'asym')).toBe('in-sync');
  });

  test('deletion scheduled by hand: pending-deletion, exit 4 (cdktf diff would say "No changes")', async () => {
    await client.deleteKey(REGION, (await s.live('sym')).identity);
    const run = await check(s.project);
    expect(run.code).toBe(4);
    expect(statusOf(run, 'sym')).toBe('pending-deletion');
    expect(kindsOf(run, 'sym')).toEqual(['pending-deletion', 'rotation-drifted']);
  });

  test('key disabled by hand: disabled, exit 4', async () => {
    await client.disableKey(REGION, (await s.live('sym2')).identity);
    const run = await check(s.project);
    expect(run.code).toBe(4);
    expect(statusOf(run, 'sym2')).toBe('disabled');
    const human = await checkHuman(s.project);
    expect(human.code).toBe(4);
    expect(human.stdout).toMatch(/DRIFT .*\/sym2: .* — disabled/);
    expect(human.stdout).toContain('next: run "thalassa-byok check --repair" to enable it.');
  });

  test('--repair cancels the deletion, enables the key, re-applies the rotation; check then exits 0 and the keys hold the material', async () => {
    const run = await check(s.project, '--repair');
    expect([run.code, run.report.inSync]).toEqual([0, true]);
    expect(run.report.repairs!.map((r) => `${r.kind}:${r.action}`).sort()).toEqual(['disabled:enabled', 'pending-deletion:cancelled-deletion', 'rotation-drifted:rotation-applied']);
    const after = await check(s.project);
    expect(after.code).toBe(0);
    const sym = await s.live('sym');
    expect([sym.status, sym.keyRotationEnabled, sym.rotationPeriodInDays]).toEqual(['active', true, 30]);
    await proveKeyHoldsMaterial(client, REGION, sym, materials.get('sym')!.known);
    await proveKeyHoldsMaterial(client, REGION, await s.live('sym2'), materials.get('sym2')!.known);
    await proveKeyHoldsMaterial(client, REGION, await s.live('asym'), materials.get('asym')!.known);
  });

  test('a disabled asymmetric key cannot prove its material (no public key): reported, left to you with the next step', async () => {
    const asym = await s.live('asym');
    await client.disableKey(REGION, asym.identity);
    const run = await check(s.project, '--repair');
    expect(run.code).toBe(4);
    expect(statusOf(run, 'asym')).toBe('disabled');
    expect(run.report.repairs).toEqual([expect.objectContaining({ kind: 'disabled', action: 'not-repaired' })]);
    expect(run.stderr).toContain(`POST /v1/kms/${REGION}/keys/${asym.identity}/enable`);
    expect((await client.getKey(REGION, asym.identity)).status).toBe('disabled');
    await client.enableKey(REGION, asym.identity);
    expect((await check(s.project)).code).toBe(0);
  });

  test('a retained key removed from the code: still owned, no longer declared, exit 4; --repair never deletes it', async () => {
    const kept = await s.live('kept');
    await s.declare(KEYS.filter((k) => k.id !== 'kept'));
    await s.run('deploy', '--auto-approve');
    const run = await check(s.project);
    expect(run.code).toBe(4);
    expect(run.report.stacks[0].undeclared).toEqual([expect.objectContaining({ kind: 'owned-not-declared', name: kept.name })]);
    expect(run.report.stacks[0].keys.map((k) => k.status)).toEqual(['in-sync', 'in-sync', 'in-sync']);
    const repaired = await check(s.project, '--repair');
    expect(repaired.code).toBe(4);
    expect(repaired.report.repairs).toEqual([expect.objectContaining({ kind: 'owned-not-declared', action: 'not-repaired' })]);
    expect(repaired.stderr).toContain(`thalassa-byok delete --region ${REGION} --name ${kept.name}`);
    expect((await client.getKey(REGION, kept.identity)).status).toBe('active');
    // Deleted by hand as check says: in sync again.
    await client.deleteKey(REGION, kept.identity);
    expect((await check(s.project)).code).toBe(0);
  });

  test('a second state (synth only, the CI step): the keys are owned by another state; a foreign key holds a declared name', async () => {
    const b = new Scenario('byok-e2e-check-b-');
    await b.declare([...KEYS.filter((k) => k.id !== 'kept'), { id: 'fresh' }]);
    await b.run('synth');
    // Someone else's key takes the name the code declares, before the first deploy.
    const freshName = b.declaredName('fresh');
    await client.createKey(REGION, { name: freshName, keyType: 'aes256-gcm96' });
    const run = await check(b.project);
    expect(run.code).toBe(4);
    expect(run.report.stacks[0].ownerKnown).toBe(false);
    expect(statusOf(run, 'sym')).toBe('other-state');
    expect(statusOf(run, 'asym')).toBe('other-state');
    expect(statusOf(run, 'fresh')).toBe('foreign-name');
    // --repair touches none of them.
    const before = (await client.listKeys(REGION)).map((k) => `${k.identity}:${k.status}`).sort();
    const repaired = await check(b.project, '--repair');
    expect(repaired.code).toBe(4);
    expect((await client.listKeys(REGION)).map((k) => `${k.identity}:${k.status}`).sort()).toEqual(before);
    // A deploy of the second state owns an owner id now, and still does not own the first state's keys.
    expect((await b.project.cdktf(STACK, 'deploy', '--auto-approve')).code).not.toBe(0);
    const deployed = await check(b.project);
    expect(deployed.report.stacks[0].ownerKnown).toBe(true);
    expect(statusOf(deployed, 'sym')).toBe('other-state');
  });

  test('a key of ours gone for good (the deletion window passed): gone, exit 4; --repair imports it again from the synth\'s blob', async () => {
    const sym2 = await s.live('sym2');
    await emulator.purgeKey(REGION, sym2.identity);
    const run = await check(s.project);
    expect(run.code).toBe(4);
    expect(statusOf(run, 'sym2')).toBe('gone');
    const repaired = await check(s.project, '--repair');
    expect([repaired.code, repaired.report.repairs!.map((r) => `${r.kind}:${r.action}`)]).toEqual([0, ['gone:reimported']]);
    const again = await s.live('sym2');
    expect(again.identity).not.toBe(sym2.identity);
    await proveKeyHoldsMaterial(client, REGION, again, materials.get('sym2')!.known);
    // The next deploy adopts it: nothing to change, and check stays green.
    await s.run('deploy', '--auto-approve');
    expect((await check(s.project)).code).toBe(0);
  });

  test('unknown stack: usage error, exit 2', async () => {
    const run = await runCli(['check', '--dir', join(s.project.dir, 'cdktf.out'), '--stack', 'nope'], apiEnv);
    outputs.push(run.stdout, run.stderr);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('has no such stack (it has: app)');
  });

  test('nothing check printed (also with --repair, also on errors) holds material, a blob, a commitment or the token', () => {
    const blobs = projects.flatMap((p) => [...p.blobs.values()]);
    const commitments = [...new Set(projects.flatMap((p) => [...p.commitments]))];
    const secrets = [...materials.values()].flatMap((m) => m.secrets);
    // sym, sym2, kept and fresh are symmetric: four commitments; every key's material (PEM and DER for ed25519).
    expect({ outputs: outputs.length > 30, blobs: blobs.length >= 5, commitments: commitments.length, secrets: secrets.length }).toEqual({ outputs: true, blobs: true, commitments: 4, secrets: 6 });
    for (const text of outputs) expectNoLeak(text, ...secrets, ...blobs, ...commitments, token);
  });

  // Last: the region's wrapping key changes for every key of this emulator.
  test('the emulator\'s wrapping key replaced: wrapping-key-changed on every key, exit 4', async () => {
    await emulator.replaceWrappingKey(REGION);
    const run = await check(s.project);
    expect(run.code).toBe(4);
    for (const id of ['sym', 'sym2', 'asym']) expect(kindsOf(run, id)).toEqual(['wrapping-key-changed']);
    const repaired = await check(s.project, '--repair');
    expect(repaired.code).toBe(4);
    expect(repaired.report.repairs!.every((r) => r.action === 'not-repaired')).toBe(true);
  });

  test('a key synthesized for the replaced wrapping key: the deploy\'s import refuses it, naming both keys, and sends nothing', async () => {
    await s.declare([...KEYS, { id: 'late' }]);
    const from = emulator.requestLog.length;
    const result = await s.project.cdktf(STACK, 'deploy', '--auto-approve');
    expect(result.code).not.toBe(0);
    const live = WrappingKey.fromPem((await client.wrappingKey(REGION)).publicKey);
    expect(live.fingerprint).not.toBe(wrappingKey.fingerprint);
    expect(result.output).toContain(`The blob was wrapped for wrapping key ${wrappingKey.fingerprint}, but the region's live wrapping key is ${live.fingerprint}. Nothing was sent.`);
    expect(emulator.requestLog.slice(from).filter((r) => r.method === 'POST')).toEqual([]);
    outputs.push(result.output);
  });
});
