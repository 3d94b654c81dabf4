/**
 * Leak sentinels (issue 6, part 1; invariants 1 and 2), end to end: a real `cdktf deploy` of all 10
 * importable key types with freshly generated material against the emulator, then a search of every byte the
 * run produced — every file of the project (cdktf.out with its .terraform folders, the state files, the
 * emulator's request log, the captured cdktf output, the HOME and TMPDIR the child processes used), the
 * `terraform show -json` of a saved plan and of the state, and the command lines of every process sampled
 * during the apply — for the material (raw, hex, base64, base64url, PEM) and for the wrapped blobs. The only
 * file allowed to hold a blob is the stack's owner-only `byok/keys.wrapped`, whose entries must unwrap to the material. A
 * last test plants leaks on purpose and proves the same search finds them.
 */
import { spawn } from 'node:child_process';
import { randomBytes, createPrivateKey } from 'node:crypto';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KmsClient } from '../../src/api';
import { startEmulator, type RunningEmulator } from '../../src/emulator';
import { IMPORTABLE_KEY_TYPE_NAMES } from '../../src/key-types';
import { FINGERPRINT_ANNOTATION } from '../../src/material';
import { unwrap, WrappingKey } from '../../src/wrapping';
import { findLeaks } from '../support/no-leak';
import { wrappedKeysOf } from '../support/wrapped-keys';
import {
  childEnv, CmdlineSampler, E2eProject, generateMaterial, listFiles, modeOf, ORGANISATION, REGION, REPO, runAsync, TERRAFORM,
  type AppConfig, type GeneratedMaterial, type RunResult,
} from '../e2e/harness';

jest.setTimeout(150_000);

const STACK = 'sentinels';
const OUTPUTS = 'outputs.json';
const idOf = (type: string): string => `s-${type}`;

interface Text {
  readonly label: string;
  readonly text: string;
}

describe('leak sentinels: a deploy of all 10 types leaves no material or blob anywhere', () => {
  let emulator: RunningEmulator;
  let client: KmsClient;
  let project: E2eProject;
  let dataDir: string;
  let materials: GeneratedMaterial[];
  let deploy: RunResult;
  let planJson: string;
  let stateJson: string;
  const sampler = new CmdlineSampler();
  const timings: string[] = [];

  const secrets = (): (Buffer | string)[] => materials.flatMap((m) => m.secrets);
  const blobFiles = (): string[] => listFiles(join(project.stackDir(STACK), 'byok')).filter((f) => f.endsWith('.wrapped'));
  /** Every blob the synths wrote, as the bytes the API receives. */
  const blobs = (): Buffer[] => [...project.blobs.values()];
  const tfEnv = (): NodeJS.ProcessEnv => childEnv({
    CHECKPOINT_DISABLE: '1', TF_CLI_CONFIG_FILE: join(project.dir, 'empty.tfrc'), TF_IN_AUTOMATION: '1',
    HOME: join(project.dir, 'home'), TMPDIR: join(project.dir, 'tmp'),
  });
  const terraform = async (...args: string[]): Promise<RunResult> => {
    const result = await runAsync(TERRAFORM, args, { cwd: project.stackDir(STACK), env: tfEnv() });
    timings.push(`terraform ${args[0]}: ${(result.ms / 1000).toFixed(1)} s`);
    if (result.code !== 0) throw new Error(`terraform ${args.join(' ')} exited ${result.code}:\n${result.output.slice(-3000)}`);
    return result;
  };

  /**
   * Everything the run produced, as texts: every file under the project (except the material the user
   * supplied and the owner-only blob files), the plan and state JSON, the captured cdktf output and the
   * sampled command lines.
   */
  const producedTexts = (): Text[] => {
    const materialDir = join(project.dir, 'material');
    const files = listFiles(project.dir).filter((f) => !f.startsWith(`${materialDir}/`) && !f.endsWith('.wrapped'));
    return [
      ...files.map((f) => ({ label: relative(project.dir, f), text: readFileSync(f).toString('latin1') })),
      { label: 'terraform show -json <saved plan>', text: planJson },
      { label: 'terraform show -json (state)', text: stateJson },
      ...project.outputs.map((text, i) => ({ label: `cdktf output #${i + 1}`, text })),
      { label: '/proc/*/cmdline samples', text: [...sampler.seen].join('\n').replace(/\0/g, ' ') },
    ];
  };

  /** Every hit of material (any encoding) or of a wrapped blob (its first 64 bytes in any encoding, or whole as base64/base64url/raw). */
  const search = (texts: readonly Text[], extraProcesses: readonly string[] = []): string[] => {
    const hits: string[] = [];
    const blobList = blobs();
    const blobPrefixes = blobList.map((b) => b.subarray(0, 64));
    const wholeBlobs = blobList.flatMap((b) => [b.toString('base64'), b.toString('base64url'), b.toString('latin1')]);
    for (const { label, text } of [...texts, ...extraProcesses.map((text, i) => ({ label: `extra process #${i + 1}`, text }))]) {
      for (const leak of findLeaks(text, ...secrets())) hits.push(`${label}: material: ${leak}`);
      for (const leak of findLeaks(text, ...blobPrefixes)) hits.push(`${label}: wrapped blob: ${leak.replace(/^secret/, 'blob')}`);
      wholeBlobs.forEach((b, i) => {
        if (text.includes(b)) hits.push(`${label}: whole wrapped blob #${Math.floor(i / 3)} (${['base64', 'base64url', 'raw'][i % 3]})`);
      });
    }
    return hits;
  };

  beforeAll(async () => {
    const token = randomBytes(18).toString('base64url');
    const dir = mkdtempSync(join(tmpdir(), 'thalassa-byok-sentinels-'));
    for (const sub of ['home', 'tmp']) mkdirSync(join(dir, sub), { mode: 0o700 });
    // The emulator's data (it is the KMS: it holds the material by design) lives outside the searched project.
    dataDir = mkdtempSync(join(tmpdir(), 'thalassa-byok-sentinels-kms-'));
    const logFile = join(dir, 'emulator.log');
    writeFileSync(logFile, '', { mode: 0o600 });
    emulator = await startEmulator({ tokens: [{ token, organisation: ORGANISATION }], dataDir, log: (line) => appendFileSync(logFile, `${line}\n`) });
    const apiEnv = {
      THALASSA_API_ENDPOINT: emulator.url, THALASSA_API_TOKEN: token, THALASSA_ORGANISATION: ORGANISATION,
      // The child processes' own scratch space, inside the searched project.
      HOME: join(dir, 'home'), TMPDIR: join(dir, 'tmp'),
    };
    client = KmsClient.fromEnvironment({ env: apiEnv });
    project = new E2eProject('unused', apiEnv, dir);
    const materialDir = join(project.dir, 'material');
    mkdirSync(materialDir, { mode: 0o700 });
    materials = await Promise.all(IMPORTABLE_KEY_TYPE_NAMES.map((t) => generateMaterial(t, materialDir)));
    const wrappingKey = WrappingKey.fromApiResponse(await client.wrappingKey(REGION));
    const wrappingKeyFile = join(project.dir, 'wrapping-key.pem');
    writeFileSync(wrappingKeyFile, wrappingKey.pem);
    const config: AppConfig = {
      cdktf: join(REPO, 'node_modules', 'cdktf'), library: join(REPO, 'dist'), stack: STACK, wrappingKeyFile, pin: wrappingKey.fingerprint,
      keys: materials.map((m) => ({ id: idOf(m.keyType), name: `sentinel-${m.keyType}`, keyType: m.keyType, file: m.file })),
    };
    project.writeConfig(config);
  });

  afterAll(async () => {
    await sampler.stop();
    await client?.close();
    await emulator?.close();
    if (process.env.BYOK_E2E_KEEP !== '1') {
      project?.remove();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    }
    console.log(`timings (leak sentinels):\n  ${timings.join('\n  ')}`);
  });

  test('cdktf deploy imports all 10 types, with every process command line sampled during the run', async () => {
    sampler.start(20);
    deploy = await project.cdktf(STACK, 'deploy', '--auto-approve', `--outputs-file=${OUTPUTS}`);
    await sampler.stop();
    timings.push(`cdktf deploy: ${(deploy.ms / 1000).toFixed(1)} s (${sampler.samples} /proc samples, ${sampler.seen.size} distinct command lines, ${sampler.importProcessesSeen} import processes)`);
    if (deploy.code !== 0) throw new Error(`cdktf deploy exited ${deploy.code}:\n${deploy.output.slice(-4000)}`);
    expect(deploy.output).toMatch(/Apply complete! Resources: 12 added, 0 changed, 0 destroyed/);
    // The sampler saw the provisioners at work, so an empty search below is not vacuous.
    expect(sampler.importProcessesSeen).toBeGreaterThanOrEqual(1);
    expect(sampler.samples).toBeGreaterThan(10);
    const outputs = project.readOutputs(OUTPUTS, STACK);
    const keys = await client.listKeys(REGION);
    expect(keys).toHaveLength(10);
    for (const m of materials) {
      const key = keys.find((k) => k.name === outputs[`${idOf(m.keyType)}-name`]);
      expect(key).toMatchObject({ keyType: m.keyType, status: 'active', imported: true });
      expect(key!.annotations?.[FINGERPRINT_ANNOTATION]).toBe(outputs[`${idOf(m.keyType)}-fingerprint`]);
    }
  });

  test('the stack\'s wrapped-keys file is the only place a blob is: 0600 in a 0700 folder, each entry unwraps to one of the materials', () => {
    const dir = join(project.stackDir(STACK), 'byok');
    expect(modeOf(dir)).toBe(0o700);
    expect(blobFiles().map((f) => [relative(project.dir, f), modeOf(f)])).toEqual([[relative(project.dir, join(dir, 'keys.wrapped')), 0o600]]);
    const entries = [...wrappedKeysOf(project.stackDir(STACK)).values()];
    expect(entries).toHaveLength(10);
    const state = JSON.parse(readFileSync(join(dataDir, 'state.json'), 'utf8')) as { wrappingKeys: Record<string, { privateKeyPem: string }> };
    const privateKey = createPrivateKey(state.wrappingKeys[REGION].privateKeyPem);
    const canonical = materials.map((m) => m.secrets[0] as Buffer);
    const matched = new Set<number>();
    for (const { blob } of entries) {
      const material = unwrap(Buffer.from(blob), privateKey);
      const index = canonical.findIndex((c) => c.equals(material));
      material.fill(0);
      expect(index).toBeGreaterThanOrEqual(0);
      matched.add(index);
    }
    expect(matched.size).toBe(10);
  });

  test('terraform plan -out after the deploy has no changes; show -json of the plan and of the state', async () => {
    const plan = await terraform('plan', '-input=false', '-no-color', '-lock=false', '-out=saved.tfplan');
    expect(plan.output).toMatch(/No changes\./);
    planJson = (await terraform('show', '-json', '-no-color', 'saved.tfplan')).output;
    stateJson = (await terraform('show', '-json', '-no-color')).output;
    const planDoc = JSON.parse(planJson) as { planned_values?: { root_module?: { resources?: unknown[] } } };
    const stateDoc = JSON.parse(stateJson) as { values?: { root_module?: { resources?: unknown[] } } };
    // The ten keys and the stack's key owner (owner and sweep).
    expect(planDoc.planned_values?.root_module?.resources).toHaveLength(12);
    expect(stateDoc.values?.root_module?.resources).toHaveLength(12);
  });

  test('nothing produced holds the material in any encoding or a wrapped blob — zero hits', () => {
    const texts = producedTexts();
    const labels = texts.map((t) => t.label);
    // The search covers what it claims to cover.
    expect(labels).toContain(`terraform.${STACK}.tfstate`);
    expect(labels).toContain(`cdktf.out/stacks/${STACK}/cdk.tf.json`);
    expect(labels.some((l) => l.startsWith(`cdktf.out/stacks/${STACK}/.terraform/`))).toBe(true);
    expect(labels).toContain(`cdktf.out/stacks/${STACK}/saved.tfplan`);
    expect(labels.filter((l) => l.startsWith('cdktf output #'))).toHaveLength(project.outputs.length);
    const log = texts.find((t) => t.label === 'emulator.log')!.text;
    expect(log.match(/POST \/v1\/kms\/nl-01\/keys 201/g)).toHaveLength(10);
    // Each provisioner's output is in the captured deploy output.
    expect(deploy.output.match(/Imported key kms-[0-9a-f]+/g)?.length).toBe(10);
    expect(blobs().length).toBe(10);
    expect(search(texts)).toEqual([]);
  });

  test('the same search finds leaks planted on purpose (file in cdktf.out, .terraform, plan JSON, a process\'s argv)', async () => {
    const symmetric = materials.find((m) => m.keyType === 'aes256-gcm96')!.secrets[0] as Buffer;
    const pem = materials.find((m) => m.keyType === 'ecdsa-p256')!.secrets[1] as string;
    const blob = blobs()[0];
    const plantedFile = join(project.stackDir(STACK), 'planted.txt');
    const plantedTf = join(project.stackDir(STACK), '.terraform', 'planted.log');
    writeFileSync(plantedFile, `debug: key=${symmetric.toString('hex')}\n`, { mode: 0o600 });
    writeFileSync(plantedTf, `${pem.split('\n')[3]}\n`, { mode: 0o600 });
    // A throw-away process with (a piece of) a blob in its argument list, seen by the same sampler.
    const probe = new CmdlineSampler();
    const argument = blob.subarray(0, 64).toString('base64');
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 10000)', '--', argument], { stdio: 'ignore' });
    try {
      probe.start(20);
      const deadline = Date.now() + 5000;
      while (![...probe.seen].some((l) => l.split('\0').includes(argument)) && Date.now() < deadline) await sleep(20);
    } finally {
      await probe.stop();
      child.kill('SIGKILL');
    }
    try {
      const texts = producedTexts();
      const tampered = texts.map((t) => (t.label === 'terraform show -json (state)' ? { ...t, text: t.text.replace('"values"', `"leak":"${blob.toString('base64url')}","values"`) } : t));
      const hits = search(tampered, [[...probe.seen].join('\n').replace(/\0/g, ' ')]);
      expect(hits.some((h) => h.startsWith(`cdktf.out/stacks/${STACK}/planted.txt: material:`) && /hex at/.test(h))).toBe(true);
      expect(hits.some((h) => h.startsWith(`cdktf.out/stacks/${STACK}/.terraform/planted.log: material:`) && /PEM body line/.test(h))).toBe(true);
      expect(hits.some((h) => h.startsWith('terraform show -json (state): whole wrapped blob') && /base64url/.test(h))).toBe(true);
      expect(hits.some((h) => h.startsWith('extra process #1: wrapped blob:') && /base64/.test(h))).toBe(true);
      // And nothing else: the planted leaks are the only hits.
      expect(hits.filter((h) => !/^(cdktf\.out\/stacks\/[^/]+\/(planted\.txt|\.terraform\/planted\.log)|terraform show -json \(state\)|extra process #1):/.test(h))).toEqual([]);
    } finally {
      rmSync(plantedFile, { force: true });
      rmSync(plantedTf, { force: true });
    }
  });
});
