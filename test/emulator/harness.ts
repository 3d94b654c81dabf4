/**
 * Shared pieces of the emulator tests: HTTP calls over real sockets (Node's fetch), the openssl command line,
 * and temporary folders. Not a test file itself.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { BoundToken } from '../../src/emulator';
import { makeTempDir, removeDir } from '../support/openssl';

export const ORG = 'org-test';
export const TOKEN = 'test-token';
export const REGION = 'nl-01';

/**
 * `token` bound to each of `organisations` (issue 11: tokens are bound everywhere in the tests, so a test that
 * strays into another organisation fails with 401 instead of passing by accident).
 */
export function bindToken(token: string, ...organisations: string[]): BoundToken[] {
  return organisations.map((organisation) => ({ token, organisation }));
}

/** A response, read fully. */
export interface ApiResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests look into response bodies freely
  readonly json: any;
}

/** Options for {@link call}. `null` for token/org sends no such header. */
export interface CallOptions {
  readonly body?: unknown;
  readonly rawBody?: string | Buffer;
  readonly token?: string | null;
  readonly scheme?: 'Token' | 'Bearer';
  readonly org?: string | null;
  readonly project?: string;
  readonly headers?: Record<string, string>;
}

/** One HTTP request to the emulator. */
export async function call(baseUrl: string, method: string, path: string, options: CallOptions = {}): Promise<ApiResponse> {
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  const token = options.token === undefined ? TOKEN : options.token;
  if (token !== null) headers.authorization = `${options.scheme ?? 'Token'} ${token}`;
  const org = options.org === undefined ? ORG : options.org;
  if (org !== null) headers['x-organisation-identity'] = org;
  if (options.project !== undefined) headers['x-project-identity'] = options.project;
  let body: string | Buffer | undefined = options.rawBody;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] = 'application/json';
  }
  const res = await fetch(`${baseUrl}${path}`, { method, headers, body });
  const text = await res.text();
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

const execFileAsync = promisify(execFile);

/**
 * Runs openssl; resolves with stdout. Asynchronous on purpose: an emulator in this process must keep serving
 * (and its sockets' timers keep running) while openssl generates an RSA-4096 key.
 */
export async function openssl(args: string[], cwd: string): Promise<Buffer> {
  const { stdout } = await execFileAsync('openssl', args, { cwd, encoding: 'buffer' });
  return stdout;
}

/** A fresh owner-only temporary folder; `cleanup` removes it. */
export function tempDir(prefix = 'thalassa-emulator-test-'): { path: string; cleanup: () => void } {
  const path = makeTempDir(prefix);
  return { path, cleanup: () => removeDir(path) };
}

/** The `/v1/kms/{region}/keys` path, with an optional suffix. */
export function keysPath(suffix = '', region = REGION): string {
  return `/v1/kms/${region}/keys${suffix}`;
}
