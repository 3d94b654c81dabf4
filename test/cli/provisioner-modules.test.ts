/**
 * The commands a provisioner runs at apply (`import`, `set-rotation`, `delete`) load only what they use: never
 * the emulator, the material parsers, the HSM code, the constructs, a CDK framework, or undici's index. Each
 * runs as the built CLI against the emulator over real HTTP, with a preload that lists every loaded module.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KmsClient } from '../../src/api';
import { startEmulator, type RunningEmulator } from '../../src/emulator';
import { KeyMaterial } from '../../src/material';
import { WrappingKey, wrap } from '../../src/wrapping';
import { CLI } from '../support/cli';
import { useTempDir } from '../support/openssl';

const ORG = 'org-modules';
const TOKEN = 'tok-modules-5521';

let emulator: RunningEmulator;
let env: NodeJS.ProcessEnv;
let wrappingKey: WrappingKey;
const dir = useTempDir();

beforeAll(async () => {
  emulator = await startEmulator({ tokens: [{ token: TOKEN, organisation: ORG }] });
  env = { PATH: process.env.PATH, THALASSA_API_ENDPOINT: emulator.url, THALASSA_API_TOKEN: TOKEN, THALASSA_ORGANISATION: ORG };
  const client = KmsClient.fromEnvironment({ env });
  wrappingKey = WrappingKey.fromApiResponse(await client.wrappingKey('nl-01'));
  await client.close();
});

afterAll(async () => {
  await emulator.close();
});

/** Runs the CLI with a preload that writes the loaded modules' paths to a file; returns them and the exit code. */
function loadedBy(args: readonly string[]): Promise<{ code: number; stderr: string; modules: string[] }> {
  const hook = join(dir(), 'list-modules.js');
  const list = join(dir(), `modules-${args[0]}.txt`);
  writeFileSync(hook, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(list)}, Object.keys(require.cache).join('\\n')));\n`);
  return new Promise((resolve) => {
    execFile(process.execPath, ['-r', hook, CLI, ...args], { env, timeout: 60_000 }, (error, _stdout, stderr) => {
      const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : 1) : 0;
      resolve({ code, stderr: String(stderr), modules: readFileSync(list, 'utf8').split('\n') });
    });
  });
}

const NEVER_ON_THE_APPLY_PATH: readonly [string, RegExp][] = [
  ['the emulator', /[/\\]dist[/\\]emulator[/\\]/],
  ['the constructs', /[/\\]dist[/\\]constructs[/\\]/],
  ['the HSM code', /[/\\]dist[/\\]hsm[/\\]/],
  ['the material parsers', /[/\\]dist[/\\]material[/\\](?!fingerprint\.js$)/],
  ['the wrapping code (wrap, KWP)', /[/\\]dist[/\\]wrapping[/\\](wrap|kwp|wrapping-key|index)\.js$/],
  ['a CDK framework', /[/\\]node_modules[/\\](cdktf|cdktn|constructs|@cdktf)[/\\]/],
  ['the PKCS#11 binding', /[/\\]node_modules[/\\]pkcs11js[/\\]/],
  ["undici's index (fetch, WebSocket, caches…)", /[/\\]node_modules[/\\]undici[/\\]index\.js$/],
];

function expectLean(modules: string[], command: string): void {
  // The list is real: the command's own module is in it.
  expect(modules).toContainEqual(expect.stringMatching(new RegExp(`[/\\\\]dist[/\\\\]cli[/\\\\]commands[/\\\\]${command}\\.js$`)));
  const found = NEVER_ON_THE_APPLY_PATH.flatMap(([what, pattern]) => modules.filter((m) => pattern.test(m)).map((m) => `${what}: ${m}`));
  expect(found).toEqual([]);
}

test('import, set-rotation and delete load no emulator, parser, construct or framework module', async () => {
  const loaded = KeyMaterial.fromBytes(randomBytes(32), { format: 'raw' }).load('aes256-gcm96');
  const wrappedFile = join(dir(), 'key.wrapped');
  writeFileSync(wrappedFile, wrap(loaded, wrappingKey).toString('base64'), { mode: 0o600 });
  const fingerprint = loaded.fingerprint;
  loaded.destroy();

  const imported = await loadedBy(['import', '--region', 'nl-01', '--name', 'lean', '--key-type', 'aes256-gcm96', '--wrapped-file', wrappedFile, '--fingerprint', fingerprint, '--allow-rotation']);
  expect({ code: imported.code, stderr: imported.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
  expectLean(imported.modules, 'import');

  const rotation = await loadedBy(['set-rotation', '--region', 'nl-01', '--name', 'lean', '--enabled=true', '--period-days=90', '--fingerprint', fingerprint]);
  expect(rotation.code).toBe(0);
  expectLean(rotation.modules, 'set-rotation');

  const deleted = await loadedBy(['delete', '--region', 'nl-01', '--name', 'lean', '--fingerprint', fingerprint]);
  expect(deleted.code).toBe(0);
  expectLean(deleted.modules, 'delete');
});
