/**
 * `dataDir`: state survives a clean restart and a `kill -9` of the emulator process at any moment, in
 * owner-only files. The kill test runs the real CLI (`thalassa-byok emulator`) as a child process.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startEmulator } from '../../src/emulator';
import { WrappingKey, wrap } from '../../src/wrapping';
import { bindToken, call, keysPath, ORG, REGION, tempDir, TOKEN } from './harness';

const REPO = resolve(__dirname, '../..');
let dir: { path: string; cleanup: () => void };
let cliMain: string;

beforeAll(() => {
  dir = tempDir();
  // The CLI is compiled from src into a private folder rather than `npm run build` into dist/: that keeps
  // this test independent of other modules' work in progress and of a concurrent build.
  const out = join(dir.path, 'build');
  execFileSync(process.execPath, [
    require.resolve('typescript/bin/tsc'), '--outDir', out, '--rootDir', 'src', '--module', 'commonjs', '--target', 'ES2022',
    '--moduleResolution', 'node', '--esModuleInterop', '--skipLibCheck', '--strict', '--types', 'node',
    'src/cli/main.ts', 'src/cli/commands/emulator.ts',
  ], { cwd: REPO, stdio: 'pipe' });
  cliMain = join(out, 'cli', 'main.js');
}, 60_000);

afterAll(() => dir?.cleanup());

function mode(path: string): number {
  return statSync(path).mode & 0o777;
}

describe('restart', () => {
  it('keeps the wrapping key, keys, versions and material across a clean restart, in owner-only files', async () => {
    const dataDir = join(dir.path, 'restart');
    // The fuller answers (latestVersion, keyVersion) make the comparison across the restart complete.
    const first = await startEmulator({ tokens: bindToken(TOKEN, ORG), dataDir, strict: false });
    const wkPem = (await call(first.url, 'GET', `/v1/kms/${REGION}/wrapping-key`)).json.publicKey;
    const material = randomBytes(32);
    const blob = wrap(material, WrappingKey.fromPem(wkPem)).toString('base64');
    const imported = await call(first.url, 'POST', keysPath(), { body: { name: 'kept', keyType: 'aes256-gcm96', importKeyMaterial: blob, allowRotation: true, labels: { a: 'b' } } });
    expect(imported.status).toBe(201);
    const id = imported.json.identity;
    const ciphertext = (await call(first.url, 'POST', keysPath(`/${id}/encrypt`), { body: { plaintext: 'c3Vydml2ZQ==' } })).json.ciphertext;
    expect((await call(first.url, 'POST', keysPath(`/${id}/rotate`))).json.latestVersion).toBe(2);
    const doomed = (await call(first.url, 'POST', keysPath(), { body: { name: 'doomed', keyType: 'ed25519' } })).json.identity;
    expect((await call(first.url, 'DELETE', keysPath(`/${doomed}`))).status).toBe(200);
    await first.close();

    expect(mode(dataDir)).toBe(0o700);
    expect(mode(first.stateFile!)).toBe(0o600);
    expect(readdirSync(dataDir)).toEqual(['state.json']);
    const onDisk = readFileSync(first.stateFile!, 'utf8');
    expect(onDisk).not.toContain(blob.slice(0, 32));

    const second = await startEmulator({ tokens: bindToken(TOKEN, ORG), dataDir, strict: false });
    try {
      expect((await call(second.url, 'GET', `/v1/kms/${REGION}/wrapping-key`)).json.publicKey).toBe(wkPem);
      const key = (await call(second.url, 'GET', keysPath(`/${id}`))).json;
      expect(key).toMatchObject({ name: 'kept', imported: true, latestVersion: 2, labels: { a: 'b' } });
      const decrypted = await call(second.url, 'POST', keysPath(`/${id}/decrypt`), { body: { ciphertext } });
      expect(decrypted.json).toEqual({ plaintext: 'c3Vydml2ZQ==', keyVersion: '1' });
      expect((await call(second.url, 'GET', keysPath(`/${doomed}`))).json.status).toBe('pending_deletion');
      expect((await call(second.url, 'POST', keysPath(), { body: { name: 'doomed', keyType: 'ed25519' } })).status).toBe(409);
    } finally {
      await second.close();
    }
  });

  it('refuses a data directory that group or others can read, and a state file that is not its own', async () => {
    const open = join(dir.path, 'open');
    mkdirSync(open, { mode: 0o755 });
    chmodSync(open, 0o755);
    await expect(startEmulator({ tokens: bindToken(TOKEN, ORG), dataDir: open })).rejects.toMatchObject({ code: 'STATE_FILE', message: expect.stringMatching(/owner-only/) });
    const junk = join(dir.path, 'junk');
    mkdirSync(junk, { mode: 0o700 });
    writeFileSync(join(junk, 'state.json'), '{"truncated": ');
    await expect(startEmulator({ tokens: bindToken(TOKEN, ORG), dataDir: junk })).rejects.toMatchObject({ code: 'STATE_FILE', message: expect.stringMatching(/not valid JSON/) });
  });

  it('without a data directory keeps nothing', async () => {
    const a = await startEmulator({ tokens: bindToken(TOKEN, ORG) });
    expect(a.stateFile).toBeUndefined();
    await call(a.url, 'POST', keysPath(), { body: { name: 'gone', keyType: 'aes128-gcm96' } });
    await a.close();
    const b = await startEmulator({ tokens: bindToken(TOKEN, ORG) });
    expect((await call(b.url, 'GET', keysPath())).json).toEqual([]);
    await b.close();
  });
});

/** Starts the CLI emulator; resolves with its URL once it printed it. */
function startCli(args: string[]): Promise<{ child: ChildProcess; url: string; exited: Promise<number | null>; stderr: () => string }> {
  const child = spawn(process.execPath, [cliMain, 'emulator', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  return new Promise((res, rej) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = /^(http:\/\/\S+)\n/.exec(out);
      if (line) res({ child, url: line[1], exited, stderr: () => stderr });
    });
    child.on('exit', (code) => rej(new Error(`emulator exited with ${code} before listening: ${stderr}`)));
  });
}

describe('the CLI', () => {
  it('prints its URL, serves, and exits 0 on SIGTERM, logging requests without the token', async () => {
    const { child, url, exited, stderr } = await startCli(['--token', 'cli-secret-token', '--region', 'nl-01', '--region', 'de-01']);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await call(url, 'GET', '/v1/kms/de-01/keys', { token: 'cli-secret-token' })).status).toBe(200);
    expect((await call(url, 'GET', '/v1/kms/de-01/keys', { token: 'other' })).status).toBe(401);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr()).toMatch(/GET \/v1\/kms\/de-01\/keys 200 \d+ms/);
    expect(stderr()).not.toContain('cli-secret-token');
  });

  it('answers a bad --port or --faults with a usage or spec error', async () => {
    await expect(startCli(['--port', 'x'])).rejects.toThrow(/--port must be an integer/);
    await expect(startCli(['--faults', 'explode=1'])).rejects.toThrow(/Unknown fault "explode"/);
  });

  it('keeps every acknowledged write through kill -9 at any moment', async () => {
    const dataDir = join(dir.path, 'killed');
    const acknowledged = new Set<string>();
    const deleted = new Set<string>();
    let serial = 0;
    for (const killAfterMs of [250, 600, 900]) {
      const { child, url, exited } = await startCli(['--data-dir', dataDir]);
      let running = true;
      const worker = async (): Promise<void> => {
        while (running) {
          const name = `k-${++serial}`;
          try {
            const res = await call(url, 'POST', keysPath(), { body: { name, keyType: serial % 3 === 0 ? 'ecdsa-p256' : 'aes256-gcm96' } });
            if (res.status === 201) {
              acknowledged.add(name);
              if (serial % 4 === 0 && (await call(url, 'DELETE', keysPath(`/${name}`))).status === 200) deleted.add(name);
            }
          } catch {
            // The connection died with the process: this write was never acknowledged.
          }
        }
      };
      const workers = [worker(), worker(), worker(), worker()];
      await new Promise((r) => setTimeout(r, killAfterMs));
      child.kill('SIGKILL');
      await exited;
      running = false;
      await Promise.all(workers);

      const state = JSON.parse(readFileSync(join(dataDir, 'state.json'), 'utf8'));
      expect(state.format).toBe(1);
      expect(mode(join(dataDir, 'state.json'))).toBe(0o600);
    }
    expect(acknowledged.size).toBeGreaterThan(20);

    const after = await startEmulator({ tokens: bindToken(TOKEN, ORG), dataDir });
    try {
      const keys: { name: string; status: string }[] = (await call(after.url, 'GET', keysPath())).json;
      const byName = new Map(keys.map((k) => [k.name, k]));
      const missing = [...acknowledged].filter((n) => !byName.has(n));
      expect(missing).toEqual([]);
      expect([...deleted].filter((n) => byName.get(n)?.status !== 'pending_deletion')).toEqual([]);
      expect(readdirSync(dataDir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    } finally {
      await after.close();
    }
  });
});
