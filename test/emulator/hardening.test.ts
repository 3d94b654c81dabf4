/**
 * Issue 11 Deliver 5: a token bound to an organisation (`T@ORG`) is refused for another; a request whose
 * `Host` does not name the listening address is refused (DNS rebinding); the command's start-up says plainly
 * when it accepts any token.
 */
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { startEmulator, type RunningEmulator } from '../../src/emulator';
import { CLI, runCli } from '../support/cli';
import { call, keysPath } from './harness';

let emulator: RunningEmulator;

beforeAll(async () => {
  emulator = await startEmulator({
    tokens: [{ token: 'bound-tok-7', organisation: 'org-a' }, 'free-tok-8', { token: 'multi-tok-9', organisation: 'org-a' }, { token: 'multi-tok-9', organisation: 'org-c' }],
  });
});

afterAll(async () => {
  await emulator.close();
});

it('a token bound to an organisation works for it and is refused (401) for another, without echoing it', async () => {
  expect((await call(emulator.url, 'GET', keysPath(), { token: 'bound-tok-7', org: 'org-a' })).status).toBe(200);
  const other = await call(emulator.url, 'GET', keysPath(), { token: 'bound-tok-7', org: 'org-b' });
  expect(other.status).toBe(401);
  expect(other.json.message).toMatch(/not accepted for this organisation/);
  expect(other.text).not.toContain('bound-tok-7');
  expect((await call(emulator.url, 'GET', '/v1/kms/summary', { token: 'bound-tok-7', org: 'org-b' })).status).toBe(401);
  // An unbound token works for any organisation; an unknown one for none.
  expect((await call(emulator.url, 'GET', keysPath(), { token: 'free-tok-8', org: 'org-b' })).status).toBe(200);
  expect((await call(emulator.url, 'GET', keysPath(), { token: 'bound-tok-7x', org: 'org-a' })).status).toBe(401);
});

it('a token listed once per organisation works for each of them and no other', async () => {
  expect((await call(emulator.url, 'GET', keysPath(), { token: 'multi-tok-9', org: 'org-a' })).status).toBe(200);
  expect((await call(emulator.url, 'GET', keysPath(), { token: 'multi-tok-9', org: 'org-c' })).status).toBe(200);
  expect((await call(emulator.url, 'GET', keysPath(), { token: 'multi-tok-9', org: 'org-b' })).status).toBe(401);
});

/** A GET with exactly this Host header (or none). */
function withHost(host: string | undefined): Promise<{ status: number; body: string }> {
  const url = new URL(emulator.url);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { authorization: 'Token free-tok-8', 'x-organisation-identity': 'org-a' };
    if (host !== undefined) headers.host = host;
    const req = request({ host: url.hostname, port: url.port, path: keysPath(), method: 'GET', headers, setHost: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

it('accepts a Host naming its address or localhost (any port: a relay names its own); refuses any other name (421)', async () => {
  const { port } = emulator;
  for (const ok of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, '127.0.0.1', `127.0.0.1:${port + 1}`]) expect({ ok, status: (await withHost(ok)).status }).toEqual({ ok, status: 200 });
  for (const bad of [`rebound.example.com:${port}`, 'rebound.example.com', `127.0.0.2:${port}`, `localhost.evil:${port}`, `[::1]:${port}`]) {
    const res = await withHost(bad);
    expect({ bad, status: res.status }).toEqual({ bad, status: 421 });
    expect(JSON.parse(res.body).message).toMatch(/DNS rebinding/);
  }
  // No Host at all: Node's parser refuses an HTTP/1.1 request without one before the emulator sees it.
  expect((await withHost(undefined)).status).toBe(400);
  expect((await withHost(`rebound.example.com:${port}`)).status).toBe(421);
  // Refused before anything else: no authentication, no state change was attempted.
  expect(emulator.requestLog.at(-1)).toMatchObject({ status: 421 });
});

/**
 * Starts `thalassa-byok emulator ARGS`, returns its stderr up to the URL line, and stops it; `whileUp` runs
 * against its URL before it is stopped.
 */
async function startupText(args: string[], env: NodeJS.ProcessEnv = {}, whileUp?: (url: string) => Promise<void>): Promise<string> {
  const child = spawn(process.execPath, [CLI, 'emulator', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH, ...env } });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL within 20 s: ${stderr}`)), 20_000);
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const line = /^(http:\/\/\S+)\n/m.exec(out);
      if (line) {
        clearTimeout(timer);
        resolve(line[1]);
      }
    });
  });
  // The start-up lines are written before the URL; give the stderr pipe a moment to deliver them.
  await new Promise((r) => setTimeout(r, 200));
  await whileUp?.(url);
  child.kill('SIGTERM');
  await exited;
  return stderr;
}

it('start-up says plainly when it accepts any token, and not when tokens are given', async () => {
  expect(await startupText([])).toMatch(/WARNING: no --token given, so it accepts ANY non-empty token/);
  const bound = await startupText(['--token', 'cli-bound-9@org-a']);
  expect(bound).not.toMatch(/ANY non-empty token/);
  expect(bound).not.toContain('cli-bound-9');
}, 60_000);

it('--token-env reads T@ORG from the environment, so the token is not on the command line', async () => {
  const text = await startupText(['--token-env', 'EMU_TOKEN_A', '--token-env', 'EMU_TOKEN_B'], { EMU_TOKEN_A: 'env-tok-3@org-a', EMU_TOKEN_B: 'env-tok-3@org-c' }, async (url) => {
    expect((await call(url, 'GET', keysPath(), { token: 'env-tok-3', org: 'org-a' })).status).toBe(200);
    expect((await call(url, 'GET', keysPath(), { token: 'env-tok-3', org: 'org-c' })).status).toBe(200);
    expect((await call(url, 'GET', keysPath(), { token: 'env-tok-3', org: 'org-b' })).status).toBe(401);
    expect((await call(url, 'GET', keysPath(), { token: 'other-tok', org: 'org-a' })).status).toBe(401);
  });
  expect(text).not.toMatch(/ANY non-empty token/);
  expect(text).not.toContain('env-tok-3');
}, 60_000);

it('--token-env names an unset variable, and refuses a token given where the name belongs', async () => {
  const unset = await runCli(['emulator', '--token-env', 'EMU_TOKEN_UNSET']);
  expect(unset.code).toBe(2);
  expect(unset.stderr).toMatch(/--token-env EMU_TOKEN_UNSET: the environment variable EMU_TOKEN_UNSET is not set/);
  const misplaced = await runCli(['emulator', '--token-env', 'tok-secret-77@org-a']);
  expect(misplaced.code).toBe(2);
  expect(misplaced.stderr).toMatch(/--token-env takes the name of an environment variable/);
  expect(misplaced.stderr).not.toContain('tok-secret-77');
  // A token that happens to be shaped like a name (letters and digits only) is described, not quoted.
  const nameShaped = await runCli(['emulator', '--token-env', 'aB3dE5gH7jK9mN1pQ3sT']);
  expect(nameShaped.code).toBe(2);
  expect(nameShaped.stderr).toMatch(/--token-env takes the name of a set environment variable, not a token: got a value of 20 characters .*not a variable name.*no variable of that name is set/);
  expect(nameShaped.stderr).not.toContain('aB3dE5gH7jK9');
});

it('--token-env takes a mixed-case variable name that is set, though such a name is never shown', async () => {
  const text = await startupText(['--token-env', 'MyEmulatorToken'], { MyEmulatorToken: 'mixed-tok-5@org-a' }, async (url) => {
    expect((await call(url, 'GET', keysPath(), { token: 'mixed-tok-5', org: 'org-a' })).status).toBe(200);
    expect((await call(url, 'GET', keysPath(), { token: 'mixed-tok-5', org: 'org-b' })).status).toBe(401);
  });
  expect(text).not.toContain('mixed-tok-5');
}, 60_000);
