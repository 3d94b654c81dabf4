/**
 * End to end, the way a user gets the package: `npm pack` of this repository, installed with cdktf and
 * constructs into a scratch project outside the repository, then `cdktf deploy` of one key. The provisioner
 * must run the CLI from the scratch project's node_modules: nothing may point back into this checkout.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KmsClient } from '../../src/api';
import { startEmulator, type RunningEmulator } from '../../src/emulator';
import { WrappingKey } from '../../src/wrapping';
import { proveKeyHoldsMaterial } from '../../examples/key-proof';
import { expectNoLeak } from '../support/no-leak';
import { childEnv, E2eProject, generateMaterial, ORGANISATION, producedTexts, REGION, REPO, runAsync } from './harness';

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
    emulator = await startEmulator({ tokens: [token] });
    const apiEnv = { THALASSA_API_ENDPOINT: emulator.url, THALASSA_API_TOKEN: token, THALASSA_ORGANISATION: ORGANISATION };
    client = KmsClient.fromEnvironment({ env: apiEnv });
    scratch = mkdtempSync(join(tmpdir(), 'thalassa-byok-user-'));
    expect(realpathSync(scratch).startsWith(realpathSync(REPO))).toBe(false);

    // dist/ was built by jest's globalSetup; --ignore-scripts skips prepack's second build.
    const npmEnv = childEnv({});
    const pack = await runAsync('npm', ['pack', '--ignore-scripts', '--json', `--pack-destination=${scratch}`], { cwd: REPO, env: npmEnv });
    if (pack.code !== 0) throw new Error(`npm pack failed:\n${pack.output}`);
    const tarball = join(scratch, (JSON.parse(pack.output.slice(pack.output.indexOf('['))) as { filename: string }[])[0].filename);

    const dir = join(scratch, 'app');
    mkdirSync(dir);
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'user-infra', version: '1.0.0', private: true }));
    const install = await runAsync('npm', [
      'install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error',
      tarball, `cdktf@${versionOf('cdktf')}`, `constructs@${versionOf('constructs')}`,
    ], { cwd: dir, env: npmEnv, timeoutMs: 150_000 });
    if (install.code !== 0) throw new Error(`npm install failed:\n${install.output}`);
    project = new E2eProject('unused', apiEnv, dir);
  });

  afterAll(async () => {
    await client?.close();
    await emulator?.close();
    if (scratch !== undefined && process.env.BYOK_E2E_KEEP !== '1') rmSync(scratch, { recursive: true, force: true });
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
    const installedCli = join(realpathSync(project.dir), 'node_modules', 'cdktf-thalassa-byok', 'dist', 'cli', 'main.js');
    for (const interpreter of interpreters) {
      expect(realpathSync(interpreter[1])).toBe(installedCli);
      expect(existsSync(interpreter[0])).toBe(true);
    }
    expect(config).not.toContain(REPO);

    const name = project.readOutputs('outputs.json', STACK)['signing-name'];
    const key = await client.findKeyByName(REGION, name);
    expect(key).toMatchObject({ keyType: 'ecdsa-p384', imported: true, status: 'active' });
    await proveKeyHoldsMaterial(client, REGION, key!, material.known);
    for (const { text } of producedTexts(project, STACK)) expectNoLeak(text, ...material.secrets);
  });
});
