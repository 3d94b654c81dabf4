/**
 * CDK Terrain (cdktn 0.24), the maintained fork of cdktf, from the same package: a scratch project with only
 * `cdktn@0.24`, `cdktn-cli@0.24` (on Node.js ≥ 22.19), `constructs@10.7` and our `npm pack` tarball. Real
 * deploy, no-op re-plan, replacement, removal and destroy against the emulator, with cdktn-cli and Terraform;
 * `npm ls` shows nothing of cdktf, and a TypeScript app type-checks against our declarations and cdktn's.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { KmsClient, type KmsKey } from '../../src/api';
import { startEmulator, type RunningEmulator } from '../../src/emulator';
import { WrappingKey } from '../../src/wrapping';
import { proveKeyHoldsMaterial } from '../../examples/key-proof';
import { expectNoLeak } from '../support/no-leak';
import { nodeAtLeast } from '../support/node-binary';
import { E2eProject, generateMaterial, installedPackages, installPackedProject, ORGANISATION, producedTexts, REGION, REPO, runAsync, childEnv, type AppConfig, type GeneratedMaterial } from './harness';

jest.setTimeout(600_000);

const STACK = 'terrain-keys';
const OUTPUTS = 'outputs.json';

describe('a cdktn 0.24 app with only cdktn installed', () => {
  let emulator: RunningEmulator;
  let client: KmsClient;
  let scratch: string;
  let project: E2eProject;
  let node: string;
  let materials: GeneratedMaterial[];
  let config: AppConfig;
  const deployed = new Map<string, KmsKey>();

  beforeAll(async () => {
    node = nodeAtLeast(22, 19);
    const token = randomBytes(18).toString('base64url');
    emulator = await startEmulator({ tokens: [{ token, organisation: ORGANISATION }] });
    const apiEnv = { THALASSA_API_ENDPOINT: emulator.url, THALASSA_API_TOKEN: token, THALASSA_ORGANISATION: ORGANISATION };
    client = KmsClient.fromEnvironment({ env: apiEnv });
    scratch = mkdtempSync(join(tmpdir(), 'thalassa-byok-cdktn-'));
    expect(realpathSync(scratch).startsWith(realpathSync(REPO))).toBe(false);
    const dir = await installPackedProject(scratch, ['cdktn@0.24', 'cdktn-cli@0.24', 'constructs@10.7', 'typescript@5.9', '@types/node@22'], node);
    project = new E2eProject('unused', apiEnv, dir);
    project.cli = [node, join(dir, 'node_modules', 'cdktn-cli', 'bundle', 'bin', 'cdktn.js')];
    // The app and the provisioners' `node` run on that Node.js too.
    project.env = { PATH: `${dirname(node)}:${process.env.PATH ?? ''}` };
    writeFileSync(join(dir, 'cdktf.json'), readFileSync(join(dir, 'cdktf.json'), 'utf8').replace(process.execPath, node));

    materials = [await generateMaterial('ecdsa-p256', dir), await generateMaterial('aes256-gcm96', dir)];
    const wrappingKey = WrappingKey.fromApiResponse(await client.wrappingKey(REGION));
    writeFileSync(join(dir, 'wrapping-key.pem'), wrappingKey.pem);
    config = {
      cdktf: 'cdktn', library: 'cdktf-thalassa-byok', stack: STACK, wrappingKeyFile: join(dir, 'wrapping-key.pem'), pin: wrappingKey.fingerprint,
      keys: materials.map((m) => ({ id: m.keyType, name: `terrain-${m.keyType}`, keyType: m.keyType, file: m.file })),
    };
  });

  afterAll(async () => {
    await client?.close();
    await emulator?.close();
    if (scratch !== undefined && process.env.BYOK_E2E_KEEP !== '1') rmSync(scratch, { recursive: true, force: true });
  });

  const run = async (label: string, ...args: string[]): Promise<string> => {
    const result = await project.cdktf(STACK, ...args);
    console.log(`cdktn ${label}: ${(result.ms / 1000).toFixed(1)} s`);
    if (result.code !== 0) throw new Error(`cdktn ${label} exited ${result.code}:\n${result.output.slice(-4000)}`);
    return result.output;
  };
  const keysNamed = async (name: string): Promise<KmsKey[]> => (await client.listKeys(REGION)).filter((k) => k.name.startsWith(`${name}-`));

  test('npm ls: cdktn and constructs 10.7, nothing of cdktf (nor @cdktf/provider-null)', async () => {
    const installed = await installedPackages(project.dir);
    expect(installed.get('cdktn')).toEqual([expect.stringMatching(/^0\.24\./)]);
    // One constructs for the app, cdktn and this package (cdktn-cli keeps its own copy for itself).
    const version = (path: string): string => (JSON.parse(readFileSync(join(project.dir, 'node_modules', path, 'package.json'), 'utf8')) as { version: string }).version;
    expect(version('constructs')).toMatch(/^10\.7\./);
    expect(existsSync(join(project.dir, 'node_modules', 'cdktn', 'node_modules', 'constructs'))).toBe(false);
    expect(existsSync(join(project.dir, 'node_modules', 'cdktf-thalassa-byok', 'node_modules', 'constructs'))).toBe(false);
    expect([...installed.keys()].filter((name) => name === 'cdktf' || name.startsWith('@cdktf/'))).toEqual([]);
    expect(existsSync(join(project.dir, 'node_modules', 'cdktf'))).toBe(false);
    const nodeVersion = await runAsync(node, ['--version'], { cwd: project.dir, env: childEnv({}) });
    console.log(`cdktn-cli runs on Node.js ${nodeVersion.output.trim()}`);
  });

  test('TypeScript: an app type-checks against our declarations and cdktn\'s (strict, no skipLibCheck), and mistakes fail', async () => {
    writeFileSync(join(project.dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { strict: true, skipLibCheck: false, noEmit: true, module: 'commonjs', moduleResolution: 'node', target: 'ES2022', types: ['node'] },
      files: ['typed-app.ts'],
    }));
    writeFileSync(join(project.dir, 'typed-app.ts'), [
      "import { App, TerraformOutput, TerraformStack } from 'cdktn';",
      "import { ImportedKmsKey, KeyMaterial, KeyOwner, WrappingKey, type ImportedKmsKeyProps } from 'cdktf-thalassa-byok';",
      'const app = new App();',
      "const stack = new TerraformStack(app, 'typed');",
      'const owner = new KeyOwner(stack);',
      "const props: ImportedKmsKeyProps = { region: 'nl-01', name: 'k', keyType: 'aes256-gcm96', material: KeyMaterial.fromEnv('K'), wrappingKey: WrappingKey.fromPemFile('w.pem') };",
      "const key = new ImportedKmsKey(stack, 'Key', props);",
      "new TerraformOutput(stack, 'name', { value: key.name, dependsOn: [key.resource, owner.ownerResource] });",
      'const physical: string = key.physicalName;',
      "const type: string = key.resource.terraformResourceType + physical;",
      '// @ts-expect-error: region must be a string',
      "new ImportedKmsKey(stack, 'Bad', { ...props, region: 1 });",
      'void type;',
      '',
    ].join('\n'));
    const tsc = await runAsync(node, [join(project.dir, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: project.dir, env: childEnv({}) });
    expect(tsc.output).toBe('');
    expect(tsc.code).toBe(0);
    // And it can fail: a wrong prop type without the expectation is an error.
    writeFileSync(join(project.dir, 'typed-app.ts'), readFileSync(join(project.dir, 'typed-app.ts'), 'utf8').replace('// @ts-expect-error: region must be a string\n', ''));
    const failing = await runAsync(node, [join(project.dir, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: project.dir, env: childEnv({}) });
    expect(failing.code).not.toBe(0);
    expect(failing.output).toMatch(/typed-app\.ts\(\d+,\d+\): error TS2322/);
  });

  test('lifecycleResource null_resource synthesizes on cdktn without @cdktf/provider-null: triggers, the null provider and its required_providers entry', async () => {
    const dir = join(project.dir, 'null-app');
    const script = [
      "const { App, TerraformStack } = require('cdktn');",
      "const { ImportedKmsKey, KeyMaterial, KeyOwner, WrappingKey } = require('cdktf-thalassa-byok');",
      `const app = new App({ outdir: ${JSON.stringify(dir)} });`,
      "const stack = new TerraformStack(app, 'nul');",
      "new KeyOwner(stack, { lifecycleResource: 'null_resource' });",
      `new ImportedKmsKey(stack, 'Key', { region: '${REGION}', name: 'nul', keyType: 'aes256-gcm96', lifecycleResource: 'null_resource', material: KeyMaterial.fromFile(${JSON.stringify(materials[1].file)}), wrappingKey: WrappingKey.fromPemFile(${JSON.stringify(config.wrappingKeyFile)}, { pin: ${JSON.stringify(config.pin)} }) });`,
      'app.synth();',
    ].join('\n');
    const synth = await runAsync(node, ['-e', script], { cwd: project.dir, env: childEnv({}) });
    if (synth.code !== 0) throw new Error(synth.output);
    const out = JSON.parse(readFileSync(join(dir, 'stacks', 'nul', 'cdk.tf.json'), 'utf8')) as {
      resource: Record<string, Record<string, { triggers?: Record<string, string>; provisioner?: unknown[] }>>;
      provider: Record<string, unknown>; terraform: { required_providers: Record<string, unknown> };
    };
    expect(Object.keys(out.resource)).toEqual(['null_resource']);
    const resources = Object.values(out.resource.null_resource);
    expect(resources).toHaveLength(3);
    for (const r of resources) expect(r.provisioner).toHaveLength(1);
    expect(Object.values(out.resource.null_resource).map((r) => Object.keys(r.triggers ?? {}).sort())).toContainEqual(
      ['allowRotation', 'annotations', 'description', 'exportAllowed', 'fingerprint', 'hashFunction', 'keyType', 'labels', 'name', 'region']);
    expect(out.provider).toEqual({ null: [{}] });
    // What @cdktf/provider-null 11 declares on cdktf (test/constructs/null-resource.test.ts).
    expect(out.terraform.required_providers).toEqual({ null: { source: 'null', version: '3.2.4' } });
  });

  test('deploy imports every key (provisioners: `node` and the CLI relative to the stack folder)', async () => {
    project.writeConfig(config);
    await run('deploy', 'deploy', '--auto-approve', `--outputs-file=${OUTPUTS}`);
    const synthesized = readFileSync(join(project.stackDir(STACK), 'cdk.tf.json'), 'utf8');
    expect(synthesized).toContain('"node"');
    expect(synthesized).toContain('../../../node_modules/cdktf-thalassa-byok/dist/cli/apply-step.js');
    expect(synthesized).not.toContain(REPO);
    const outputs = project.readOutputs(OUTPUTS, STACK);
    for (const m of materials) {
      const key = await client.findKeyByName(REGION, outputs[`${m.keyType}-name`]);
      expect(key).toMatchObject({ keyType: m.keyType, imported: true, status: 'active' });
      await proveKeyHoldsMaterial(client, REGION, key!, m.known);
      deployed.set(m.keyType, key!);
    }
  });

  test('a re-plan right after deploy has no changes', async () => {
    const output = await run('diff', 'diff');
    expect(output).toMatch(/No changes\. Your infrastructure matches the configuration/);
  });

  test('flipping allowRotation replaces the key: the new one active, the old one pending deletion', async () => {
    config = { ...config, keys: config.keys.map((k) => (k.keyType === 'aes256-gcm96' ? { ...k, props: { allowRotation: true } } : k)) };
    project.writeConfig(config);
    await run('deploy (replacement)', 'deploy', '--auto-approve', `--outputs-file=${OUTPUTS}`);
    const keys = await keysNamed('terrain-aes256-gcm96');
    const old = deployed.get('aes256-gcm96')!;
    expect(keys.filter((k) => k.status === 'active').map((k) => k.identity)).toEqual([expect.not.stringMatching(old.identity)]);
    expect(keys.filter((k) => k.identity === old.identity).map((k) => k.status)).toEqual(['pending_deletion']);
    expect((await client.findKeyByName(REGION, deployed.get('ecdsa-p256')!.name))?.status).toBe('active');
  });

  test('removing a key from the code schedules its deletion', async () => {
    config = { ...config, keys: config.keys.filter((k) => k.keyType !== 'ecdsa-p256') };
    project.writeConfig(config);
    await run('deploy (removal)', 'deploy', '--auto-approve', `--outputs-file=${OUTPUTS}`);
    expect((await client.findKeyByName(REGION, deployed.get('ecdsa-p256')!.name))?.status).toBe('pending_deletion');
  });

  test('destroy schedules the deletion of every key; nothing leaked', async () => {
    await run('destroy', 'destroy', '--auto-approve');
    const keys = await client.listKeys(REGION);
    expect(keys.length).toBeGreaterThanOrEqual(3);
    expect(keys.filter((k) => k.status !== 'pending_deletion')).toEqual([]);
    for (const { text } of producedTexts(project, STACK)) for (const m of materials) expectNoLeak(text, ...m.secrets);
  });
});
