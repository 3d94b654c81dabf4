/**
 * Runs a CommonJS bundle through a V8 code cache, so that a provisioner's short-lived process does not parse
 * and compile the same code again for every key. Node's own `module.enableCompileCache` does not exist on
 * Node 20 and by default keeps its cache in `os.tmpdir()`, a folder every local user can write; this one works
 * on every Node.js the package supports and keeps the cache where only this user can write.
 *
 * A code cache is compiled code: whoever can write it decides what this process runs. So a cache is read and
 * written only in `$XDG_CACHE_HOME/thalassa-byok/compile-cache` (else `~/.cache/…`), and only when that folder
 * and `thalassa-byok/` are real folders (no symlink) owned by this user with mode 0700, inside a cache folder
 * owned by this user or root that no one else can write (or that is sticky); the file itself must be a regular
 * file of this user's, mode 0600, with one link. Anything else, and the bundle runs without a cache. Each file
 * is named by the SHA-256 of the bundle's text (V8 itself checks only the source's length), V8's version and
 * the command, so an upgraded package or Node.js never runs stale code; inside, our header repeats that hash
 * and carries one of the V8 data, so a torn or altered file is never handed to V8 (see HEADER). The cache holds compiled code and the bundle's own
 * literals, nothing of a run: no key material, blob, token or response.
 *
 * Never an error: a folder that cannot be made or trusted, a rejected or unreadable cache, a failed write —
 * each means only a slower start. `NODE_DISABLE_COMPILE_CACHE` (Node's own switch) turns it off.
 */
import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { Script } from 'node:vm';
import { writeOwnerOnlyFile } from '../secret-file';

const MAX_CACHE_BYTES = 64 << 20;
const SUFFIX = '.v8cache';

/**
 * `module.exports` of the CommonJS bundle `file`, run through the code cache for `label` (a command name).
 * `requireFromFolder` is the bundle's `require`: one that resolves as from `file`'s folder (the caller's own,
 * when it lives there; `createRequire` would load node:module and Node's ESM loader for it).
 */
export function requireWithCodeCache(file: string, label: string, env: NodeJS.ProcessEnv, requireFromFolder: NodeJS.Require): unknown {
  // Hashed as read: hashing the string would encode it to UTF-8 again (~1 ms for the bundle).
  const bytes = readFileSync(file);
  const source = bytes.toString('utf8');
  const folder = cacheFolder(env);
  const sourceHash = createHash('sha256').update(bytes).digest();
  const name = folder === undefined || !/^[a-z][a-z-]{0,31}$/.test(label) ? undefined
    : `${sourceHash.toString('hex').slice(0, 32)}-v8-${process.versions.v8}-${process.arch}.${label}${SUFFIX}`;
  const cacheFile = folder === undefined || name === undefined ? undefined : join(folder, name);
  const cachedData = cacheFile === undefined ? undefined : readCache(cacheFile, sourceHash);
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: file, cachedData });
  if (cacheFile !== undefined && (cachedData === undefined || script.cachedDataRejected === true)) {
    // Made at exit, so that it also holds the functions this run compiled lazily; only after a success,
    // so that it holds a whole command's code.
    process.once('exit', (code) => {
      if (code === 0) saveCache(cacheFile, label, sourceHash, script);
    });
  }
  const module = { exports: {} as unknown };
  (script.runInThisContext() as (...args: unknown[]) => void)(module.exports, requireFromFolder, module, file, dirname(file));
  return module.exports;
}

/*
 * A cache file is HEADER, the SHA-256 of the bundle's text, the SHA-256 of the V8 data, then the V8 data.
 * V8 checks no checksum of its own in release builds: data altered behind its header (a torn write, a flipped
 * bit) can crash the process in the compiler, on every run, before the cache could be replaced.
 */
const HEADER = Buffer.from('thalassa-byok code cache 1\n', 'latin1');
const PAYLOAD_OFFSET = HEADER.length + 64;

function sha256(data: Uint8Array): Buffer {
  return createHash('sha256').update(data).digest();
}

/** The cache folder, made if missing, when it can be trusted; otherwise undefined (no cache). */
function cacheFolder(env: NodeJS.ProcessEnv): string | undefined {
  const uid = process.getuid?.();
  if (uid === undefined || isSet(env.NODE_DISABLE_COMPILE_CACHE)) return undefined;
  const base = isSet(env.XDG_CACHE_HOME) && isAbsolute(env.XDG_CACHE_HOME as string) ? env.XDG_CACHE_HOME as string
    : isSet(env.HOME) && isAbsolute(env.HOME as string) ? join(env.HOME as string, '.cache') : undefined;
  if (base === undefined) return undefined;
  try {
    mkdirSync(base, { recursive: true, mode: 0o700 });
    const parent = statSync(base);
    const othersCanWrite = (parent.mode & 0o022) !== 0 && (parent.mode & 0o1000) === 0;
    if (!parent.isDirectory() || (parent.uid !== uid && parent.uid !== 0) || othersCanWrite) return undefined;
    const ours = join(base, 'thalassa-byok');
    const folder = join(ours, 'compile-cache');
    return ownFolder(ours, uid) && ownFolder(folder, uid) ? folder : undefined;
  } catch {
    return undefined;
  }
}

/** Makes `path` (mode 0700) unless it exists; true when it is a real folder of `uid`'s that only `uid` can use. */
function ownFolder(path: string, uid: number): boolean {
  try {
    mkdirSync(path, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return false;
  }
  const stats = lstatSync(path);
  return stats.isDirectory() && stats.uid === uid && (stats.mode & 0o077) === 0;
}

/** The V8 data of `file`, when the file can be trusted and is whole and made for this bundle. */
function readCache(file: string, sourceHash: Buffer): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return undefined;
  }
  try {
    const stats = fstatSync(fd);
    const trusted = stats.isFile() && stats.nlink === 1 && stats.uid === process.getuid?.() && (stats.mode & 0o077) === 0;
    if (!trusted || stats.size > MAX_CACHE_BYTES || stats.size <= PAYLOAD_OFFSET) return undefined;
    const data = readFileSync(fd);
    const payload = data.subarray(PAYLOAD_OFFSET);
    const whole = data.subarray(0, HEADER.length).equals(HEADER) && data.subarray(HEADER.length, HEADER.length + 32).equals(sourceHash)
      && data.subarray(HEADER.length + 32, PAYLOAD_OFFSET).equals(sha256(payload));
    return whole ? payload : undefined;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** Writes the cache for this run's command and removes that command's caches of other bundles or V8s. */
function saveCache(file: string, label: string, sourceHash: Buffer, script: Script): void {
  try {
    const payload = script.createCachedData();
    writeOwnerOnlyFile(file, Buffer.concat([HEADER, sourceHash, sha256(payload), payload]), { durable: false });
    const folder = dirname(file);
    for (const entry of readdirSync(folder)) {
      if (entry.endsWith(`.${label}${SUFFIX}`) && join(folder, entry) !== file) unlinkSync(join(folder, entry));
    }
  } catch {
    // Only a slower start next time.
  }
}

function isSet(value: string | undefined): boolean {
  return value !== undefined && value !== '';
}
