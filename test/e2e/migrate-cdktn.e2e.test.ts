/**
 * The README's migration from cdktf to CDK Terrain, end to end: deploy with cdktf 0.21, swap the framework
 * in the same project (uninstall cdktf, install cdktn 0.24 and cdktn-cli 0.24), and the plan has no changes:
 * same state, same addresses, the same keys, still active.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { KmsClient } from '../../src/api';
import { startEmulator, type RunningEmulator } from '../../src/emulator';
import { WrappingKey } from '../../src/wrapping';
import { nodeAtLeast } from '../support/node-binary';
import { childEnv, E2eProject, generateMaterial, installPackedProject, ORGANISATION, REGION, runAsync, type AppConfig } from './harness';

jest.setTimeout(600_000);

const STACK = 'migrating-keys';

describe('migrating a deployed stack from cdktf 0.21 to cdktn 0.24', () => {
  let emulator: RunningEmulator;
  let client: KmsClient;
  let scratch: string;
  let apiEnv: Record<string, string>;

  beforeAll(async () => {
    const token = randomBytes(18).toString('base64url');
    emulator = await startEmulator({ tokens: [{ token, organisation: ORGANISATION }] });
    apiEnv = { THALASSA_API_ENDPOINT: emulator.url, THALASSA_API_TOKEN: token, THALASSA_ORGANISATION: ORGANISATION };
    client = KmsClient.fromEnvironment({ env: apiEnv });
    scratch = mkdtempSync(join(tmpdir(), 'thalassa-byok-migrate-'));
  });

  afterAll(async () => {
    await client?.close();
    await emulator?.close();
    if (scratch !== undefined && process.env.BYOK_E2E_KEEP !== '1') rmSync(scratch, { recursive: true, force: true });
  });

  test('cdktf deploy, swap to cdktn: diff has no changes, deploy keeps every key, destroy schedules their deletion', async () => {
    const node = nodeAtLeast(22, 19);
    const dir = await installPackedProject(scratch, ['cdktf@0.21', 'constructs@10.7'], node);
    const project = new E2eProject('unused', apiEnv, dir);
    const materials = [await generateMaterial('ed25519', dir), await generateMaterial('aes128-gcm96', dir)];
    const wrappingKey = WrappingKey.fromApiResponse(await client.wrappingKey(REGION));
    writeFileSync(join(dir, 'wrapping-key.pem'), wrappingKey.pem);
    const config: AppConfig = {
      cdktf: 'cdktf', library: 'cdktf-thalassa-byok', stack: STACK, wrappingKeyFile: join(dir, 'wrapping-key.pem'), pin: wrappingKey.fingerprint,
      keys: materials.map((m) => ({ id: m.keyType, name: `migrating-${m.keyType}`, keyType: m.keyType, file: m.file, props: { allowRotation: true, rotation: { enabled: true, periodInDays: 60 } } })),
    };
    project.writeConfig(config);
    const run = async (label: string, ...args: string[]): Promise<string> => {
      const result = await project.cdktf(STACK, ...args);
      console.log(`${label}: ${(result.ms / 1000).toFixed(1)} s`);
      if (result.code !== 0) throw new Error(`${label} exited ${result.code}:\n${result.output.slice(-4000)}`);
      return result.output;
    };
    await run('cdktf deploy', 'deploy', '--auto-approve');
    const before = (await client.listKeys(REGION)).map((k) => [k.identity, k.name, k.status]).sort();
    expect(before).toHaveLength(2);
    expect(before.every(([, , status]) => status === 'active')).toBe(true);

    const npmEnv = childEnv({ PATH: `${dirname(node)}:${process.env.PATH ?? ''}` });
    const swap = await runAsync('npm', ['uninstall', '--no-audit', '--no-fund', '--loglevel=error', 'cdktf'], { cwd: dir, env: npmEnv, timeoutMs: 240_000 });
    expect(swap.code).toBe(0);
    const install = await runAsync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', 'cdktn@0.24', 'cdktn-cli@0.24', 'constructs@10.7'], { cwd: dir, env: npmEnv, timeoutMs: 240_000 });
    if (install.code !== 0) throw new Error(install.output);
    expect(existsSync(join(dir, 'node_modules', 'cdktf'))).toBe(false);
    project.cli = [node, join(dir, 'node_modules', 'cdktn-cli', 'bundle', 'bin', 'cdktn.js')];
    project.env = { PATH: `${dirname(node)}:${process.env.PATH ?? ''}` };
    writeFileSync(join(dir, 'cdktf.json'), readFileSync(join(dir, 'cdktf.json'), 'utf8').replace(process.execPath, node));
    project.writeConfig({ ...config, cdktf: 'cdktn' });

    expect(await run('cdktn diff', 'diff')).toMatch(/No changes\. Your infrastructure matches the configuration/);
    await run('cdktn deploy', 'deploy', '--auto-approve');
    expect((await client.listKeys(REGION)).map((k) => [k.identity, k.name, k.status]).sort()).toEqual(before);

    await run('cdktn destroy', 'destroy', '--auto-approve');
    expect((await client.listKeys(REGION)).map((k) => k.status)).toEqual(['pending_deletion', 'pending_deletion']);
  });
});
