/**
 * End to end, the way a user gets the package: `npm pack` of this repository, installed with cdktf and
 * constructs into a scratch project outside the repository, then `cdktf deploy` of one key. The provisioner
 * must run the CLI from the scratch project's node_modules: nothing may point back into this checkout.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { KmsClient } from '../../src/api';
import { startEmulator, type RunningEmulator } from '../../src/emulator';
import { WrappingKey } from '../../src/wrapping';
import { proveKeyHoldsMaterial } from '../../examples/key-proof';
import { expectNoLeak } from '../support/no-leak';
import { E2eProject, generateMaterial, installedPackages, installPackedProject, ORGANISATION, producedTexts, REGION, REPO } from './harness';

jest.setTimeout(180_000);

const STACK = 'user-keys';

const versionOf = (pkg: string): string => (JSON.parse(readFileSync(join(REPO, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;

describe('the npm pack tarball, installed in a scratch project outside the repository', () => {
  let emulator: RunningEmulator;
  let client: KmsClient;
  let scratch: string;
  let project: E2eProject;

  beforeAll(async () => {
    const token = randomBytes(18).toString('base64url');
    emulator = await startEmulator({ tokens: [{ token, organisation: ORGANISATION }] });
    const apiEnv = { THALASSA_API_ENDPOINT: emulator.url, THALASSA_API_TOKEN: token, THALASSA_ORGANISATION: ORGANISATION };
    client = KmsClient.fromEnvironment({ env: apiEnv });
    scratch = mkdtempSync(join(tmpdir(), 'thalassa-byok-user-'));
    expect(realpathSync(scratch).startsWith(realpathSync(REPO))).toBe(false);

    const dir = await installPackedProject(scratch, [`cdktf@${versionOf('cdktf')}`, `constructs@${versionOf('constructs')}`]);
    project = new E2eProject('unused', apiEnv, dir);
  });

  afterAll(async () => {
    await client?.close();
    await emulator?.close();
    if (scratch !== undefined && process.env.BYOK_E2E_KEEP !== '1') rmSync(scratch, { recursive: true, force: true });
  });

  test('npm ls: the package brings no second framework (no cdktn) and no second copy of cdktf or constructs', async () => {
    const installed = await installedPackages(project.dir);
    expect(installed.has('cdktf')).toBe(true);
    expect(installed.has('cdktn')).toBe(false);
    expect(installed.get('cdktf')).toEqual([versionOf('cdktf')]);
    expect(installed.get('constructs')).toEqual([versionOf('constructs')]);
  });

  test('in the scratch project, each documented import path resolves and an internal one does not', () => {
    const load = (specifier: string): string => {
      const script = `try { console.log(Object.keys(require(${JSON.stringify(specifier)})).join(',')); } catch (e) { console.log('ERR ' + e.code); }`;
      return spawnSync(process.execPath, ['-e', script], { cwd: project.dir, encoding: 'utf8' }).stdout.trim();
    };
    expect(load('cdktf-thalassa-byok').split(',')).toEqual(expect.arrayContaining(['ImportedKmsKey', 'KeyOwner', 'KeyMaterial', 'WrappingKey']));
    expect(load('cdktf-thalassa-byok/api').split(',')).toContain('KmsClient');
    expect(load('cdktf-thalassa-byok/emulator').split(',')).toContain('startEmulator');
    expect(load('cdktf-thalassa-byok/package.json')).toContain('name');
    for (const internal of ['cdktf-thalassa-byok/dist/emulator', 'cdktf-thalassa-byok/dist/cli/run', 'cdktf-thalassa-byok/src/index']) {
      expect([internal, load(internal)]).toEqual([internal, 'ERR ERR_PACKAGE_PATH_NOT_EXPORTED']);
    }
  });

  test('without pkcs11js: a synth of file keys loads no native module, and KeyMaterial.fromPkcs11 names the package', async () => {
    // pkcs11js is an optional peer dependency: a plain install leaves it out.
    const resolvable = spawnSync(process.execPath, ['-e', 'try { require.resolve("pkcs11js"); console.log("found"); } catch (e) { console.log(e.code); }'], { cwd: project.dir, encoding: 'utf8' });
    expect(resolvable.stdout.trim()).toBe('MODULE_NOT_FOUND');
    const material = await generateMaterial('aes256-gcm96', project.dir);
    const wrappingKey = WrappingKey.fromApiResponse(await client.wrappingKey(REGION));
    writeFileSync(join(project.dir, 'wk-native.pem'), wrappingKey.pem);
    const app = (source: string): string => `
      const { App, TerraformStack } = require('cdktf');
      const { ImportedKmsKey, KeyMaterial, WrappingKey } = require('cdktf-thalassa-byok');
      const app = new App({ outdir: 'native-out' });
      const stack = new TerraformStack(app, 'native');
      const wrappingKey = WrappingKey.fromPemFile('wk-native.pem', { pin: ${JSON.stringify(wrappingKey.fingerprint)} });
      let error = '';
      try {
        new ImportedKmsKey(stack, 'key', { region: ${JSON.stringify(REGION)}, name: 'native-check', keyType: 'aes256-gcm96', material: ${source}, wrappingKey });
        app.synth();
      } catch (e) { error = String(e.message); }
      const mapped = require('node:fs').readFileSync('/proc/self/maps', 'utf8').split('\\n').map((l) => l.trim().split(/\\s+/).pop()).filter((f) => /\\.node$/.test(f));
      console.log(JSON.stringify({ error, mapped: [...new Set(mapped)], pkcs11jsLoaded: Object.keys(require.cache).some((f) => f.includes('pkcs11js')) }));`;
    const run = (source: string): { error: string; mapped: string[]; pkcs11jsLoaded: boolean } => {
      const out = spawnSync(process.execPath, ['-e', app(source)], { cwd: project.dir, encoding: 'utf8', env: { ...process.env, HSM_PIN_FOR_TEST: 'pin-never-shown-8812' } });
      expect({ status: out.status, stderr: out.stderr }).toEqual({ status: 0, stderr: '' });
      return JSON.parse(out.stdout.trim().split('\n').pop() as string) as { error: string; mapped: string[]; pkcs11jsLoaded: boolean };
    };
    const plain = run(`KeyMaterial.fromFile(${JSON.stringify(material.file)})`);
    expect(plain).toEqual({ error: '', mapped: [], pkcs11jsLoaded: false });
    const hsm = run(`KeyMaterial.fromPkcs11({ module: '/nonexistent/libsofthsm2.so', tokenLabel: 't', pinEnv: 'HSM_PIN_FOR_TEST', keyLabel: 'k' })`);
    expect(hsm.error).toMatch(/PKCS#11 binding "pkcs11js".*not installed.*npm install pkcs11js/);
    expect(hsm.error).not.toContain('pin-never-shown-8812');
    expect(hsm.mapped).toEqual([]);
  });

  test('cdktf deploy imports the key with the CLI from the project\'s node_modules', async () => {
    const material = await generateMaterial('ecdsa-p384', project.dir);
    const wrappingKey = WrappingKey.fromApiResponse(await client.wrappingKey(REGION));
    const wrappingKeyFile = join(project.dir, 'wrapping-key.pem');
    writeFileSync(wrappingKeyFile, wrappingKey.pem);
    project.writeConfig({
      cdktf: 'cdktf', library: 'cdktf-thalassa-byok', stack: STACK, wrappingKeyFile, pin: wrappingKey.fingerprint,
      keys: [{ id: 'signing', name: 'user-signing', keyType: 'ecdsa-p384', file: material.file }],
    });

    const result = await project.cdktf(STACK, 'deploy', '--auto-approve', '--outputs-file=outputs.json');
    if (result.code !== 0) throw new Error(`cdktf deploy exited ${result.code}:\n${result.output.slice(-4000)}`);
    console.log(`cdktf deploy (packed): ${(result.ms / 1000).toFixed(1)} s`);

    // The provisioner runs the installed package's CLI, never this checkout's.
    const config = readFileSync(join(project.stackDir(STACK), 'cdk.tf.json'), 'utf8');
    const resources = (JSON.parse(config) as { resource: { terraform_data: Record<string, { provisioner: { 'local-exec': { interpreter: string[] } }[] }> } }).resource.terraform_data;
    const interpreters = Object.values(resources).flatMap((r) => r.provisioner.map((p) => p['local-exec'].interpreter));
    expect(interpreters.length).toBeGreaterThanOrEqual(2);
    // `node` from Terraform's PATH, and the CLI relative to the stack's folder, where Terraform runs them.
    const installedCli = join(realpathSync(project.dir), 'node_modules', 'cdktf-thalassa-byok', 'dist', 'cli', 'apply-step.js');
    for (const interpreter of interpreters) {
      expect(interpreter[0]).toBe('node');
      expect(interpreter[1]).toBe('../../../node_modules/cdktf-thalassa-byok/dist/cli/apply-step.js');
      expect(realpathSync(resolve(project.stackDir(STACK), interpreter[1]))).toBe(installedCli);
    }
    expect(config).not.toContain(REPO);
    // (The project's own folder does appear: cdktf's default local backend path. portable.e2e.test.ts
    // declares a backend and checks that nothing absolute is left.)

    const name = project.readOutputs('outputs.json', STACK)['signing-name'];
    const key = await client.findKeyByName(REGION, name);
    expect(key).toMatchObject({ keyType: 'ecdsa-p384', imported: true, status: 'active' });
    await proveKeyHoldsMaterial(client, REGION, key!, material.known);
    for (const { text } of producedTexts(project, STACK)) expectNoLeak(text, ...material.secrets);
  });
});
