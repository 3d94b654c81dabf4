/** The openssl command line as an independent implementation, and per-test temporary folders. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Runs `openssl args…` and returns its stdout; throws with stderr when it fails. */
/** (`env` defaults to the test's process.env: jest's copy of it, which child processes would not see otherwise.) */
export function openssl(args: readonly string[], options: { input?: string | Buffer; cwd?: string } = {}): Buffer {
  try {
    return execFileSync('openssl', args, { input: options.input, cwd: options.cwd, env: { ...process.env }, stdio: ['pipe', 'pipe', 'pipe'], maxBuffer: 1 << 24 });
  } catch (err) {
    const e = err as { stderr?: Buffer; status?: number };
    throw new Error(`openssl ${args[0]} failed (exit ${e.status}): ${e.stderr?.toString().trim()}`);
  }
}

/** A fresh folder under the OS temp dir. */
export function makeTempDir(prefix = 'byok-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(dir: string | undefined): void {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
}

/** A temp dir per test: `const dir = useTempDir();` then `dir()` inside a test. Removed after each test. */
export function useTempDir(): () => string {
  let current: string | undefined;
  beforeEach(() => {
    current = makeTempDir();
  });
  afterEach(() => {
    removeDir(current);
    current = undefined;
  });
  return () => {
    if (current === undefined) throw new Error('useTempDir() is only available inside a test');
    return current;
  };
}
