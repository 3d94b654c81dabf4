/**
 * End to end, with the real cdktf-cli, Terraform and the emulator: one project with a key of each of the 10
 * importable types goes through deploy, two no-op diffs, a replacement blocked by prevent_destroy, an
 * allowRotation flip, a rotation-period change and a destroy; then everything it produced is searched for
 * the material and the wrapped blobs. The steps run in order and share the project (each cdktf run costs
 * seconds), so a failing step makes the later ones fail too: read the first failure.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { KmsClient, type KmsKey } from '../../src/api';
import { startEmulator, type RunningEmulator } from '../../src/emulator';
import { IMPORTABLE_KEY_TYPE_NAMES, type KeyTypeName } from '../../src/key-types';
import { FINGERPRINT_ANNOTATION } from '../../src/material';
import { WrappingKey } from '../../src/wrapping';
import { proveKeyHoldsMaterial } from '../../examples/key-proof';
import { expectNoLeak } from '../support/no-leak';
import { wrappedKeysOf } from '../support/wrapped-keys';
import {
  E2eProject, generateMaterial, listFiles, modeOf, ORGANISATION, producedTexts, REGION, REPO,
  type AppConfig, type AppKey, type GeneratedMaterial,
} from './harness';

jest.setTimeout(120_000);

const STACK = 'keys';
const OUTPUTS = 'outputs.json';
/** The key whose settings the steps change. */
const MUTABLE: KeyTypeName = 'aes256-gcm96';
/** The key with removalPolicy 'retain'. */
const RETAINED: KeyTypeName = 'ed25519';

const idOf = (type: string): string => `k-${type}`;
const baseNameOf = (type: string): string => `e2e-${type}`;

describe('cdktf deploy / diff / destroy of all 10 importable types against the emulator', () => {
  let emulator: RunningEmulator;
  let client: KmsClient;
  let project: E2eProject;
  let materials: Map<string, GeneratedMaterial>;
  let pin: string;
  let wrappingKeyFile: string;
  /** The mutable key's settings; each step changes some and rewrites config.json. */
  let mutable: Record<string, unknown> = { allowRotation: false };
  /** Keys by type after the first deploy. */
  const deployed = new Map<string, KmsKey>();
  const timings: string[] = [];

  const writeConfig = (): void => {
    const keys: AppKey[] = IMPORTABLE_KEY_TYPE_NAMES.map((type) => ({
      id: idOf(type),
      name: baseNameOf(type),
      keyType: type,
      file: materials.get(type)!.file,
      props: type === MUTABLE ? mutable : type === RETAINED ? { removalPolicy: 'retain' } : {},
    }));
    const config: AppConfig = { cdktf: join(REPO, 'node_modules', 'cdktf'), library: join(REPO, 'dist'), stack: STACK, wrappingKeyFile, pin, keys };
    project.writeConfig(config);
  };
  const cdktf = async (label: string, ...args: string[]) => {
    const result = await project.cdktf(STACK, ...args);
    timings.push(`${label}: ${(result.ms / 1000).toFixed(1)} s`);
    return result;
  };
  const expectSuccess = (result: { code: number; output: string }): void => {
    if (result.code !== 0) throw new Error(`cdktf exited ${result.code}:\n${result.output.slice(-4000)}`);
  };
  /** Every key in the region whose name is `<base name>-<8 hex>`. */
  const keysOf = async (type: string): Promise<KmsKey[]> =>
    (await client.listKeys(REGION)).filter((k) => new RegExp(`^${baseNameOf(type)}-[0-9a-f]{8}$`).test(k.name));

  beforeAll(async () => {
    const token = randomBytes(18).toString('base64url');
    emulator = await startEmulator({ tokens: [{ token, organisation: ORGANISATION }] });
    const apiEnv = { THALASSA_API_ENDPOINT: emulator.url, THALASSA_API_TOKEN: token, THALASSA_ORGANISATION: ORGANISATION };
    client = KmsClient.fromEnvironment({ env: apiEnv });
    project = new E2eProject('thalassa-byok-e2e-', apiEnv);
    const materialDir = join(project.dir, 'material');
    mkdirSync(materialDir, { mode: 0o700 });
    materials = new Map((await Promise.all(IMPORTABLE_KEY_TYPE_NAMES.map((t) => generateMaterial(t, materialDir)))).map((m) => [m.keyType, m]));
    const wrappingKey = WrappingKey.fromApiResponse(await client.wrappingKey(REGION));
    pin = wrappingKey.fingerprint;
    wrappingKeyFile = join(project.dir, 'wrapping-key.pem');
    writeFileSync(wrappingKeyFile, wrappingKey.pem);
    writeConfig();
  });

  afterAll(async () => {
    await client?.close();
    await emulator?.close();
    if (process.env.BYOK_E2E_KEEP !== '1') project?.remove();
    // Visible with --verbose; the report quotes these.
    console.log(`cdktf timings (lifecycle):\n  ${timings.join('\n  ')}`);
  });

  test('deploy imports all 10 types; each key is imported and holds the user material', async () => {
    const result = await cdktf('deploy', 'deploy', '--auto-approve', `--outputs-file=${OUTPUTS}`);
    expectSuccess(result);
    expect(result.output).toMatch(/Apply complete! Resources: 12 added, 0 changed, 0 destroyed/);
    const outputs = project.readOutputs(OUTPUTS, STACK);
    for (const type of IMPORTABLE_KEY_TYPE_NAMES) {
      const name = outputs[`${idOf(type)}-name`];
      expect(name).toMatch(new RegExp(`^${baseNameOf(type)}-[0-9a-f]{8}$`));
      const key = await client.findKeyByName(REGION, name);
      expect(key).toMatchObject({ keyType: type, imported: true, status: 'active', keyRotationEnabled: false });
      expect(key!.annotations?.[FINGERPRINT_ANNOTATION]).toBe(outputs[`${idOf(type)}-fingerprint`]);
      const checks = await proveKeyHoldsMaterial(client, REGION, key!, materials.get(type)!.known);
      expect(checks.length).toBeGreaterThanOrEqual(3);
      deployed.set(type, key!);
    }
    expect((await client.listKeys(REGION)).length).toBe(10);
    const blobDir = join(project.stackDir(STACK), 'byok');
    expect(modeOf(blobDir)).toBe(0o700);
    const blobFiles = listFiles(blobDir);
    // The stack's wrapped-keys file (an entry per key, a commitment per symmetric key) and its manifest.
    expect(blobFiles.map((f) => relative(blobDir, f)).sort()).toEqual(['keys.json', 'keys.wrapped']);
    const entries = [...wrappedKeysOf(project.stackDir(STACK)).values()];
    expect(entries).toHaveLength(10);
    expect(entries.filter((e) => e.commitment !== undefined)).toHaveLength(IMPORTABLE_KEY_TYPE_NAMES.filter((t) => /^(aes|chacha)/.test(t)).length);
    for (const file of blobFiles) expect(modeOf(file)).toBe(0o600);
  });

  test('right after deploy, cdktf diff reports no changes, twice in a row (while the wrapped blob changes)', async () => {
    const blobFile = join(project.stackDir(STACK), 'byok', 'keys.wrapped');
    const before = readFileSync(blobFile);
    for (const round of [1, 2]) {
      const result = await cdktf(`diff #${round}`, 'diff');
      expectSuccess(result);
      expect(result.output).toMatch(/No changes\. Your infrastructure matches the configuration/);
      expect(result.output).not.toMatch(/will be (created|destroyed)|must be replaced|will be updated/);
    }
    expect(readFileSync(blobFile).equals(before)).toBe(false);
  });

  test('with preventDestroy, flipping allowRotation fails at plan time with Terraform\'s prevent_destroy error', async () => {
    const requestsBefore = emulator.requestLog.length;
    mutable = { allowRotation: true, rotation: { enabled: true, periodInDays: 90 }, preventDestroy: true };
    writeConfig();
    const result = await cdktf('diff (prevent_destroy)', 'diff');
    expect(result.code).not.toBe(0);
    expect(result.output).toMatch(/Instance cannot be destroyed/);
    expect(result.output).toMatch(/prevent_destroy/);
    expect(emulator.requestLog.slice(requestsBefore).filter((r) => r.method !== 'GET')).toEqual([]);
    expect((await keysOf(MUTABLE)).map((k) => [k.identity, k.status])).toEqual([[deployed.get(MUTABLE)!.identity, 'active']]);
  });

  test('flipping allowRotation replaces the key: one active key (new name, allowRotation) and the old one pending deletion', async () => {
    mutable = { allowRotation: true, rotation: { enabled: true, periodInDays: 90 } };
    writeConfig();
    const result = await cdktf('deploy (allowRotation flip)', 'deploy', '--auto-approve', `--outputs-file=${OUTPUTS}`);
    expectSuccess(result);
    // The plan cdktf prints before applying.
    expect(result.output).toMatch(new RegExp(`# terraform_data\\.${idOf(MUTABLE)}_Key_[0-9A-F]+ \\(${idOf(MUTABLE)}/Key\\) must be replaced`));
    expect(result.output).toMatch(/~ allowRotation += false -> true/);
    expect(result.output).toMatch(/Apply complete! Resources: 2 added, 0 changed, 1 destroyed/);

    const old = deployed.get(MUTABLE)!;
    const keys = await keysOf(MUTABLE);
    const active = keys.filter((k) => k.status === 'active');
    expect(active).toHaveLength(1);
    expect(active[0].name).toBe(project.readOutputs(OUTPUTS, STACK)[`${idOf(MUTABLE)}-name`]);
    expect(active[0].name).not.toBe(old.name);
    expect(active[0]).toMatchObject({ imported: true, keyRotationEnabled: true, rotationPeriodInDays: 90 });
    expect(keys.filter((k) => k.status !== 'active').map((k) => [k.identity, k.name, k.status])).toEqual([[old.identity, old.name, 'pending_deletion']]);
    await proveKeyHoldsMaterial(client, REGION, active[0], materials.get(MUTABLE)!.known);
    deployed.set(MUTABLE, active[0]);
    // Every other key is untouched.
    for (const type of IMPORTABLE_KEY_TYPE_NAMES.filter((t) => t !== MUTABLE)) {
      expect((await keysOf(type)).map((k) => [k.identity, k.status])).toEqual([[deployed.get(type)!.identity, 'active']]);
    }
  });

  test('changing only the rotation period re-applies it with PATCH and does not replace the key', async () => {
    const requestsBefore = emulator.requestLog.length;
    const before = deployed.get(MUTABLE)!;
    mutable = { allowRotation: true, rotation: { enabled: true, periodInDays: 30 } };
    writeConfig();
    const result = await cdktf('deploy (rotation period)', 'deploy', '--auto-approve');
    expectSuccess(result);
    expect(result.output).not.toMatch(/_Key_[0-9A-F]+ \(\S+\/Key\) must be replaced/);
    expect(result.output).toMatch(new RegExp(`# terraform_data\\.${idOf(MUTABLE)}_Rotation_[0-9A-F]+ \\(${idOf(MUTABLE)}/Rotation\\) must be replaced`));
    expect(result.output).toMatch(/Apply complete! Resources: 1 added, 0 changed, 1 destroyed/);

    const keys = await keysOf(MUTABLE);
    const after = keys.find((k) => k.identity === before.identity);
    expect(after).toMatchObject({ status: 'active', name: before.name, keyRotationEnabled: true, rotationPeriodInDays: 30 });
    expect(keys.filter((k) => k.status === 'active')).toHaveLength(1);
    const writes = emulator.requestLog.slice(requestsBefore).filter((r) => r.method !== 'GET');
    expect(writes.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([`PATCH /v1/kms/${REGION}/keys/${before.identity}/rotation 200`]);
  });

  test('cdktf destroy schedules deletion of every key but the retained one, which stays active', async () => {
    const result = await cdktf('destroy', 'destroy', '--auto-approve');
    expectSuccess(result);
    expect(result.output).toMatch(/Destroy complete! Resources: 13 destroyed/);
    for (const type of IMPORTABLE_KEY_TYPE_NAMES) {
      const key = await client.getKey(REGION, deployed.get(type)!.identity);
      expect([type, key.status]).toEqual([type, type === RETAINED ? 'active' : 'pending_deletion']);
    }
    expect((await client.listKeys(REGION)).filter((k) => k.status === 'active').map((k) => k.keyType)).toEqual([RETAINED]);
  });

  test('nothing produced holds the material in any encoding; the state holds no wrapped blob; blob files are 0600', () => {
    const secrets = [...materials.values()].flatMap((m) => m.secrets);
    const texts = producedTexts(project, STACK);
    expect(texts.some((t) => t.label === `terraform.${STACK}.tfstate`)).toBe(true);
    expect(texts.filter((t) => t.label.startsWith('cdktf output')).length).toBe(project.outputs.length);
    for (const { label, text } of texts) {
      try {
        expectNoLeak(text, ...secrets);
      } catch (err) {
        throw new Error(`${label}: ${(err as Error).message}`);
      }
    }
    // Every blob any synth wrote (a fresh one per synth), in the state and the synthesized configuration. The
    // first 64 bytes (random RSA-OAEP output) identify a blob; searching whole blobs would only cost time.
    const blobs = [...project.blobs.values()].map((b) => b.subarray(0, 64));
    expect(blobs.length).toBeGreaterThanOrEqual(10 * 5);
    const configAndState = texts.filter((t) => /tfstate|cdk\.tf\.json$/.test(t.label));
    expect(configAndState.length).toBeGreaterThanOrEqual(2);
    for (const { label, text } of configAndState) {
      try {
        expectNoLeak(text, ...blobs);
      } catch (err) {
        throw new Error(`${label}: ${(err as Error).message.replace('key material', 'a wrapped blob')}`);
      }
    }
    // The commitments prove possession of the material at adoption: in no state, plan, log or configuration.
    expect(project.commitments.size).toBeGreaterThanOrEqual(3);
    for (const { label, text } of texts.filter((t) => !t.label.endsWith('byok/keys.wrapped'))) {
      for (const commitment of project.commitments) {
        if (text.includes(commitment.split(':')[1])) throw new Error(`${label} holds a symmetric commitment`);
      }
    }
    for (const file of listFiles(join(project.stackDir(STACK), 'byok'))) expect(modeOf(file)).toBe(0o600);
  });
});
