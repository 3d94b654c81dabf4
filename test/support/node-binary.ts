/**
 * A Node.js of at least a given version for a test that spawns one (cdktn-cli needs ≥ 22.19): the Node running
 * the test when it is new enough (under `node test/support/on-node.mjs 22`), else that major's official build,
 * which on-node.mjs installs from the npm registry into the user's cache on first use.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export function nodeAtLeast(major: number, minor: number): string {
  const [runningMajor, runningMinor] = process.versions.node.split('.').map(Number);
  if (runningMajor > major || (runningMajor === major && runningMinor >= minor)) return process.execPath;
  const installer = join(__dirname, 'on-node.mjs');
  const binary = execFileSync(process.execPath, [installer, '--binary', String(major)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 300_000 }).trim();
  const version = execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim();
  const [, gotMajor, gotMinor] = /^v(\d+)\.(\d+)/.exec(version)?.map(Number) ?? [];
  if (gotMajor !== major || gotMinor < minor) throw new Error(`${binary} is ${version}, not ${major}.${minor} or later of ${major}.x: remove it so that on-node.mjs installs the current ${major}.x.`);
  return binary;
}
