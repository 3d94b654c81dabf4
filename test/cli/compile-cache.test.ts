/**
 * The apply step's code cache (src/cli/compile-cache.ts) is compiled code: whoever can write it decides what a
 * provisioner runs. These runs of the built dist/cli/apply-step.js against the emulator prove where it is kept,
 * that it is used, and that nothing another user could have planted or changed is ever read.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KmsClient } from '../../src/api';
import { startEmulator, type RunningEmulator } from '../../src/emulator';
import { KeyMaterial } from '../../src/material';
import { WrappingKey, wrap } from '../../src/wrapping';
import { useTempDir } from '../support/openssl';

const APPLY_STEP = join(__dirname, '..', '..', 'dist', 'cli', 'apply-step.js');
const ORG = 'org-cache';
const TOKEN = 'tok-cache-8812-secret';

let emulator: RunningEmulator;
let apiEnv: NodeJS.ProcessEnv;
let blob: string;
let fingerprint: string;
const dir = useTempDir();

beforeAll(async () => {
  emulator = await startEmulator({ tokens: [{ token: TOKEN, organisation: ORG }] });
  apiEnv = { PATH: process.env.PATH, THALASSA_API_ENDPOINT: emulator.url, THALASSA_API_TOKEN: TOKEN, THALASSA_ORGANISATION: ORG };
  const client = KmsClient.fromEnvironment({ env: apiEnv });
  const wrappingKey = WrappingKey.fromApiResponse(await client.wrappingKey('nl-01'));
  await client.close();
  const loaded = KeyMaterial.fromBytes(randomBytes(32), { format: 'raw' }).load('aes256-gcm96');
  blob = wrap(loaded, wrappingKey).toString('base64');
  fingerprint = loaded.fingerprint;
  loaded.destroy();
});

afterAll(async () => {
  await emulator.close();
});

let names = 0;

/** One `import` of a new key through the apply step, with `env` on top of the API's; resolves its exit code. */
function importOnce(env: NodeJS.ProcessEnv, options: { badKeyType?: boolean; help?: boolean } = {}): Promise<number> {
  const wrappedFile = join(dir(), 'key.wrapped');
  if (!existsSync(wrappedFile)) writeFileSync(wrappedFile, blob, { mode: 0o600 });
  const args = ['import', '--region=nl-01', `--name=cached-${++names}`, `--key-type=${options.badKeyType === true ? 'hmac-sha256' : 'aes256-gcm96'}`,
    `--wrapped-file=${wrappedFile}`, `--fingerprint=${fingerprint}`, ...(options.help === true ? ['--help'] : [])];
  return new Promise((resolve) => {
    execFile(process.execPath, [APPLY_STEP, ...args], { env: { ...apiEnv, ...env }, timeout: 60_000 }, (error) => {
      resolve(error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : 1) : 0);
    });
  });
}

/** A fresh XDG_CACHE_HOME (mode 0700) and the folder the cache lives in under it. */
function freshCacheHome(): { home: string; folder: string } {
  const home = join(dir(), `xdg-${randomBytes(4).toString('hex')}`);
  mkdirSync(home, { mode: 0o700 });
  return { home, folder: join(home, 'thalassa-byok', 'compile-cache') };
}

function cacheFiles(folder: string): string[] {
  return existsSync(folder) ? readdirSync(folder) : [];
}

/**
 * Writes a cache with one import, lets `alter` change the file in place, and expects the next import to succeed
 * and to have replaced it (a new inode): the altered file was not used. Returns the cache file's path.
 */
async function expectReplacedAfter(alter: (file: string) => void): Promise<string> {
  const { home, folder } = freshCacheHome();
  expect(await importOnce({ XDG_CACHE_HOME: home })).toBe(0);
  const [name] = cacheFiles(folder);
  alter(join(folder, name));
  const altered = statSync(join(folder, name)).ino;
  expect(await importOnce({ XDG_CACHE_HOME: home })).toBe(0);
  expect(statSync(join(folder, name)).ino).not.toBe(altered);
  return join(folder, name);
}

test('the first import writes one owner-only cache in an owner-only folder; the next one uses it unchanged', async () => {
  const { home, folder } = freshCacheHome();
  expect(await importOnce({ XDG_CACHE_HOME: home })).toBe(0);
  const [file] = cacheFiles(folder);
  expect(cacheFiles(folder)).toEqual([expect.stringMatching(/^[0-9a-f]{32}-v8-[\w.-]+\.import\.v8cache$/)]);
  expect(statSync(folder).mode & 0o777).toBe(0o700);
  expect(statSync(join(home, 'thalassa-byok')).mode & 0o777).toBe(0o700);
  const written = statSync(join(folder, file));
  expect(written.mode & 0o777).toBe(0o600);
  expect(written.size).toBeGreaterThan(10_000);
  // Accepted: not written again (a rewrite renames a new file over it, a new inode).
  expect(await importOnce({ XDG_CACHE_HOME: home })).toBe(0);
  expect(statSync(join(folder, file)).ino).toBe(written.ino);
  // It holds code, nothing of a run: not the token, the blob, the fingerprint or the endpoint.
  const cache = readFileSync(join(folder, file)).toString('latin1');
  for (const secret of [TOKEN, blob.slice(0, 40), fingerprint, emulator.url]) expect(cache).not.toContain(secret);
});

test('a cache that is not V8\'s is rejected, the import still succeeds, and a good cache replaces it', async () => {
  await expectReplacedAfter((file) => writeFileSync(file, randomBytes(statSync(file).size), { mode: 0o600 }));
});

test('a cache altered behind its header (a torn write: same length, the end zeroed) never reaches V8', async () => {
  // V8 checks no checksum in release builds: handed such data it can die in the compiler (exit 133), on every
  // run, before the cache could be replaced.
  await expectReplacedAfter((file) => {
    const data = readFileSync(file);
    writeFileSync(file, data.fill(0, Math.floor((data.length * 2) / 3)), { mode: 0o600 });
  });
});

test('a symlink or a second hard link at the cache\'s name is not followed or read: an owner-only file replaces it', async () => {
  const { home, folder } = freshCacheHome();
  expect(await importOnce({ XDG_CACHE_HOME: home })).toBe(0);
  const [file] = cacheFiles(folder);
  const elsewhere = join(dir(), 'elsewhere.v8cache');
  copyFileSync(join(folder, file), elsewhere);
  chmodSync(elsewhere, 0o600);
  renameSync(join(folder, file), join(dir(), 'moved'));
  symlinkSync(elsewhere, join(folder, file));
  expect(await importOnce({ XDG_CACHE_HOME: home })).toBe(0);
  expect(lstatSync(join(folder, file)).isSymbolicLink()).toBe(false);
  expect(readFileSync(elsewhere).equals(readFileSync(join(dir(), 'moved')))).toBe(true);

  linkSync(join(folder, file), join(dir(), 'hard-link'));
  const linked = statSync(join(folder, file)).ino;
  expect(await importOnce({ XDG_CACHE_HOME: home })).toBe(0);
  expect(statSync(join(folder, file)).ino).not.toBe(linked);
});

test('a cache file others can read or write is never read: it is replaced by an owner-only one', async () => {
  const file = await expectReplacedAfter((planted) => chmodSync(planted, 0o666));
  expect(statSync(file).mode & 0o777).toBe(0o600);
});

test('a cache folder others can write, or one that is a symlink, is not used at all', async () => {
  const writable = freshCacheHome();
  mkdirSync(writable.folder, { recursive: true, mode: 0o700 });
  chmodSync(writable.folder, 0o770);
  expect(await importOnce({ XDG_CACHE_HOME: writable.home })).toBe(0);
  expect(cacheFiles(writable.folder)).toEqual([]);

  const linked = freshCacheHome();
  const elsewhere = join(dir(), `elsewhere-${randomBytes(4).toString('hex')}`);
  mkdirSync(elsewhere, { mode: 0o700 });
  mkdirSync(join(linked.home, 'thalassa-byok'), { mode: 0o700 });
  symlinkSync(elsewhere, linked.folder);
  expect(await importOnce({ XDG_CACHE_HOME: linked.home })).toBe(0);
  expect(readdirSync(elsewhere)).toEqual([]);

  // A cache home others can write (not sticky): someone could swap thalassa-byok/ under us.
  const open = freshCacheHome();
  chmodSync(open.home, 0o777);
  expect(await importOnce({ XDG_CACHE_HOME: open.home })).toBe(0);
  expect(existsSync(join(open.home, 'thalassa-byok'))).toBe(false);
});

test('a failed command or a help run writes no cache; NODE_DISABLE_COMPILE_CACHE, or no HOME and no XDG_CACHE_HOME, means none', async () => {
  const failed = freshCacheHome();
  expect(await importOnce({ XDG_CACHE_HOME: failed.home }, { badKeyType: true })).not.toBe(0);
  expect(cacheFiles(failed.folder)).toEqual([]);

  // A help run exits 0 but compiles almost nothing: no cache.
  const help = freshCacheHome();
  expect(await importOnce({ XDG_CACHE_HOME: help.home }, { help: true })).toBe(0);
  expect(cacheFiles(help.folder)).toEqual([]);

  const disabled = freshCacheHome();
  expect(await importOnce({ XDG_CACHE_HOME: disabled.home, NODE_DISABLE_COMPILE_CACHE: '1' })).toBe(0);
  expect(existsSync(join(disabled.home, 'thalassa-byok'))).toBe(false);

  // No HOME and no XDG_CACHE_HOME: a relative XDG_CACHE_HOME is ignored, as the XDG specification says.
  expect(await importOnce({ XDG_CACHE_HOME: 'relative-cache' })).toBe(0);
  expect(existsSync(join(process.cwd(), 'relative-cache'))).toBe(false);
});

test('a new bundle (another package version) replaces the old bundle\'s cache for the same command', async () => {
  const { home, folder } = freshCacheHome();
  expect(await importOnce({ XDG_CACHE_HOME: home })).toBe(0);
  const [file] = cacheFiles(folder);
  const stale = file.replace(/^[0-9a-f]{32}/, '0'.repeat(32));
  renameSync(join(folder, file), join(folder, stale));
  writeFileSync(join(folder, 'unrelated.sweep.v8cache'), 'x', { mode: 0o600 });
  expect(await importOnce({ XDG_CACHE_HOME: home })).toBe(0);
  expect(cacheFiles(folder).sort()).toEqual([file, 'unrelated.sweep.v8cache'].sort());
});
