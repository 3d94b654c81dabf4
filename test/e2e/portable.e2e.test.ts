/**
 * "Synth output is portable" (architecture.md), end to end: `cdktf synth` in a project installed from the
 * `npm pack` tarball, copy the whole project to another folder, delete the original, then plain
 * `terraform init && terraform apply` in the copy's stack folder. The provisioners find `node` on the PATH
 * and the CLI relative to the stack folder, so the keys are imported from the copy.
 */
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { KmsClient } from '../../src/api';
import { startEmulator, type RunningEmulator } from '../../src/emulator';
import { WrappingKey } from '../../src/wrapping';
import { proveKeyHoldsMaterial } from '../../examples/key-proof';
import { expectNoLeak } from '../support/no-leak';
import { childEnv, E2eProject, generateMaterial, installPackedProject, listFiles, ORGANISATION, REGION, REPO, runAsync, TERRAFORM, type GeneratedMaterial } from './harness';

jest.setTimeout(300_000);

const STACK = 'portable-keys';
const versionOf = (pkg: string): string => (JSON.parse(readFileSync(join(REPO, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;

describe('a stack synthesized in one folder applies from a copy in another', () => {
  let emulator: RunningEmulator;
  let client: KmsClient;
  let apiEnv: Record<string, string>;
  let scratch: string;
  let elsewhere: string;

  beforeAll(async () => {
    const token = randomBytes(18).toString('base64url');
    emulator = await startEmulator({ tokens: [{ token, organisation: ORGANISATION }] });
    apiEnv = { THALASSA_API_ENDPOINT: emulator.url, THALASSA_API_TOKEN: token, THALASSA_ORGANISATION: ORGANISATION };
    client = KmsClient.fromEnvironment({ env: apiEnv });
    scratch = mkdtempSync(join(tmpdir(), 'thalassa-byok-synth-'));
    elsewhere = mkdtempSync(join(tmpdir(), 'thalassa-byok-apply-'));
  });

  afterAll(async () => {
    await client?.close();
    await emulator?.close();
    if (process.env.BYOK_E2E_KEEP !== '1') for (const d of [scratch, elsewhere]) if (d !== undefined) rmSync(d, { recursive: true, force: true });
  });

  test('synth, copy, delete the original, terraform init && apply in the copy: the keys are imported; destroy schedules their deletion', async () => {
    const original = await installPackedProject(scratch, [`cdktf@${versionOf('cdktf')}`, `constructs@${versionOf('constructs')}`]);
    const project = new E2eProject('unused', apiEnv, original);
    const materials: GeneratedMaterial[] = [await generateMaterial('ecdsa-p256', original), await generateMaterial('aes256-gcm96', original)];
    const wrappingKey = WrappingKey.fromApiResponse(await client.wrappingKey(REGION));
    // Relative paths in the app's own config: the project is what moves.
    writeFileSync(join(original, 'wrapping-key.pem'), wrappingKey.pem);
    project.writeConfig({
      cdktf: 'cdktf', library: 'cdktf-thalassa-byok', stack: STACK, wrappingKeyFile: 'wrapping-key.pem', pin: wrappingKey.fingerprint,
      // cdktf's default local backend names the state by an absolute path; a portable stack declares its backend.
      localBackendPath: 'terraform.tfstate',
      keys: materials.map((m, i) => ({ id: `key${i}`, name: `portable-${m.keyType}`, keyType: m.keyType, file: `${m.keyType}.key` })),
    });
    const synth = await project.cdktf(STACK, 'synth');
    if (synth.code !== 0) throw new Error(`cdktf synth exited ${synth.code}:\n${synth.output.slice(-4000)}`);
    const config = readFileSync(join(project.stackDir(STACK), 'cdk.tf.json'), 'utf8');
    for (const path of [REPO, realpathSync(original), original, scratch, process.execPath]) expect(config).not.toContain(path);

    // The whole project, node_modules included, to a folder with another path (and depth); the original goes.
    const copy = join(elsewhere, 'ci', 'job-2', 'checkout');
    cpSync(original, copy, { recursive: true, verbatimSymlinks: true });
    rmSync(scratch, { recursive: true, force: true });
    expect(existsSync(original)).toBe(false);

    const stackDir = join(copy, 'cdktf.out', 'stacks', STACK);
    writeFileSync(join(copy, 'empty.tfrc'), '');
    const env = childEnv({
      ...apiEnv,
      // The Node.js running this test first, so the provisioners' `node` is the one under test.
      PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
      CHECKPOINT_DISABLE: '1',
      TF_CLI_CONFIG_FILE: join(copy, 'empty.tfrc'),
      TF_IN_AUTOMATION: '1',
    });
    const init = await runAsync(TERRAFORM, ['init', '-input=false', '-no-color'], { cwd: stackDir, env });
    if (init.code !== 0) throw new Error(`terraform init exited ${init.code}:\n${init.output}`);
    const apply = await runAsync(TERRAFORM, ['apply', '-auto-approve', '-input=false', '-no-color'], { cwd: stackDir, env });
    if (apply.code !== 0) throw new Error(`terraform apply exited ${apply.code}:\n${apply.output.slice(-4000)}`);
    console.log(`terraform apply in the copy: ${(apply.ms / 1000).toFixed(1)} s`);
    expect(existsSync(join(stackDir, 'terraform.tfstate'))).toBe(true);

    const outputs = await runAsync(TERRAFORM, ['output', '-json', '-no-color'], { cwd: stackDir, env });
    expect(outputs.code).toBe(0);
    const values = JSON.parse(outputs.output) as Record<string, { value: string }>;
    for (const [i, material] of materials.entries()) {
      const name = values[`key${i}-name`].value;
      expect(name).toMatch(new RegExp(`^portable-${material.keyType}-[0-9a-f]{8}$`));
      const key = await client.findKeyByName(REGION, name);
      expect(key).toMatchObject({ keyType: material.keyType, imported: true, status: 'active' });
      await proveKeyHoldsMaterial(client, REGION, key!, material.known);
    }
    const texts = [
      ...listFiles(join(copy, 'cdktf.out')).map((f) => readFileSync(f).toString('latin1')),
      readFileSync(join(stackDir, 'terraform.tfstate'), 'latin1'), init.output, apply.output, ...project.outputs,
    ];
    for (const text of texts) for (const m of materials) expectNoLeak(text, ...m.secrets);

    // The destroy-time provisioners (the key owner's sweep) also run from the copy.
    const destroy = await runAsync(TERRAFORM, ['destroy', '-auto-approve', '-input=false', '-no-color'], { cwd: stackDir, env });
    if (destroy.code !== 0) throw new Error(`terraform destroy exited ${destroy.code}:\n${destroy.output.slice(-4000)}`);
    for (const [i] of materials.entries()) {
      expect(await client.findKeyByName(REGION, values[`key${i}-name`].value)).toMatchObject({ status: 'pending_deletion' });
    }
  });
});
