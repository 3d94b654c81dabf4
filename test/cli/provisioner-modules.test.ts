/**
 * The commands a provisioner runs at apply (`import`, `set-rotation`, `delete`, `sweep`) load only what they
 * use: never the emulator, the material parsers, the HSM code, the constructs, a CDK framework, or undici's
 * index. The provisioners run dist/cli/apply-step.js, which runs one bundle: its modules are read from the
 * bundler's list of inputs, and a run is checked to load no other file of ours or of node_modules. The full
 * CLI (dist/cli/main.js) keeps the same discipline module by module. Each runs against the emulator over real
 * HTTP, with a preload that lists every loaded module.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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

const APPLY_STEP = join(__dirname, '..', '..', 'dist', 'cli', 'apply-step.js');
const BUNDLE_INPUTS = join(__dirname, '..', '..', 'dist', 'cli', 'apply-step.bundle.inputs.json');

interface Loaded {
  readonly code: number;
  readonly stderr: string;
  /** Files loaded through require (require.cache). */
  readonly modules: string[];
  /** Node.js built-in modules loaded (process.moduleLoadList). */
  readonly builtins: string[];
}

/** Runs `script` with a preload that writes the loaded modules to a file; returns them and the exit code. */
function loadedBy(script: string, args: readonly string[]): Promise<Loaded> {
  const hook = join(dir(), 'list-modules.js');
  const list = join(dir(), `modules-${args[0]}.json`);
  writeFileSync(hook, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(list)}, JSON.stringify({ modules: Object.keys(require.cache), builtins: process.moduleLoadList })));\n`);
  const cache = join(dir(), 'cache');
  mkdirSync(cache, { recursive: true, mode: 0o700 });
  return new Promise((resolve) => {
    execFile(process.execPath, ['-r', hook, script, ...args], { env: { ...env, XDG_CACHE_HOME: cache }, timeout: 60_000 }, (error, _stdout, stderr) => {
      const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : 1) : 0;
      const loaded = JSON.parse(readFileSync(list, 'utf8')) as { modules: string[]; builtins: string[] };
      resolve({ code, stderr: String(stderr), modules: loaded.modules, builtins: loaded.builtins.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice('NativeModule '.length)) });
    });
  });
}

/** A fresh AES-256 key wrapped for the emulator's region key, in an owner-only file; returns it and its fingerprint. */
function wrappedKeyFile(name: string): { wrappedFile: string; fingerprint: string } {
  const loaded = KeyMaterial.fromBytes(randomBytes(32), { format: 'raw' }).load('aes256-gcm96');
  try {
    const wrappedFile = join(dir(), name);
    writeFileSync(wrappedFile, wrap(loaded, wrappingKey).toString('base64'), { mode: 0o600 });
    return { wrappedFile, fingerprint: loaded.fingerprint };
  } finally {
    loaded.destroy();
  }
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
  expect(modules).toContainEqual(expect.stringMatching(new RegExp(`(^|[/\\\\])dist[/\\\\]cli[/\\\\]commands[/\\\\]${command}\\.js$`)));
  const found = NEVER_ON_THE_APPLY_PATH.flatMap(([what, pattern]) => modules.filter((m) => pattern.test(`/${m}`)).map((m) => `${what}: ${m}`));
  expect(found).toEqual([]);
}

/** What the apply-step entry itself loads with require before it runs the bundle; nothing else may appear. */
const APPLY_STEP_LOADER = ['cli/apply-step.js', 'cli/launch.js', 'cli/node-engine.js', 'cli/compile-cache.js', 'secret-file.js'];

test('the apply-step bundle holds the four provisioner commands and none of what they never use', () => {
  const inputs = JSON.parse(readFileSync(BUNDLE_INPUTS, 'utf8')) as string[];
  for (const command of ['import', 'set-rotation', 'delete', 'sweep']) expectLean(inputs, command);
  // undici's agent and request are inside; its index is left outside (only a proxy reaches it).
  expect(inputs).toEqual(expect.arrayContaining(['node_modules/undici/lib/dispatcher/agent.js', 'node_modules/undici/lib/api/api-request.js']));
});

test('the bundle is ASCII only, so that V8 holds its text one byte per character', () => {
  const bundle = readFileSync(join(__dirname, '..', '..', 'dist', 'cli', 'apply-step.bundle.js'));
  expect(bundle.length).toBeGreaterThan(100_000);
  expect(bundle.findIndex((byte) => byte > 0x7f)).toBe(-1);
  // What was rewritten is still there, as text: a legal comment keeps its author.
  expect(bundle.toString('latin1')).toContain('Jimmy W\\u{e4}rting');
});

test('the provisioners\' commands run from the bundle: no other module file of ours or of node_modules, no node:http or http2', async () => {
  const { wrappedFile, fingerprint } = wrappedKeyFile('bundled.wrapped');
  const imported = await loadedBy(APPLY_STEP, ['import', '--region', 'nl-01', '--name', 'bundled', '--key-type', 'aes256-gcm96', '--wrapped-file', wrappedFile, '--fingerprint', fingerprint]);
  expect({ code: imported.code, stderr: imported.stderr }).toEqual({ code: 0, stderr: expect.stringContaining('Importing aes256-gcm96 key "bundled"') });
  const ours = imported.modules.filter((m) => !m.endsWith('list-modules.js')).map((m) => m.replace(/^.*[/\\]dist[/\\]/, '').split('\\').join('/'));
  expect(ours.sort()).toEqual([...APPLY_STEP_LOADER].sort());
  // undici's HTTP/2 half (and with it node:http2, tls and the HTTP server) is evaluated on first use only.
  expect(imported.builtins).toContain('net');
  expect(imported.builtins).not.toContain('http2');
  // Nor node:http, which undici needs for no HTTP/1.1 request (bundle.mjs), nor node:module, which the
  // bundle's require would need if it were made with createRequire.
  expect(imported.builtins.filter((m) => /^(_?http|module$)/.test(m))).toEqual([]);
  const deleted = await loadedBy(APPLY_STEP, ['delete', '--region', 'nl-01', '--name', 'bundled', '--fingerprint', fingerprint]);
  expect(deleted.code).toBe(0);
  expect(deleted.modules.filter((m) => /[/\\](dist|node_modules)[/\\]/.test(m)).length).toBe(APPLY_STEP_LOADER.length);
});

test('the full CLI\'s import, set-rotation and delete load no emulator, parser, construct or framework module', async () => {
  const { wrappedFile, fingerprint } = wrappedKeyFile('key.wrapped');

  const imported = await loadedBy(CLI, ['import', '--region', 'nl-01', '--name', 'lean', '--key-type', 'aes256-gcm96', '--wrapped-file', wrappedFile, '--fingerprint', fingerprint, '--allow-rotation']);
  expect({ code: imported.code, stderr: imported.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
  expectLean(imported.modules, 'import');

  const rotation = await loadedBy(CLI, ['set-rotation', '--region', 'nl-01', '--name', 'lean', '--enabled=true', '--period-days=90', '--fingerprint', fingerprint]);
  expect(rotation.code).toBe(0);
  expectLean(rotation.modules, 'set-rotation');

  const deleted = await loadedBy(CLI, ['delete', '--region', 'nl-01', '--name', 'lean', '--fingerprint', fingerprint]);
  expect(deleted.code).toBe(0);
  expectLean(deleted.modules, 'delete');
});
