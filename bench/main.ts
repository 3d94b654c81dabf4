/**
 * `npm run bench`: synth, import and deploy of cdktf-thalassa-byok, each as a ratio against its floor, with
 * subject and baseline interleaved in one run. Prints a markdown table and writes it to bench/RESULTS.md.
 * Method and how to read the ratios: bench/README.md.
 *
 * Environment: BENCH_QUICK=1 runs every part with small counts (a smoke test of the harness, not figures);
 * BENCH_ONLY=synth,growth,import,deploy,manual runs a subset (RESULTS.md is then not written; synth includes growth).
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createPrivateKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type * as Library from '../src';
import { APPLY_STEP, CLI, MATERIAL, PKG, ROOT, type StackSpec } from './apps';
import { interleavedOrder, ratio, renderGrowth, renderTable, summarize, type Comparison, type Growth } from './stats';

const QUICK = process.env.BENCH_QUICK === '1';
const ONLY = new Set((process.env.BENCH_ONLY ?? 'synth,import,deploy,manual').split(',').map((s) => s.trim()));
const WORK = join(ROOT, 'bench', '.work');
const CODE_CACHE_HOME = join(WORK, 'cache');
const BUILD = join(WORK, 'build', 'bench');
const MATERIAL_DIR = join(WORK, 'material');
const TOKEN = 'bench-token';
const ORG = 'bench-org';

const RUNS = {
  synth: QUICK ? 1 : 5,
  // With validations on, cdktf runs `terraform version` once per terraform_data: 1–1.5 min per synth at
  // N = 1000 on 2 busy cores, so 2 runs there (3 at the small N) keep the whole bench under 15 minutes.
  synthValidated: (n: number): number => (QUICK ? 1 : n >= 1000 ? 2 : 3),
  synthN: QUICK ? [10, 50] : [100, 1000],
  import: QUICK ? 3 : 15,
  // Growth of a validated synth of keys from the first N to the second, for each lifecycle resource type.
  growthN: QUICK ? [50, 200] : [1000, 4000],
  growth: QUICK ? 1 : 3,
  deploy: QUICK ? 1 : 3,
  deployN: QUICK ? 5 : 50,
};

/** The package, loaded from its private build once `buildPackage()` has run. */
let lib: typeof Library;

/** Compiles this checkout's src/ into bench/.work/pkg/dist, the copy every benchmark uses. */
function buildPackage(): void {
  rmSync(PKG, { recursive: true, force: true });
  mkdirSync(PKG, { recursive: true });
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', join(PKG, 'dist'), '--declaration', 'false'], { cwd: ROOT, stdio: 'inherit' });
  writeFileSync(join(PKG, 'package.json'), readFileSync(join(ROOT, 'package.json')));
  execFileSync(process.execPath, [join(ROOT, 'bundle.mjs'), join(PKG, 'dist')], { cwd: ROOT, stdio: 'inherit' });
  // The apply step's code cache: the bench's own, empty at the start, not the user's.
  rmSync(CODE_CACHE_HOME, { recursive: true, force: true });
  mkdirSync(CODE_CACHE_HOME, { recursive: true, mode: 0o700 });
  process.env.XDG_CACHE_HOME = CODE_CACHE_HOME;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  lib = require(join(PKG, 'dist')) as typeof Library;
}

function log(line: string): void {
  process.stderr.write(`[bench ${(performance.now() / 1000).toFixed(0).padStart(4)} s] ${line}\n`);
}

/** Runs `file args` and returns its wall time in ms; throws with the tail of its output if it fails. */
function timed(file: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): { ms: number; stdout: string } {
  const started = performance.now();
  const result = spawnSync(file, args, { env: options.env ?? process.env, cwd: options.cwd, encoding: 'utf8', maxBuffer: 1 << 26 });
  const ms = performance.now() - started;
  if (result.status !== 0) {
    throw new Error(`${file} ${args.slice(0, 3).join(' ')}… failed (${result.status ?? result.signal}):\n${(result.stdout + result.stderr).slice(-3000)}`);
  }
  return { ms, stdout: result.stdout };
}

// ---------------------------------------------------------------------------------------------- environment

interface Machine {
  readonly nproc: number;
  readonly cpu: string;
  readonly node: string;
  readonly terraform: string;
  readonly cdktf: string;
  readonly openssl: string;
  readonly curl: string;
}

function machine(): Machine {
  const terraform = (() => {
    try {
      return (JSON.parse(execFileSync('terraform', ['version', '-json'], { env: tfEnv(), encoding: 'utf8' })) as { terraform_version: string }).terraform_version;
    } catch {
      return 'not found';
    }
  })();
  const first = (cmd: string, args: string[]): string => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8' }).split('\n')[0].trim();
    } catch {
      return 'not found';
    }
  };
  return {
    nproc: cpus().length,
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    node: process.version,
    terraform,
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    cdktf: (require('cdktf/package.json') as { version: string }).version,
    openssl: first('openssl', ['version']),
    curl: first('curl', ['--version']).split(' ').slice(0, 2).join(' '),
  };
}

/** Terraform and cdktf without network chatter: no checkpoint calls, an empty CLI configuration. */
function tfEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const config = join(WORK, 'empty.tfrc');
  if (!existsSync(config)) {
    mkdirSync(WORK, { recursive: true });
    writeFileSync(config, '');
  }
  return { ...process.env, CHECKPOINT_DISABLE: '1', TF_CLI_CONFIG_FILE: config, CDKTF_DISABLE_PLUGIN_CACHE_ENV: '1', ...extra };
}

// ---------------------------------------------------------------------------------------------- material

/** One material file per importable type, generated once and reused (RSA-4096 takes seconds). */
function ensureMaterial(): void {
  mkdirSync(MATERIAL_DIR, { recursive: true, mode: 0o700 });
  const pem = (type: 'rsa' | 'ec' | 'ed25519', options: object): string =>
    (generateKeyPairSync(type as 'rsa', options as never).privateKey as unknown as { export(o: object): string }).export({ type: 'pkcs8', format: 'pem' });
  const make: Record<string, () => Buffer | string> = {
    'aes256-gcm96.key': () => randomBytes(32),
    'aes128-gcm96.key': () => randomBytes(16),
    'chacha20-poly1305.key': () => randomBytes(32),
    'rsa-2048.pem': () => pem('rsa', { modulusLength: 2048 }),
    'rsa-3072.pem': () => pem('rsa', { modulusLength: 3072 }),
    'rsa-4096.pem': () => pem('rsa', { modulusLength: 4096 }),
    'ecdsa-p256.pem': () => pem('ec', { namedCurve: 'prime256v1' }),
    'ecdsa-p384.pem': () => pem('ec', { namedCurve: 'secp384r1' }),
    'ecdsa-p521.pem': () => pem('ec', { namedCurve: 'secp521r1' }),
    'ed25519.pem': () => pem('ed25519', {}),
  };
  for (const m of MATERIAL) {
    const path = join(MATERIAL_DIR, m.file);
    if (!existsSync(path)) writeFileSync(path, make[m.file](), { mode: 0o600 });
    // The manual path's openssl takes canonical bytes: raw for symmetric keys, PKCS#8 DER for the others.
    const der = join(MATERIAL_DIR, `${m.keyType}.material`);
    if (!existsSync(der)) {
      const bytes = m.file.endsWith('.pem') ? createPrivateKey(readFileSync(path)).export({ type: 'pkcs8', format: 'der' }) : readFileSync(path);
      writeFileSync(der, bytes, { mode: 0o600 });
    }
  }
  // Synth needs only a public RSA-4096 wrapping key; deploys use the emulator's.
  const wk = join(MATERIAL_DIR, 'synth-wrapping-key.pem');
  if (!existsSync(wk)) writeFileSync(wk, generateKeyPairSync('rsa', { modulusLength: 4096 }).publicKey.export({ type: 'spki', format: 'pem' }));
}

// ---------------------------------------------------------------------------------------------- synth

interface SynthSample {
  readonly wallMs: number;
  readonly inProcessMs: number;
  readonly maxRssMiB: number;
}

type SynthMode = 'validated' | 'skip-validation';

function synthOnce(spec: StackSpec, mode: SynthMode, outdir: string): SynthSample {
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(dirname(outdir), { recursive: true });
  const { ms, stdout } = timed(process.execPath, [join(BUILD, 'synth-child.js')], {
    env: tfEnv({ BENCH_SPEC: JSON.stringify(spec), BENCH_OUTDIR: outdir, BENCH_SKIP_VALIDATION: mode === 'skip-validation' ? '1' : '0' }),
  });
  const report = JSON.parse(stdout.trim().split('\n').pop() as string) as { inProcessMs: number; maxRssKiB: number };
  rmSync(outdir, { recursive: true, force: true });
  return { wallMs: ms, inProcessMs: report.inProcessMs, maxRssMiB: report.maxRssKiB / 1024 };
}

function benchSynth(comparisons: Comparison[], growths: Growth[]): void {
  const wk = join(MATERIAL_DIR, 'synth-wrapping-key.pem');
  const pin = lib.WrappingKey.fromPemFile(wk).fingerprint;
  const results: Record<string, SynthSample[]> = {};
  const key = (variant: string, mode: SynthMode, n: number) => `${variant}/${mode}/${n}`;
  for (const mode of ['skip-validation', 'validated'] as const) {
    for (const n of RUNS.synthN) {
      const specs = (['keys', 'bare'] as const).map((variant): StackSpec => ({ variant, n, materialDir: MATERIAL_DIR, wrappingKeyFile: wk, wrappingKeyPin: pin, namePrefix: 'synth' }));
      // One unmeasured warm-up of each (first N only), so no measured run pays for a cold file cache.
      if (mode === 'skip-validation' && n === RUNS.synthN[0]) for (const spec of specs) synthOnce(spec, mode, join(WORK, 'synth', `warmup-${spec.variant}`));
      for (const round of interleavedOrder(specs, mode === 'validated' ? RUNS.synthValidated(n) : RUNS.synth)) {
        for (const spec of round) {
          const sample = synthOnce(spec, mode, join(WORK, 'synth', `${spec.variant}-${n}`));
          (results[key(spec.variant, mode, n)] ??= []).push(sample);
          log(`synth ${mode} ${spec.variant} N=${n}: ${Math.round(sample.wallMs)} ms, ${sample.maxRssMiB.toFixed(0)} MiB`);
        }
      }
    }
  }
  const pick = (variant: string, mode: SynthMode, n: number, f: (s: SynthSample) => number) => summarize(results[key(variant, mode, n)].map(f));
  const large = RUNS.synthN[RUNS.synthN.length - 1];
  for (const n of RUNS.synthN) {
    const target = n === large;
    comparisons.push(
      { name: 'synth (`app.synth()`, validations on, as `cdktf synth`): process wall time', n: String(n), unit: 'ms', subjectLabel: `${n} ImportedKmsKey`,
        subject: pick('keys', 'validated', n, (s) => s.wallMs), baselineLabel: `${n} bare cdktf DataResource`, baseline: pick('bare', 'validated', n, (s) => s.wallMs), target: target ? 0.2 : undefined },
      // The keys check the Terraform version once per stack; bare DataResources once each. Against the bare ones
      // with no checks at all, what remains is the construct's own work plus one check.
      { name: 'synth, keys with validations on vs bare with validations skipped: process wall time', n: String(n), unit: 'ms', subjectLabel: `${n} ImportedKmsKey, validated`,
        subject: pick('keys', 'validated', n, (s) => s.wallMs), baselineLabel: 'bare, validations skipped', baseline: pick('bare', 'skip-validation', n, (s) => s.wallMs), target: target ? 1.5 : undefined },
      { name: 'synth (validations on): peak RSS', n: String(n), unit: 'MiB', subjectLabel: 'keys', subject: pick('keys', 'validated', n, (s) => s.maxRssMiB),
        baselineLabel: 'bare', baseline: pick('bare', 'validated', n, (s) => s.maxRssMiB), target: target ? 1.2 : undefined },
    );
  }
  for (const n of RUNS.synthN) {
    comparisons.push(
      { name: 'synth, validations skipped (the construct\'s own work): process wall time', n: String(n), unit: 'ms', subjectLabel: 'keys', subject: pick('keys', 'skip-validation', n, (s) => s.wallMs),
        baselineLabel: 'bare', baseline: pick('bare', 'skip-validation', n, (s) => s.wallMs), target: n === large ? 2.0 : undefined },
      { name: 'synth, validations skipped: in-process (build app + `app.synth()`)', n: String(n), unit: 'ms', subjectLabel: 'keys', subject: pick('keys', 'skip-validation', n, (s) => s.inProcessMs),
        baselineLabel: 'bare', baseline: pick('bare', 'skip-validation', n, (s) => s.inProcessMs) },
      { name: 'synth, validations skipped: peak RSS', n: String(n), unit: 'MiB', subjectLabel: 'keys', subject: pick('keys', 'skip-validation', n, (s) => s.maxRssMiB),
        baselineLabel: 'bare', baseline: pick('bare', 'skip-validation', n, (s) => s.maxRssMiB) },
    );
  }
  const small = RUNS.synthN[0];
  for (const mode of ['validated', 'skip-validation'] as const) {
    for (const variant of ['keys', 'bare'] as const) {
      growths.push({ name: `synth process wall time, ${mode === 'validated' ? 'validations on' : 'validations skipped'}, ${variant === 'keys' ? 'ImportedKmsKey' : 'bare terraform_data'}`,
        smallN: small, largeN: large, small: pick(variant, mode, small, (s) => s.wallMs), large: pick(variant, mode, large, (s) => s.wallMs), unit: 'ms' });
    }
  }
}

/**
 * How a validated synth of keys grows from the first N to the second (4×), for both lifecycle resource types:
 * the subject is the larger synth, the baseline the smaller, so the ratio is the growth. Linear is 4×; the
 * null_resource adapter once walked the stack per key, which made it quadratic.
 */
function benchGrowth(comparisons: Comparison[]): void {
  const wk = join(MATERIAL_DIR, 'synth-wrapping-key.pem');
  const pin = lib.WrappingKey.fromPemFile(wk).fingerprint;
  const [small, large] = RUNS.growthN;
  for (const lifecycleResource of ['terraform_data', 'null_resource'] as const) {
    const specs = RUNS.growthN.map((n): StackSpec => ({ variant: 'keys', n, materialDir: MATERIAL_DIR, wrappingKeyFile: wk, wrappingKeyPin: pin, namePrefix: 'growth', lifecycleResource }));
    const samples = new Map<number, number[]>();
    for (const round of interleavedOrder(specs, RUNS.growth)) {
      for (const spec of round) {
        const sample = synthOnce(spec, 'validated', join(WORK, 'synth', `growth-${lifecycleResource}-${spec.n}`));
        samples.set(spec.n, [...(samples.get(spec.n) ?? []), sample.wallMs]);
        log(`synth growth ${lifecycleResource} N=${spec.n}: ${Math.round(sample.wallMs)} ms`);
      }
    }
    comparisons.push({ name: `synth growth, validations on, ImportedKmsKey on ${lifecycleResource}: process wall time`, n: `${small} → ${large}`, unit: 'ms',
      subjectLabel: `${large} keys`, subject: summarize(samples.get(large) as number[]), baselineLabel: `${small} keys`, baseline: summarize(samples.get(small) as number[]), target: (large / small) * 1.1 });
  }
}

// ---------------------------------------------------------------------------------------------- emulator

interface Emulator {
  readonly url: string;
  readonly env: NodeJS.ProcessEnv;
  readonly wrappingKeyFile: string;
  readonly pin: string;
  stop(): Promise<void>;
}

/** `thalassa-byok emulator --port 0` in its own process; resolves with its URL and the region's wrapping key. */
async function startEmulator(name: string): Promise<Emulator> {
  const child: ChildProcess = spawn(process.execPath, [CLI, 'emulator', '--port', '0', '--token', `${TOKEN}@${ORG}`], { stdio: ['ignore', 'pipe', 'ignore'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split('\n').find((l) => l.startsWith('http://'));
      if (line) resolve(line.trim());
    });
    child.once('exit', (code) => reject(new Error(`the emulator exited (${code}) before printing its URL`)));
  });
  const env = { ...process.env, THALASSA_API_ENDPOINT: url, THALASSA_API_TOKEN: TOKEN, THALASSA_ORGANISATION: ORG };
  const wrappingKeyFile = join(WORK, `${name}-wrapping-key.pem`);
  rmSync(wrappingKeyFile, { force: true });
  timed(process.execPath, [CLI, 'wrapping-key', '--region', 'nl-01', '--out', wrappingKeyFile], { env });
  const pin = lib.WrappingKey.fromPemFile(wrappingKeyFile).fingerprint;
  return {
    url, env, wrappingKeyFile, pin,
    stop: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    }),
  };
}

// ---------------------------------------------------------------------------------------------- import

async function benchImport(comparisons: Comparison[]): Promise<void> {
  const emulator = await startEmulator('import');
  try {
    const material = lib.KeyMaterial.fromFile(join(MATERIAL_DIR, 'aes256-gcm96.key')).load('aes256-gcm96');
    const blobFile = join(WORK, 'import.wrapped');
    let fingerprint: string;
    try {
      writeFileSync(blobFile, lib.wrap(material, lib.WrappingKey.fromPemFile(emulator.wrappingKeyFile, { pin: emulator.pin })).toString('base64'), { mode: 0o600 });
      fingerprint = material.fingerprint;
    } finally {
      material.destroy();
    }
    // What a provisioner runs (the apply-step bundle, its code cache warm after the first run), the same
    // without the cache, the full CLI's import, and the floor.
    const variants = ['apply-step', 'no-cache', 'full-cli', 'floor'] as const;
    const samples = Object.fromEntries(variants.map((v) => [v, [] as number[]])) as Record<(typeof variants)[number], number[]>;
    const importArgs = (i: number) => ['import', '--region=nl-01', `--name=import-${i}`, '--key-type=aes256-gcm96', `--wrapped-file=${blobFile}`, `--fingerprint=${fingerprint}`];
    let names = 0;
    const run = (variant: (typeof variants)[number]): number => {
      if (variant === 'floor') return timed(process.execPath, ['-e', '0']).ms;
      const script = variant === 'full-cli' ? CLI : APPLY_STEP;
      const env = variant === 'no-cache' ? { ...emulator.env, NODE_DISABLE_COMPILE_CACHE: '1' } : emulator.env;
      return timed(process.execPath, [script, ...importArgs(++names)], { env }).ms;
    };
    run('apply-step'); // warm-up: the first run pays for a cold file cache and writes the code cache
    run('full-cli');
    for (const round of interleavedOrder(variants, RUNS.import)) {
      for (const variant of round) samples[variant].push(run(variant));
    }
    log(`import: apply step ${summarize(samples['apply-step']).median.toFixed(0)} ms, no cache ${summarize(samples['no-cache']).median.toFixed(0)} ms, ` +
      `full CLI ${summarize(samples['full-cli']).median.toFixed(0)} ms, floor ${summarize(samples.floor).median.toFixed(0)} ms`);
    const floor = { baselineLabel: '`node -e 0`', baseline: summarize(samples.floor) };
    comparisons.push(
      { name: 'import: one `thalassa-byok import` process, as the provisioners run it (apply-step bundle, code cache warm)', n: '1', unit: 'ms',
        subjectLabel: 'import (emulator, loopback)', subject: summarize(samples['apply-step']), ...floor, target: 1.5 },
      { name: 'import: the apply step without its code cache (first run, or NODE_DISABLE_COMPILE_CACHE)', n: '1', unit: 'ms',
        subjectLabel: 'import, no code cache', subject: summarize(samples['no-cache']), ...floor },
      { name: 'import: the full CLI (`thalassa-byok import`, module by module)', n: '1', unit: 'ms',
        subjectLabel: 'import, dist/cli/main.js', subject: summarize(samples['full-cli']), ...floor },
    );
  } finally {
    await emulator.stop();
  }
}

// ---------------------------------------------------------------------------------------------- deploy

/** A fresh cdktf project under bench/.work whose app is deploy-app.js with `spec`; returns its folder. */
function deployProject(name: string, spec: StackSpec): string {
  const dir = join(WORK, 'deploy', name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'cdktf.json'), JSON.stringify({
    language: 'typescript',
    app: `${JSON.stringify(process.execPath)} ${JSON.stringify(join(BUILD, 'deploy-app.js'))}`,
    projectId: `bench-${name}`,
    sendCrashReports: 'false',
    terraformProviders: [],
    terraformModules: [],
    context: {},
  }, null, 2));
  writeFileSync(join(dir, 'spec.json'), JSON.stringify(spec));
  return dir;
}

const CDKTF = join(ROOT, 'node_modules', '.bin', 'cdktf');

function deployOnce(dir: string, env: NodeJS.ProcessEnv): number {
  const spec = readFileSync(join(dir, 'spec.json'), 'utf8');
  const { ms } = timed(CDKTF, ['deploy', '--auto-approve'], { cwd: dir, env: tfEnv({ ...env, BENCH_SPEC: spec, CI: '1', FORCE_COLOR: '0' }) });
  return ms;
}

/** The seed's manual path: per key, openssl wraps (rand + enc -id-aes256-wrap-pad + pkeyutl OAEP) and curl POSTs. */
function manualScript(dir: string, emulator: Emulator, n: number, prefix: string): string {
  const script = join(dir, 'manual.sh');
  const types = MATERIAL.map((m) => m.keyType).join(' ');
  writeFileSync(script, `#!/bin/bash
set -euo pipefail
cd ${JSON.stringify(dir)}
types=(${types})
for i in $(seq 0 ${n - 1}); do
  t=\${types[$((i % \${#types[@]}))]}
  openssl rand -out eph.bin 32
  openssl enc -id-aes256-wrap-pad -K "$(od -An -tx1 -v eph.bin | tr -d ' \\n')" -iv A65959A6 -in ${JSON.stringify(MATERIAL_DIR)}/"$t".material -out kwp.bin
  openssl pkeyutl -encrypt -pubin -inkey ${JSON.stringify(emulator.wrappingKeyFile)} -in eph.bin -out oaep.bin \\
    -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256
  printf '{"name":"%s-%d","keyType":"%s","hashFunction":"sha256","importKeyMaterial":"%s"}' ${prefix} "$i" "$t" "$(cat oaep.bin kwp.bin | base64 -w0)" > body.json
  curl -sS --fail -o /dev/null -X POST -H "Authorization: Token $THALASSA_API_TOKEN" -H "X-Organisation-Identity: $THALASSA_ORGANISATION" \\
    -H 'Content-Type: application/json' --data-binary @body.json "$THALASSA_API_ENDPOINT/v1/kms/nl-01/keys"
done
rm -f eph.bin kwp.bin oaep.bin body.json
`, { mode: 0o700 });
  return script;
}

async function benchDeploy(comparisons: Comparison[]): Promise<void> {
  const emulator = await startEmulator('deploy');
  try {
    const n = RUNS.deployN;
    type Variant = 'keys' | 'bare' | 'node' | 'manual';
    const samples: Record<Variant, number[]> = { keys: [], bare: [], node: [], manual: [] };
    const variants: Variant[] = [
      ...(ONLY.has('deploy') ? ['keys', 'bare', 'node'] as const : ['keys'] as const),
      ...(ONLY.has('manual') ? ['manual'] as const : []),
    ];
    interleavedOrder(variants, RUNS.deploy).forEach((round, r) => {
      for (const variant of round) {
        const prefix = `d${process.pid}-${r}-${variant}`;
        let ms: number;
        if (variant === 'manual') {
          const dir = join(WORK, 'deploy', `manual-${r}`);
          rmSync(dir, { recursive: true, force: true });
          mkdirSync(dir, { recursive: true, mode: 0o700 });
          ms = timed('bash', [manualScript(dir, emulator, n, prefix)], { env: emulator.env }).ms;
        } else {
          const spec: StackSpec = {
            variant: variant === 'keys' ? 'keys' : 'bare', n, materialDir: MATERIAL_DIR, wrappingKeyFile: emulator.wrappingKeyFile, wrappingKeyPin: emulator.pin,
            namePrefix: prefix, bareCommand: variant === 'keys' ? undefined : variant === 'node' ? 'node' : 'true',
          };
          ms = deployOnce(deployProject(`${variant}-${r}`, spec), emulator.env);
        }
        samples[variant].push(ms);
        log(`deploy ${variant} N=${n} run ${r + 1}: ${(ms / 1000).toFixed(1)} s`);
      }
    });
    const keys = await countKeys(emulator);
    const expected = n * RUNS.deploy * variants.filter((v) => v === 'keys' || v === 'manual').length;
    if (keys !== expected) throw new Error(`the emulator holds ${keys} keys after the deploys, expected ${expected}`);
    const seconds = (xs: number[]) => summarize(xs.map((x) => x / 1000));
    if (ONLY.has('deploy')) {
      comparisons.push({ name: '`cdktf deploy` (synth + init + apply)', n: String(n), unit: 's', subjectLabel: `${n} ImportedKmsKey`, subject: seconds(samples.keys),
        baselineLabel: `${n} terraform_data running \`true\``, baseline: seconds(samples.bare), target: 1.3 });
      comparisons.push({ name: '`cdktf deploy`, against one Node.js process per key', n: String(n), unit: 's', subjectLabel: `${n} ImportedKmsKey`, subject: seconds(samples.keys),
        baselineLabel: `${n} terraform_data running \`node -e 0\``, baseline: seconds(samples.node), target: 1.15 });
      comparisons.push({ name: '`cdktf deploy`: the floor of one Node.js process per key', n: String(n), unit: 's', subjectLabel: '`node -e 0` per key', subject: seconds(samples.node),
        baselineLabel: '`true` per key', baseline: seconds(samples.bare) });
    }
    if (ONLY.has('manual')) {
      comparisons.push({ name: 'ours vs the manual path', n: String(n), unit: 's', subjectLabel: `\`cdktf deploy\` of ${n} ImportedKmsKey`, subject: seconds(samples.keys),
        baselineLabel: 'shell loop: openssl wrap + curl POST, sequential', baseline: seconds(samples.manual) });
    }
  } finally {
    await emulator.stop();
  }
}

/** How many keys the emulator holds: every deploy must really have imported its keys. */
async function countKeys(emulator: Emulator): Promise<number> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { KmsClient } = require(join(PKG, 'dist', 'api')) as typeof import('../src/api');
  const client = KmsClient.fromEnvironment({ env: emulator.env });
  try {
    return (await client.listKeys('nl-01')).length;
  } finally {
    await client.close();
  }
}

// ---------------------------------------------------------------------------------------------- report

function report(m: Machine, comparisons: readonly Comparison[], growths: readonly Growth[], started: Date, totalS: number, load: [number[], number[]]): string {
  const missed = comparisons.filter((c) => c.target !== undefined && ratio(c.subject, c.baseline) > c.target);
  return `# Benchmark results

Generated by \`npm run bench\` on ${started.toISOString()}${QUICK ? ' (**BENCH_QUICK**: smoke-test counts, not figures)' : ''}.
Method and how to read the ratios: [README.md](README.md).

**Machine:** ${m.nproc} × ${m.cpu} · Node ${m.node} · Terraform ${m.terraform} · cdktf ${m.cdktf} · ${m.openssl} · ${m.curl}
**Load average** (1/5/15 min) at start ${load[0].map((x) => x.toFixed(2)).join(' / ')}, at end ${load[1].map((x) => x.toFixed(2)).join(' / ')} (other work on the machine shows here; ratios are measured interleaved so they hold better than absolute times).
**Total bench time:** ${(totalS / 60).toFixed(1)} min.

Ratio = subject median / baseline median. Each cell: median (min–max) over the runs given.

${renderTable(comparisons)}

${growths.length === 0 ? '' : `How synth time grows from N = ${RUNS.synthN[0]} to N = ${RUNS.synthN[1]} (medians):\n\n${renderGrowth(growths)}\n`}
${missed.length === 0 ? 'All targets met.' : `Targets missed: ${missed.map((c) => `${c.name} at N = ${c.n}`).join('; ')}. See README.md, "What limits the missed targets".`}
`;
}

async function main(): Promise<void> {
  const started = new Date();
  const t0 = performance.now();
  const load0 = loadavg();
  mkdirSync(WORK, { recursive: true });
  buildPackage();
  const m = machine();
  log(`${m.nproc} × ${m.cpu}, Node ${m.node}, Terraform ${m.terraform}, cdktf ${m.cdktf}${QUICK ? ' (quick)' : ''}`);
  ensureMaterial();
  const comparisons: Comparison[] = [];
  const growths: Growth[] = [];
  if (ONLY.has('synth')) benchSynth(comparisons, growths);
  if (ONLY.has('synth') || ONLY.has('growth')) benchGrowth(comparisons);
  if (ONLY.has('import')) await benchImport(comparisons);
  if (ONLY.has('deploy') || ONLY.has('manual')) await benchDeploy(comparisons);
  const text = report(m, comparisons, growths.length > 0 ? growths : [], started, (performance.now() - t0) / 1000, [load0, loadavg()]);
  process.stdout.write(text);
  writeFileSync(join(WORK, 'comparisons.json'), JSON.stringify({ machine: m, comparisons, growths }, null, 2));
  if (process.env.BENCH_ONLY === undefined && !QUICK) {
    writeFileSync(join(ROOT, 'bench', 'RESULTS.md'), text);
    log('wrote bench/RESULTS.md');
  } else {
    writeFileSync(join(WORK, 'RESULTS.partial.md'), text);
    log('partial or quick run: wrote bench/.work/RESULTS.partial.md (bench/RESULTS.md untouched)');
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exitCode = 1;
});
