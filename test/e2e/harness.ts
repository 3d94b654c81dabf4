/**
 * The end-to-end harness: a throw-away cdktf project (cdktf.json, a small JS app driven by `config.json`),
 * the real cdktf-cli and Terraform run as asynchronous child processes, and the emulator in this process.
 * Child processes must be asynchronous: a synchronous one would block the emulator's event loop while the
 * provisioners it started call the emulator.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { keyFixture, keyPair, specOf } from '../support/key-fixtures';
import { KEY_TYPES, type ImportableKeyType, type KeyTypeName } from '../../src/key-types';
import type { KnownMaterial } from '../../examples/key-proof';
import { findTerraform } from '../support/terraform';
import { wrappedKeysOf } from '../support/wrapped-keys';
import { WRAPPED_KEYS_FILE } from '../../src/wrapped-keys';

export const REPO = join(__dirname, '..', '..');
export const CDKTF_BIN = join(REPO, 'node_modules', '.bin', 'cdktf');
export const TERRAFORM = findTerraform();
export const REGION = 'nl-01';
export const ORGANISATION = 'org-e2e';

/** One key of the app: `props` are passed to `ImportedKmsKey` as they are (JSON-compatible ones only). */
export interface AppKey {
  readonly id: string;
  readonly name: string;
  readonly keyType: string;
  /** The material's file (`KeyMaterial.fromFile`), unless `pkcs11` is given. */
  readonly file?: string;
  /** A key in a PKCS#11 token instead (`KeyMaterial.fromPkcs11`): module, tokenLabel, pinEnv, keyLabel | keyId. */
  readonly pkcs11?: Record<string, string>;
  readonly props?: Record<string, unknown>;
}

/** What the app reads on every synth. `cdktf` and `library` are `require` specifiers. */
export interface AppConfig {
  readonly cdktf: string;
  readonly library: string;
  readonly stack: string;
  readonly wrappingKeyFile: string;
  readonly pin: string;
  readonly keys: readonly AppKey[];
  /** Props of an explicit `KeyOwner`, declared before the keys. */
  readonly keyOwner?: Record<string, unknown>;
  /**
   * Resources that use a key's name: each runs `thalassa-byok describe --name <key.name>` at create, which
   * fails unless the key exists by then.
   */
  readonly consumers?: readonly { readonly id: string; readonly keyId: string }[];
  /** A `LocalBackend` state path (relative: to the stack's folder), instead of the framework's default backend. */
  readonly localBackendPath?: string;
}

/** The app every end-to-end project runs: one stack, one ImportedKmsKey per configured key, and outputs. */
const APP_JS = `'use strict';
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const config = JSON.parse(readFileSync(join(__dirname, 'config.json'), 'utf8'));
const { App, DataResource, LocalBackend, TerraformStack, TerraformOutput } = require(config.cdktf);
const { ImportedKmsKey, KeyMaterial, KeyOwner, WrappingKey } = require(config.library);
const app = new App();
const stack = new TerraformStack(app, config.stack);
if (config.localBackendPath) new LocalBackend(stack, { path: config.localBackendPath });
if (config.keyOwner) new KeyOwner(stack, config.keyOwner);
const wrappingKey = WrappingKey.fromPemFile(config.wrappingKeyFile, { pin: config.pin });
const keys = {};
for (const k of config.keys) {
  const key = new ImportedKmsKey(stack, k.id, {
    region: '${REGION}', name: k.name, keyType: k.keyType, material: k.pkcs11 ? KeyMaterial.fromPkcs11(k.pkcs11) : KeyMaterial.fromFile(k.file), wrappingKey, ...(k.props || {}),
  });
  keys[k.id] = key;
  new TerraformOutput(stack, k.id + '-name', { value: key.name });
  new TerraformOutput(stack, k.id + '-fingerprint', { value: key.fingerprint });
}
for (const c of config.consumers || []) {
  new DataResource(stack, c.id, {
    input: { key: keys[c.keyId].name },
    provisioners: [{ type: 'local-exec', interpreter: [process.execPath, join(config.library, 'cli', 'main.js'), 'describe', '--region=${REGION}'], command: '--name=' + keys[c.keyId].name }],
  });
}
app.synth();
`;

export interface RunResult {
  readonly code: number;
  /** stdout and stderr, interleaved, without terminal escape sequences. */
  readonly output: string;
  readonly ms: number;
}

const ANSI_ESCAPE = new RegExp(`${String.fromCharCode(27)}\\[[0-9;?]*[A-Za-z]`, 'g');

/** Runs a program asynchronously; never rejects on a non-zero exit. */
export function runAsync(command: string, args: readonly string[], options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<RunResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => chunks.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 180_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), output: Buffer.concat(chunks).toString('utf8').replace(ANSI_ESCAPE, ''), ms: Date.now() - started });
    });
  });
}

/** The environment of a child process, without the `npm_*` variables of the `npm test` that runs jest. */
export function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('npm_') || k === 'npm_config_cache') env[k] = v;
  return { ...env, ...extra };
}

/** A cdktf project in a fresh temporary folder, outside this repository. */
export class E2eProject {
  public readonly dir: string;
  /** Every cdktf output this project produced, for the leak search. */
  public readonly outputs: string[] = [];
  /** Every wrapped blob a synth wrote, for the "no blob in state" search. */
  public readonly blobs = new Map<string, Buffer>();
  /** Every symmetric commitment a synth wrote: like blobs, they belong in the owner-only wrapped-keys file only. */
  public readonly commitments = new Set<string>();
  /** The framework CLI `cdktf()` runs: this repository's cdktf-cli, or e.g. `[node22, …/cdktn.js]`. */
  public cli: readonly string[] = [CDKTF_BIN];
  /** Extra environment for `cdktf()` (e.g. a PATH with another Node.js first). */
  public env: Record<string, string> = {};

  constructor(prefix: string, public readonly apiEnv: Record<string, string>, dir?: string) {
    this.dir = dir ?? mkdtempSync(join(tmpdir(), prefix));
    writeFileSync(join(this.dir, 'empty.tfrc'), '');
    writeFileSync(join(this.dir, 'cdktf.json'), JSON.stringify({
      language: 'javascript', app: `"${process.execPath}" app.js`, projectId: 'thalassa-byok-e2e', sendCrashReports: 'false',
      terraformProviders: [], terraformModules: [], context: {},
    }, null, 2));
    writeFileSync(join(this.dir, 'app.js'), APP_JS);
  }

  public writeConfig(config: AppConfig): void {
    writeFileSync(join(this.dir, 'config.json'), JSON.stringify(config, null, 2));
  }

  public stackDir(stack: string): string {
    return join(this.dir, 'cdktf.out', 'stacks', stack);
  }

  public stateFile(stack: string): string {
    return join(this.dir, `terraform.${stack}.tfstate`);
  }

  /** `cdktf <args>` with the emulator's credentials; records the output and the blobs the synth wrote. */
  public async cdktf(stack: string, ...args: string[]): Promise<RunResult> {
    const result = await runAsync(this.cli[0], [...this.cli.slice(1), ...args, '--no-color'], {
      cwd: this.dir,
      env: childEnv({
        ...this.apiEnv,
        ...this.env,
        CHECKPOINT_DISABLE: '1',
        TF_CLI_CONFIG_FILE: join(this.dir, 'empty.tfrc'),
        TF_IN_AUTOMATION: '1',
        FORCE_COLOR: '0',
        CI: '1',
      }),
    });
    this.outputs.push(result.output);
    // For a look after a failure (BYOK_E2E_KEEP=1 keeps the folder); outside cdktf.out, so not searched.
    writeFileSync(join(this.dir, `cdktf-${this.outputs.length}-${args[0]}.log`), result.output, { mode: 0o600 });
    if (existsSync(join(this.stackDir(stack), WRAPPED_KEYS_FILE))) {
      for (const { blob, commitment } of wrappedKeysOf(this.stackDir(stack)).values()) {
        this.blobs.set(Buffer.from(blob).toString('base64'), Buffer.from(blob));
        if (commitment !== undefined) this.commitments.add(commitment);
      }
    }
    return result;
  }

  /** The stack outputs of the last `deploy --outputs-file`. */
  public readOutputs(file: string, stack: string): Record<string, string> {
    return (JSON.parse(readFileSync(join(this.dir, file), 'utf8')) as Record<string, Record<string, string>>)[stack] ?? {};
  }

  public remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * The way a user gets the package: `npm pack` of this repository (dist/ was built by jest's globalSetup, so
 * --ignore-scripts skips prepack's second build), installed with `dependencies` (e.g. `cdktf@0.21.0`) into
 * `<scratch>/app`, outside this checkout. Returns the project folder.
 */
export async function installPackedProject(scratch: string, dependencies: readonly string[], node: string = process.execPath): Promise<string> {
  const npmEnv = childEnv({ PATH: `${dirname(node)}:${process.env.PATH ?? ''}` });
  const pack = await runAsync('npm', ['pack', '--ignore-scripts', '--json', `--pack-destination=${scratch}`], { cwd: REPO, env: npmEnv });
  if (pack.code !== 0) throw new Error(`npm pack failed:\n${pack.output}`);
  const tarball = join(scratch, (JSON.parse(pack.output.slice(pack.output.indexOf('['))) as { filename: string }[])[0].filename);
  const dir = join(scratch, 'app');
  mkdirSync(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'user-infra', version: '1.0.0', private: true }));
  const install = await runAsync('npm', [
    'install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', tarball, ...dependencies,
  ], { cwd: dir, env: npmEnv, timeoutMs: 240_000 });
  if (install.code !== 0) throw new Error(`npm install failed:\n${install.output}`);
  return dir;
}

/** Every package installed in `dir`'s node_modules, at any depth, with its versions (`npm ls --all --json`). */
export async function installedPackages(dir: string): Promise<Map<string, string[]>> {
  const ls = await runAsync('npm', ['ls', '--all', '--json'], { cwd: dir, env: childEnv({}) });
  interface Node { version?: string; dependencies?: Record<string, Node> }
  const found = new Map<string, string[]>();
  const walk = (deps: Record<string, Node> | undefined): void => {
    for (const [name, info] of Object.entries(deps ?? {})) {
      // A missing optional peer is listed as `{}`: not installed.
      if (info.version === undefined) continue;
      const versions = found.get(name) ?? [];
      if (!versions.includes(info.version)) versions.push(info.version);
      found.set(name, versions.sort());
      walk(info.dependencies);
    }
  };
  walk((JSON.parse(ls.output.slice(ls.output.indexOf('{'))) as Node).dependencies);
  return found;
}

/** Every regular file under `dir` (none if it does not exist). */
export function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

export function modeOf(path: string): number {
  return statSync(path).mode & 0o777;
}

/** Generated material for one key type: the file the app reads, the local copy, and what must never leak. */
export interface GeneratedMaterial {
  readonly keyType: KeyTypeName;
  readonly file: string;
  readonly known: KnownMaterial;
  /** The canonical bytes and, for asymmetric keys, the PEM document the file holds. */
  readonly secrets: (Buffer | string)[];
}

/** Writes generated material for `keyType` into `dir` (0600): raw bytes, or a PKCS#8 PEM private key. */
export async function generateMaterial(keyType: KeyTypeName, dir: string): Promise<GeneratedMaterial> {
  const fixture = await keyFixture(keyType);
  const file = join(dir, `${keyType}.key`);
  if (fixture.privateKey === undefined) {
    writeFileSync(file, fixture.canonical, { mode: 0o600 });
    return { keyType, file, known: { kind: 'symmetric', secret: fixture.canonical }, secrets: [fixture.canonical] };
  }
  const pem = fixture.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  writeFileSync(file, pem, { mode: 0o600 });
  return { keyType, file, known: { kind: 'asymmetric', privateKey: fixture.privateKey }, secrets: [fixture.canonical, pem] };
}

/** Every text the leak search covers: all files under the output folder, the state files, and the outputs. */
export function producedTexts(project: E2eProject, stack: string): { label: string; text: string }[] {
  const files = [
    ...listFiles(join(project.dir, 'cdktf.out')),
    ...readdirSync(project.dir).filter((f) => f.startsWith(`terraform.${stack}.tfstate`)).map((f) => join(project.dir, f)),
  ];
  return [
    ...files.map((f) => ({ label: f.slice(project.dir.length + 1), text: readFileSync(f).toString('latin1') })),
    ...project.outputs.map((text, i) => ({ label: `cdktf output #${i + 1}`, text })),
  ];
}

// ---- Additions for the deploy-level security tests (test/security/*.e2e.test.ts) ----

/** Like {@link generateMaterial}, but distinct material per `tag` (several keys of one type in one app). */
export async function generateDistinctMaterial(keyType: KeyTypeName, dir: string, tag: string): Promise<GeneratedMaterial> {
  const type = KEY_TYPES[keyType] as ImportableKeyType;
  const file = join(dir, `${keyType}-${tag}.key`);
  if (type.category === 'symmetric') {
    const raw = randomBytes(type.sizeBytes);
    writeFileSync(file, raw, { mode: 0o600 });
    return { keyType, file, known: { kind: 'symmetric', secret: raw }, secrets: [raw] };
  }
  const { privateKey } = await keyPair(`${specOf(type)}#${tag}`);
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  writeFileSync(file, pem, { mode: 0o600 });
  return { keyType, file, known: { kind: 'asymmetric', privateKey }, secrets: [privateKey.export({ format: 'der', type: 'pkcs8' }), pem] };
}

/** One running process: its pid and its argument list. */
export interface ProcessInfo {
  readonly pid: number;
  readonly argv: readonly string[];
}

/** Every process whose command line can be read right now (`/proc/<pid>/cmdline`), asynchronously. */
export async function listProcesses(): Promise<ProcessInfo[]> {
  const pids = (await readdir('/proc')).filter((e) => /^[0-9]+$/.test(e));
  const found = await Promise.all(pids.map(async (pid): Promise<ProcessInfo | undefined> => {
    try {
      const raw = await readFile(`/proc/${pid}/cmdline`);
      return raw.length === 0 ? undefined : { pid: Number(pid), argv: raw.toString('latin1').replace(/\0$/, '').split('\0') };
    } catch {
      return undefined; // gone meanwhile, or not ours to read
    }
  }));
  return found.filter((p): p is ProcessInfo => p !== undefined);
}

/** True for a `thalassa-byok import` run (`node …/dist/cli/apply-step.js import …`), as the provisioner starts it. */
export function isImportProcess(p: ProcessInfo): boolean {
  return p.argv.some((a) => a.endsWith('apply-step.js')) && p.argv.includes('import');
}

/**
 * Samples the command lines of all processes every `intervalMs` until stopped, asynchronously (the emulator
 * in this process keeps answering). Keeps each distinct command line once.
 */
export class CmdlineSampler {
  /** Distinct command lines seen, arguments joined by NUL. */
  public readonly seen = new Set<string>();
  public samples = 0;
  public importProcessesSeen = 0;
  #running = false;
  #loop: Promise<void> | undefined;

  public start(intervalMs = 20): void {
    this.#running = true;
    this.#loop = (async () => {
      while (this.#running) {
        for (const p of await listProcesses()) {
          const line = p.argv.join('\0');
          if (!this.seen.has(line) && isImportProcess(p)) this.importProcessesSeen++;
          this.seen.add(line);
        }
        this.samples++;
        await sleep(intervalMs);
      }
    })();
  }

  public async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
  }
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

/** The emulator as a child process (`thalassa-byok emulator`), so a test can SIGKILL it. */
export interface ChildEmulator {
  readonly url: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** Sends `signal` to this child only and waits for it to exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts `node dist/cli/main.js emulator --data-dir D --port P --log F --token-env … [--faults SPEC]` and waits for its URL. */
export async function startChildEmulator(options: { dataDir: string; port: number; logFile: string; token: string; faults?: string; timeoutMs?: number }): Promise<ChildEmulator> {
  // The token reaches the child through its environment, bound to ORGANISATION, never on its command line.
  const child = spawn(process.execPath, [
    join(REPO, 'dist', 'cli', 'main.js'), 'emulator', '--data-dir', options.dataDir, '--port', String(options.port), '--log', options.logFile,
    '--token-env', 'E2E_EMULATOR_TOKEN', ...(options.faults === undefined ? [] : ['--faults', options.faults]),
  ], { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv({ E2E_EMULATOR_TOKEN: `${options.token}@${ORGANISATION}` }) });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`emulator did not start within ${options.timeoutMs ?? 15_000} ms: ${err}`)), options.timeoutMs ?? 15_000);
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString('utf8');
      const line = /^(http:\/\/\S+)\n/m.exec(out);
      if (line) {
        clearTimeout(timer);
        resolve(line[1]);
      }
    });
    child.stderr!.on('data', (c: Buffer) => {
      err += c.toString('utf8');
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`emulator exited (${code ?? signal}) before listening: ${err}`));
    });
  });
  return {
    url,
    pid: child.pid!,
    child,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

/** Polls `condition` every `intervalMs` until it is true; throws after `timeoutMs`. */
export async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 60_000, intervalMs = 10): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}
