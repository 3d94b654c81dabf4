/**
 * `npm run demo`: the whole product on one machine, with nothing but this repository.
 *
 * 1. sample material in `.demo/material` (kept across runs, so fingerprints stay the same);
 * 2. the embedded emulator, with its data in `.demo/emulator`;
 * 3. the region's wrapping key fetched, saved and pinned;
 * 4. a real `cdktf deploy --auto-approve` of the example stack (the top-level cdktf.json);
 * 5. each key proven to hold the sample material: the emulator encrypts or signs, the result is decrypted or
 *    verified here with the local copy, and public keys are compared;
 * 6. the state, `cdktf.out` and the deploy log searched for the material and the wrapped blobs.
 *
 * Each run starts from scratch: the emulator's data and the example stack's Terraform state are removed
 * together first, because one without the other is inconsistent (state naming keys the emulator has never
 * seen, or keys the state no longer manages). Exits non-zero if any step fails. Prints no material, token or
 * wrapped blob.
 */
import { spawn } from 'node:child_process';
import { createPrivateKey, randomBytes, type KeyObject } from 'node:crypto';
import { appendFileSync, chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { KmsClient, type KmsKey } from '../src/api';
import { startEmulator, type RunningEmulator } from '../src/emulator';
import { FINGERPRINT_ANNOTATION } from '../src/material';
import { WrappingKey } from '../src/wrapping';
import { parseWrappedKeys, WRAPPED_KEYS_FILE } from '../src/wrapped-keys';
import { exampleConfig, MATERIAL_FILES, type ExampleConfig } from './config';
import { proveKeyHoldsMaterial, type KnownMaterial } from './key-proof';

/** The repository root: this file runs as `.demo/build/examples/demo.js`. */
const ROOT = join(__dirname, '..', '..', '..');
const DEMO_DIR = join(ROOT, '.demo');
const EMULATOR_DIR = join(DEMO_DIR, 'emulator');
const OUTPUTS_FILE = join(DEMO_DIR, 'outputs.json');
const DEPLOY_LOG = join(DEMO_DIR, 'deploy.log');
const EMULATOR_LOG = join(DEMO_DIR, 'emulator.log');
const ORGANISATION = 'demo-org';

interface DemoKey {
  /** The construct id and its TerraformOutput prefix in `examples/stack.ts`. */
  readonly id: 'symmetric' | 'ecdsa' | 'preWrapped';
  readonly how: string;
  readonly file: string;
}

const KEYS: readonly DemoKey[] = [
  { id: 'symmetric', how: 'KeyMaterial.fromFile (raw bytes)', file: MATERIAL_FILES.aes256 },
  { id: 'ecdsa', how: 'KeyMaterial.fromFile (PKCS#8 PEM)', file: MATERIAL_FILES.ecdsaP256 },
  { id: 'preWrapped', how: 'KeyMaterial.preWrapped (HSM blob)', file: MATERIAL_FILES.hsmChacha20 },
];

const say = (line = ''): void => void process.stdout.write(`${line}\n`);
const step = (n: number, text: string): void => say(`\n[${n}/6] ${text}`);
const rel = (path: string): string => relative(ROOT, path) || '.';

async function main(): Promise<number> {
  const started = Date.now();
  const config = exampleConfig({ ...process.env, BYOK_EXAMPLE_DIR: process.env.BYOK_EXAMPLE_DIR || join(DEMO_DIR, 'material') });
  const stackDir = join(ROOT, 'cdktf.out', 'stacks', config.stackName);
  const stateFile = join(ROOT, `terraform.${config.stackName}.tfstate`);

  say('cdktf-thalassa-byok demo: import bring-your-own-key material into a local Thalassa KMS emulator with cdktf.');
  step(1, 'Resetting the demo (emulator data and Terraform state go together) and preparing sample material');
  mkdirSync(DEMO_DIR, { recursive: true, mode: 0o700 });
  for (const path of [EMULATOR_DIR, stateFile, `${stateFile}.backup`, OUTPUTS_FILE, DEPLOY_LOG, EMULATOR_LOG, join(stackDir, 'byok')]) {
    rmSync(path, { recursive: true, force: true });
  }
  const material = await run(process.execPath, [join(__dirname, 'generate-material.js')], { ...process.env, BYOK_EXAMPLE_DIR: config.dir });
  if (material.code !== 0) throw new DemoFailure(`generating sample material failed (exit ${material.code}): ${material.output.trim()}`);
  for (const line of material.output.trim().split('\n')) say(`      ${line.replace(ROOT + '/', '')}`);

  step(2, 'Starting the embedded Thalassa KMS emulator');
  const token = randomBytes(24).toString('base64url');
  const emulator = await startEmulator({
    dataDir: EMULATOR_DIR,
    tokens: [{ token, organisation: ORGANISATION }],
    regions: [config.region],
    log: (line) => appendFileSync(EMULATOR_LOG, `${line}\n`, { mode: 0o600 }),
  });
  const apiEnv = { THALASSA_API_ENDPOINT: emulator.url, THALASSA_API_TOKEN: token, THALASSA_ORGANISATION: ORGANISATION };
  const client = KmsClient.fromEnvironment({ env: apiEnv });
  try {
    say(`      listening on ${emulator.url}, data in ${rel(EMULATOR_DIR)}, request log in ${rel(EMULATOR_LOG)}`);
    say(`      organisation ${ORGANISATION}, a random per-run API token (not shown)`);
    if (emulator.strict) say('      strict mode (THALASSA_EMULATOR_STRICT): answers leave out every field the real API may omit');
    return await deployAndProve(config, emulator, client, apiEnv, stackDir, stateFile, started);
  } finally {
    await client.close();
    await emulator.close();
  }
}

async function deployAndProve(
  config: ExampleConfig, emulator: RunningEmulator, client: KmsClient, apiEnv: Record<string, string>,
  stackDir: string, stateFile: string, started: number,
): Promise<number> {
  step(3, `Fetching, saving and pinning the wrapping key of ${config.region}`);
  const answer = await client.wrappingKey(config.region);
  const fetched = WrappingKey.fromApiResponse(answer);
  writeFileSync(config.wrappingKeyFile, fetched.pem, { mode: 0o644 });
  // What a user does once, after checking the fingerprint out of band: the app loads the file with this pin.
  const pin = fetched.fingerprint;
  WrappingKey.fromPemFile(config.wrappingKeyFile, { pin });
  say(`      RSA-${fetched.modulusBits} ${answer.algorithm ?? ''} saved to ${rel(config.wrappingKeyFile)}`);
  say(`      pinned as ${pin}`);

  step(4, `cdktf deploy --auto-approve of stack "${config.stackName}" (cdktf.json → examples/app.ts)`);
  const cdktfEnv: NodeJS.ProcessEnv = {
    ...process.env,
    ...apiEnv,
    BYOK_EXAMPLE_DIR: config.dir,
    BYOK_WRAPPING_KEY_FILE: config.wrappingKeyFile,
    BYOK_WRAPPING_KEY_PIN: pin,
    CHECKPOINT_DISABLE: '1',
    TF_IN_AUTOMATION: '1',
    FORCE_COLOR: '0',
  };
  // Terraform fails on a CLI config file that does not exist; the demo needs nothing from one.
  if (process.env.TF_CLI_CONFIG_FILE !== undefined && !existsSync(process.env.TF_CLI_CONFIG_FILE)) {
    const rc = join(DEMO_DIR, 'terraform.rc');
    writeFileSync(rc, '');
    cdktfEnv.TF_CLI_CONFIG_FILE = rc;
  }
  const terraform = await run('terraform', ['version'], cdktfEnv).catch(() => ({ code: 127, output: '' }));
  if (terraform.code !== 0) throw new DemoFailure('Terraform was not found on the PATH; install Terraform ≥ 1.4 (https://developer.hashicorp.com/terraform/install) and run the demo again.');
  say(`      ${terraform.output.split('\n')[0].trim()}, cdktf-cli from node_modules`);
  const cdktf = join(ROOT, 'node_modules', '.bin', 'cdktf');
  const deployStarted = Date.now();
  const deploy = await run(cdktf, ['deploy', '--auto-approve', '--no-color', `--outputs-file=${OUTPUTS_FILE}`], cdktfEnv, ROOT, progressLine);
  writeFileSync(DEPLOY_LOG, deploy.output, { mode: 0o600 });
  chmodSync(DEPLOY_LOG, 0o600);
  if (deploy.code !== 0) {
    say('      …last lines of the deploy output:');
    for (const line of deploy.output.split('\n').slice(-25)) say(`      | ${line}`);
    throw new DemoFailure(`cdktf deploy exited ${deploy.code}; the whole output is in ${rel(DEPLOY_LOG)}`);
  }
  say(`      deployed in ${((Date.now() - deployStarted) / 1000).toFixed(1)} s; output in ${rel(DEPLOY_LOG)}`);

  step(5, 'Proving each key holds the sample material (the emulator encrypts/signs, this process decrypts/verifies)');
  const outputs = (JSON.parse(readFileSync(OUTPUTS_FILE, 'utf8')) as Record<string, Record<string, string>>)[config.stackName] ?? {};
  const rows: { key: DemoKey; api: KmsKey; checks: string[] }[] = [];
  const secrets: Buffer[] = [];
  for (const key of KEYS) {
    const name = outputs[`${key.id}-name`] ?? outputs[`${key.id}_name`];
    const fingerprint = outputs[`${key.id}-fingerprint`] ?? outputs[`${key.id}_fingerprint`];
    if (name === undefined || fingerprint === undefined) throw new DemoFailure(`the stack outputs in ${rel(OUTPUTS_FILE)} have no name or fingerprint for "${key.id}"`);
    const api = await client.findKeyByName(config.region, name);
    if (api === undefined) throw new DemoFailure(`the emulator has no key named "${name}" after the deploy`);
    if (api.annotations?.[FINGERPRINT_ANNOTATION] !== fingerprint) throw new DemoFailure(`key "${name}" does not carry the fingerprint ${fingerprint} in its annotations`);
    const { known, canonical } = loadMaterial(join(config.dir, key.file));
    secrets.push(...canonical);
    const checks = ['fingerprint annotation = stack output', ...await proveKeyHoldsMaterial(client, config.region, api, known)];
    rows.push({ key, api, checks });
    say(`      ${key.id}: ${api.identity} "${api.name}" — ${checks.length} checks passed`);
  }

  step(6, 'Searching the Terraform state, cdktf.out and the deploy log for material and wrapped blobs');
  // byok/ holds the stack's wrapped-keys file (each key's blob, a symmetric key's commitment) and its manifest:
  // both owner-only.
  const applyFiles = listFiles(join(stackDir, 'byok'));
  for (const file of applyFiles) {
    const mode = statSync(file).mode & 0o777;
    if (mode !== 0o600) throw new DemoFailure(`${rel(file)} has mode ${mode.toString(8)}, expected 600`);
  }
  const blobFile = join(stackDir, WRAPPED_KEYS_FILE);
  const entries = [...parseWrappedKeys(readFileSync(blobFile)).values()];
  const blobs = entries.map((entry) => Buffer.from(entry.blob));
  const commitments = entries.flatMap((entry) => (entry.commitment === undefined ? [] : [entry.commitment.split(':')[1]]));
  if (!existsSync(stateFile)) throw new DemoFailure(`no Terraform state at ${rel(stateFile)}`);
  const searched = [stateFile, DEPLOY_LOG, OUTPUTS_FILE, ...listFiles(stackDir)];
  for (const file of searched) {
    const data = readFileSync(file);
    const materialHit = secrets.some((secret) => containsSecret(data, secret));
    if (materialHit) throw new DemoFailure(`${rel(file)} contains key material`);
    if (file === blobFile) continue;
    if (blobs.some((blob) => containsSecret(data, blob))) throw new DemoFailure(`${rel(file)} contains a wrapped blob`);
    if (commitments.some((c) => data.includes(c))) throw new DemoFailure(`${rel(file)} contains a symmetric key's commitment`);
  }
  say(`      ${searched.length} files searched (raw, hex, base64, base64url, PEM): no material; no wrapped blob or commitment outside the owner-only (0600) ${rel(blobFile)}, which holds the ${entries.length} keys' entries`);

  say('\nSummary');
  say(`  emulator      ${emulator.url} (stopped now; its data stays in ${rel(EMULATOR_DIR)})`);
  say(`  wrapping key  ${pin} (${rel(config.wrappingKeyFile)})`);
  for (const { key, api, checks } of rows) {
    say(`  ${key.id.padEnd(13)} ${api.keyType} via ${key.how}`);
    say(`                name ${api.name}, identity ${api.identity}, status ${api.status}, imported ${String(api.imported)}`);
    say(`                fingerprint ${api.annotations?.[FINGERPRINT_ANNOTATION] ?? '?'}`);
    for (const check of checks) say(`                ✓ ${check}`);
  }
  say(`  state         ${rel(stateFile)} — fingerprints and settings only: no material, no wrapped blob`);
  say(`  outputs       ${rel(OUTPUTS_FILE)}; synthesized stack in ${rel(stackDir)}; wrapped blobs (0600) in ${rel(join(stackDir, 'byok'))}`);
  say(`  deploy log    ${rel(DEPLOY_LOG)}`);
  say(`\nAll checks passed in ${((Date.now() - started) / 1000).toFixed(1)} s. Explore the keys again with:`);
  say(`  node .demo/build/src/cli/main.js emulator --data-dir ${rel(EMULATOR_DIR)}   # then, with THALASSA_API_ENDPOINT=<its URL>,`);
  say('  THALASSA_API_TOKEN=any THALASSA_ORGANISATION=demo-org node .demo/build/src/cli/main.js list --region nl-01');
  return 0;
}

/** The local copy of a key, and the byte forms of it that must never appear anywhere. */
function loadMaterial(file: string): { known: KnownMaterial; canonical: Buffer[] } {
  const data = readFileSync(file);
  if (!file.endsWith('.pem')) return { known: { kind: 'symmetric', secret: data }, canonical: [data] };
  const privateKey: KeyObject = createPrivateKey(data);
  const der = privateKey.export({ type: 'pkcs8', format: 'der' });
  // The private scalar alone too: it is what a careless encoding (JWK, raw) would show.
  const jwk = privateKey.export({ format: 'jwk' });
  const scalar = Buffer.from(jwk.d ?? '', 'base64url');
  return { known: { kind: 'asymmetric', privateKey }, canonical: [der, scalar] };
}

/** Whether `data` holds `secret` raw, as hex, or as base64/base64url at any alignment (16-byte windows). */
function containsSecret(data: Buffer, secret: Buffer): boolean {
  const text = data.toString('latin1');
  const lower = text.toLowerCase();
  const window = Math.min(16, secret.length);
  for (let i = 0; i + window <= secret.length; i++) {
    const piece = secret.subarray(i, i + window);
    if (data.includes(piece) || lower.includes(piece.toString('hex'))) return true;
  }
  for (let offset = 0; offset < 3; offset++) {
    const b64 = secret.subarray(offset).toString('base64');
    const whole = b64.slice(0, Math.floor((secret.length - offset) / 3) * 4);
    for (let i = 0; i + 24 <= whole.length; i += 4) {
      const piece = whole.slice(i, i + 24);
      if (text.includes(piece) || text.includes(piece.replace(/\+/g, '-').replace(/\//g, '_'))) return true;
    }
  }
  return false;
}

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

/** What cdktf prints that is worth a progress line: plan actions, the import CLI, and Terraform's verdicts. */
const PROGRESS = [
  /Synthesizing/, /# \S+ \(.+\) will be (created|destroyed|replaced)/, /must be replaced/, /\(local-exec\): (Importing|Imported|Adopted|Rotation of)/,
  /Creation complete after/, /Apply complete!/, /Error/, /Planning/,
];
let lastProgress = '';

function progressLine(raw: string): void {
  const line = raw.replace(/\s+/g, ' ').trim();
  if (!PROGRESS.some((re) => re.test(line))) return;
  let text = line
    .replace(/^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]\s*/, '')
    // cdktf prefixes each line with the stack name; Terraform marks plan entries with "# ".
    .replace(/^\S+\s+(?=terraform_data|# |Apply complete|Error)/, '')
    .replace(/^# /, '')
    .replace(/ \(local-exec\):/, ':');
  if (/Synthesizing/.test(text)) text = 'synthesizing: loading, checking, fingerprinting and wrapping the material…';
  if (text === lastProgress) return;
  lastProgress = text;
  say(`      · ${text.length > 150 ? `${text.slice(0, 147)}…` : text}`);
}

class DemoFailure extends Error {}

/** Terminal control sequences (colours, cursor moves) that cdktf writes even with --no-color. */
const ANSI_ESCAPE = new RegExp(`${String.fromCharCode(27)}\\[[0-9;?]*[A-Za-z]`, 'g');

interface RunResult {
  readonly code: number;
  readonly output: string;
}

/** Runs a program asynchronously (the emulator lives in this process and must keep answering). */
function run(command: string, args: string[], env: NodeJS.ProcessEnv, cwd = ROOT, onLine?: (line: string) => void): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let pending = '';
    const take = (chunk: Buffer): void => {
      chunks.push(chunk);
      if (onLine === undefined) return;
      // cdktf redraws its status with escape sequences and carriage returns; split on both.
      pending += chunk.toString('utf8').replace(ANSI_ESCAPE, '\n');
      const lines = pending.split(/[\r\n]/);
      pending = lines.pop() ?? '';
      lines.forEach(onLine);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (onLine !== undefined && pending !== '') onLine(pending);
      resolve({ code: code ?? (signal ? 128 : 1), output: Buffer.concat(chunks).toString('utf8').replace(ANSI_ESCAPE, '') });
    });
  });
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    // Errors here come from this package, cdktf or the file system; none carries material.
    say(`\nDEMO FAILED: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
