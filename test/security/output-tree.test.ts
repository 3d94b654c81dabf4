/**
 * Issue #11, the output tree: synth writes blobs only where no other local user can swap them, and never
 * through a planted symlink; a failed write leaves no temporary file.
 */
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Manifest, TerraformStack, Testing } from 'cdktf';
import { ImportedKmsKey } from '../../src/constructs';
import { writeOwnerOnlyFile } from '../../src/secret-file';
import { baseProps } from '../constructs/fixtures';

/** A stack with one key, synthesized into `outdir` (which a test may have prepared). */
function synthInto(outdir: string): void {
  const stack = new TerraformStack(Testing.app(), 'stack');
  new ImportedKmsKey(stack, 'key', baseProps());
  stack.synthesizer.synthesize({ outdir, manifest: new Manifest('stubbed', outdir, false) });
}

const fresh = (): string => mkdtempSync(join(tmpdir(), 'byok-outtree-'));
const allFiles = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir, { recursive: true }).map(String) : []);

test('a planted symlink at byok/ is refused; nothing is written through it', () => {
  const outdir = fresh();
  const target = fresh();
  mkdirSync(join(outdir, 'stacks', 'stack'), { recursive: true, mode: 0o755 });
  symlinkSync(target, join(outdir, 'stacks', 'stack', 'byok'));
  expect(() => synthInto(outdir)).toThrow(/The output folder .*stacks\/stack\/byok is a symlink: the wrapped blobs cannot be written there safely\. Remove it/);
  expect(allFiles(target)).toEqual([]);
});

test('a stack folder other users can write is refused, naming the folder and the fix', () => {
  const outdir = fresh();
  const stackDir = join(outdir, 'stacks', 'stack');
  mkdirSync(stackDir, { recursive: true });
  chmodSync(stackDir, 0o777);
  expect(() => synthInto(outdir)).toThrow(new RegExp(`The synth output folder ${stackDir} can be written by other users \\(mode 777\\).*chmod go-w ${stackDir}`));
  expect(allFiles(join(stackDir, 'byok')).filter((f) => f.endsWith('.wrapped'))).toEqual([]);
});

test('a group-writable stack folder (umask 002) is closed to the group, and the synth goes on', () => {
  const outdir = fresh();
  const stackDir = join(outdir, 'stacks', 'stack');
  mkdirSync(stackDir, { recursive: true });
  chmodSync(stackDir, 0o775);
  synthInto(outdir);
  expect(statSync(stackDir).mode & 0o777).toBe(0o755);
  expect(allFiles(join(stackDir, 'byok')).some((f) => f.endsWith('.wrapped'))).toBe(true);
});

test('a world-writable output root is refused too', () => {
  const outdir = fresh();
  chmodSync(outdir, 0o777);
  expect(() => synthInto(outdir)).toThrow(/can be written by other users \(mode 777\)/);
});

test('a byok/ folder of another user is refused', () => {
  const outdir = fresh();
  const byok = join(outdir, 'stacks', 'stack', 'byok');
  mkdirSync(byok, { recursive: true, mode: 0o700 });
  // Giving a folder away needs root, as the suite's apt-get does (the project's machines and CI run as root).
  chownSync(byok, 65534, 65534);
  expect(() => synthInto(outdir)).toThrow(/owned by another user \(uid 65534\)/);
});

test('the same tree, safe: the synth writes the blob 0600 in a 0700 byok/', () => {
  const outdir = fresh();
  synthInto(outdir);
  expect(allFiles(join(outdir, 'stacks', 'stack', 'byok')).some((f) => f.endsWith('.wrapped'))).toBe(true);
});

test('a failed rename leaves no temporary file', () => {
  const dir = fresh();
  const target = join(dir, 'blob.wrapped');
  // A non-empty folder at the target: the final rename fails.
  mkdirSync(target);
  writeFileSync(join(target, 'x'), 'x');
  expect(() => writeOwnerOnlyFile(target, Buffer.from('secret blob'))).toThrow();
  expect(readdirSync(dir)).toEqual(['blob.wrapped']);
});
