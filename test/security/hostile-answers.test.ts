/**
 * Hostile answers are not trusted (issue 11, deliver 4). Each test runs a tiny node:http server on loopback
 * that answers one hostile thing, and a real KmsClient (or the built CLI) against it:
 * - a body trickled a byte at a time, or headers that never come: one deadline per attempt, headers and body;
 * - an answer of 100 MB: read only up to the size limit, the connection dropped, never retried;
 * - answers of the wrong shape or about another key: `API_BAD_ANSWER` naming what was wrong;
 * - an error `message` that echoes the request (with the wrapped blob): shown sanitized, no piece of the blob.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { ApiError, KmsClient, type ApiClientOptions } from '../../src/api';
import { sanitizeApiText } from '../../src/api/answers';
import { KeyMaterial } from '../../src/material';
import { wrap, WrappingKey } from '../../src/wrapping';
import { runCli } from '../support/cli';
import { makeTempDir, removeDir } from '../support/openssl';

const TOKEN = 'pat-hostile-9d2e4f6a8b0c';

interface Seen { readonly method: string; readonly url: string; readonly body: string }
type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

interface Hostile {
  readonly url: string;
  readonly seen: Seen[];
  readonly env: NodeJS.ProcessEnv;
  client(options?: ApiClientOptions): KmsClient;
  close(): Promise<void>;
}

const open: Hostile[] = [];

/** A loopback HTTP server that answers every request with `handler`, recording what it was asked. */
async function hostile(handler: Handler): Promise<Hostile> {
  const seen: Seen[] = [];
  const sockets = new Set<Socket>();
  const clients: KmsClient[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: req.method ?? '', url: req.url ?? '', body });
      handler(req, res, body);
    });
  });
  server.on('connection', (s: Socket) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const env = { THALASSA_API_ENDPOINT: url, THALASSA_API_TOKEN: TOKEN, THALASSA_ORGANISATION: 'org-hostile' };
  const running: Hostile = {
    url, seen, env,
    client: (options = {}) => {
      const client = KmsClient.fromEnvironment({ env, retryBaseDelayMs: 1, retryMaxDelayMs: 5, ...options });
      clients.push(client);
      return client;
    },
    close: async () => {
      sockets.forEach((s) => s.destroy());
      await Promise.all(clients.map((c) => c.close()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  open.push(running);
  return running;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.close()));
});

async function failure(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    return err as ApiError;
  }
  throw new Error('expected the call to fail');
}

const json = (res: ServerResponse, status: number, value: unknown): void => {
  res.writeHead(status, { 'content-type': 'application/json' }).end(value === undefined ? '' : JSON.stringify(value));
};

/** Sends headers at once, then one space every `everyMs` until the client goes away. */
function trickle(everyMs: number): Handler {
  return (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('[');
    const timer = setInterval(() => res.write(' '), everyMs);
    res.on('close', () => clearInterval(timer));
  };
}

const key = (fields: Record<string, unknown> = {}) => ({ identity: 'kms-1', name: 'mine', slug: 'mine', keyType: 'aes256-gcm96', status: 'active', ...fields });
const createRequest = { name: 'mine', keyType: 'aes256-gcm96', importKeyMaterial: randomBytes(300).toString('base64') };

describe('one deadline per attempt, covering headers and body', () => {
  it('a list answer trickled one byte every 100 ms fails at the deadline (not 30 s between chunks); the read is retried, each attempt bounded', async () => {
    const server = await hostile(trickle(100));
    const started = Date.now();
    const error = await failure(server.client({ attemptDeadlineMs: 1000, requestTimeoutMs: 30_000, maxAttempts: 2 }).listKeys('nl-01'));
    const elapsed = Date.now() - started;
    expect(error.code).toBe('API_NETWORK');
    expect(error.message).toMatch(/no complete answer within the deadline of 1000 ms for one attempt \(attemptDeadlineMs\), headers and body together/);
    expect(server.seen).toHaveLength(2);
    expect(elapsed).toBeGreaterThanOrEqual(2000);
    expect(elapsed).toBeLessThan(5000);
  });

  it('a create whose answer trickles: the error says the outcome is unknown, carries outcomeUnknown, and the POST is not re-sent', async () => {
    const server = await hostile(trickle(100));
    const error = await failure(server.client({ attemptDeadlineMs: 800, maxAttempts: 5 }).createKey('nl-01', createRequest));
    expect(error).toMatchObject({ code: 'API_NETWORK', outcomeUnknown: true });
    expect(error.message).toMatch(/deadline of 800 ms.*The outcome of this POST is unknown/);
    expect(server.seen.filter((s) => s.method === 'POST')).toHaveLength(1);
    expect(error.message).not.toContain(createRequest.importKeyMaterial.slice(0, 16));
  });

  it('headers that never come also end at the deadline, well before requestTimeoutMs', async () => {
    const server = await hostile(() => undefined);
    const started = Date.now();
    const error = await failure(server.client({ attemptDeadlineMs: 700, requestTimeoutMs: 30_000, maxAttempts: 1 }).getKey('nl-01', 'kms-1'));
    expect(error.message).toMatch(/deadline of 700 ms/);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('the deadline is validated', () => {
    expect(() => KmsClient.fromEnvironment({ env: { THALASSA_API_TOKEN: 't', THALASSA_ORGANISATION: 'o' }, attemptDeadlineMs: 0 })).toThrow(/attemptDeadlineMs option must be a positive number/);
  });
});

describe('answer bodies are capped', () => {
  /** Streams `total` bytes of JSON whitespace (with backpressure) and counts what the socket accepted. */
  function huge(total: number, headers: Record<string, string> = {}): { handler: Handler; written: () => number } {
    let written = 0;
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    return {
      written: () => written,
      handler: (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json', ...headers });
        res.write('[');
        let closed = false;
        res.on('close', () => { closed = true; });
        const pump = (): void => {
          while (!closed && written < total) {
            written += chunk.length;
            if (!res.write(chunk)) { res.once('drain', pump); return; }
          }
          if (!closed) res.end(']');
        };
        pump();
      },
    };
  }

  it('a 100 MB list answer: refused at the 16 MiB default, the connection dropped (the server could not send the rest), not retried', async () => {
    const body = huge(100 * 1024 * 1024);
    const server = await hostile(body.handler);
    const heapBefore = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
    const error = await failure(server.client({ maxAttempts: 5 }).listKeys('nl-01'));
    expect(error).toMatchObject({ code: 'API_ANSWER_TOO_LARGE', status: 200, outcomeUnknown: false });
    expect(error.message).toMatch(/with a body over the limit of 16777216 bytes \(maxAnswerBytes\); reading stopped there and the call was not retried/);
    expect(server.seen).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    // What the socket accepted: the 16 MiB read plus kernel and stream buffers, far from 100 MB.
    expect(body.written()).toBeLessThan(32 * 1024 * 1024);
    const grown = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers - heapBefore;
    expect(grown).toBeLessThan(64 * 1024 * 1024);
  });

  it('a declared content-length over the limit is refused before the body is read', async () => {
    const server = await hostile((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(100 * 1024 * 1024) });
      res.write('[');
    });
    const started = Date.now();
    const error = await failure(server.client({ maxAnswerBytes: 4096, maxAttempts: 3 }).listKeys('nl-01'));
    expect(error.code).toBe('API_ANSWER_TOO_LARGE');
    expect(error.message).toMatch(/over the limit of 4096 bytes/);
    expect(server.seen).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('an oversized answer to a create: the outcome is unknown (the key may exist), and the POST is not re-sent', async () => {
    const body = huge(2 * 1024 * 1024);
    const server = await hostile(body.handler);
    const error = await failure(server.client({ maxAnswerBytes: 64 * 1024 }).createKey('nl-01', createRequest));
    expect(error).toMatchObject({ code: 'API_ANSWER_TOO_LARGE', outcomeUnknown: true });
    expect(error.message).toMatch(/The outcome of this POST is unknown/);
    expect(server.seen).toHaveLength(1);
  });

  it('an oversized error answer is refused the same way (its message is never parsed)', async () => {
    const server = await hostile((_req, res) => json(res, 503, { message: 'x'.repeat(10_000) }));
    const error = await failure(server.client({ maxAnswerBytes: 1000, maxAttempts: 4 }).getKey('nl-01', 'kms-1'));
    expect(error.code).toBe('API_ANSWER_TOO_LARGE');
    expect(server.seen).toHaveLength(1);
  });
});

describe('answers of the wrong shape or about another key are API_BAD_ANSWER', () => {
  it.each([
    ['[null]', [null], /entry 0 is null, not a key object/],
    ['a list of strings', ['kms-1'], /entry 0 is a string, not a key object/],
    ['an entry without status', [key(), { identity: 'kms-2', name: 'b' }], /entry 1 has no status, where a string is required/],
    ['a numeric identity', [key({ identity: 7 })], /entry 0 has a number as its identity, where a non-empty string is required/],
    ['an empty name', [key({ name: '' })], /entry 0 has an empty string as its name/],
    ['annotations that are not strings', [key({ annotations: { a: 1 } })], /entry 0 has annotations that are not a map of strings/],
    ['an object instead of a list', { keys: [] }, /an object where a list of keys was expected/],
    ['an empty body', undefined, /nothing where a list of keys was expected/],
  ])('list answered with %s: refused, named, not retried', async (_what, answer, message) => {
    const server = await hostile((_req, res) => json(res, 200, answer));
    const error = await failure(server.client().listKeys('nl-01'));
    expect(error.code).toBe('API_BAD_ANSWER');
    expect(error.message).toMatch(message);
    expect(server.seen).toHaveLength(1);
  });

  it('two keys with the name looked up (names are unique in a region): refused instead of picking the first', async () => {
    const server = await hostile((_req, res) => json(res, 200, [key(), key({ identity: 'kms-2' })]));
    const error = await failure(server.client().findKeyByName('nl-01', 'mine'));
    expect(error.code).toBe('API_BAD_ANSWER');
    expect(error.message).toMatch(/2 keys named "mine", but a name is unique in a region/);
  });

  it.each([
    ['an empty 201', undefined, /a success whose body is nothing, not a key object/],
    ['a 201 with a string', 'created', /a success whose body is a string, not a key object/],
    ['a 201 with an array', [key()], /a success whose body is an array, not a key object/],
    ['a 201 without identity', { name: 'mine', status: 'active' }, /has no identity/],
  ])('create answered with %s: API_BAD_ANSWER, outcome unknown, not re-sent', async (_what, answer, message) => {
    const server = await hostile((_req, res) => json(res, 201, answer));
    const error = await failure(server.client().createKey('nl-01', createRequest));
    expect(error).toMatchObject({ code: 'API_BAD_ANSWER', outcomeUnknown: true });
    expect(error.message).toMatch(message);
    expect(error.message).toMatch(/The outcome is unknown: look the key up by name "mine" before trying again/);
    expect(server.seen).toHaveLength(1);
  });

  it('a 201 for another key name: the server answered for another key, outcome unknown, look up before retrying', async () => {
    const server = await hostile((_req, res) => json(res, 201, key({ name: 'someone-elses', identity: 'kms-9' })));
    const error = await failure(server.client().createKey('nl-01', createRequest));
    expect(error).toMatchObject({ code: 'API_BAD_ANSWER', outcomeUnknown: true });
    expect(error.message).toMatch(/answered for another key: the request created "mine", the answer describes "someone-elses" \("kms-9"\)\. The outcome is unknown: look the key up by name "mine" before trying again/);
    expect(server.seen).toHaveLength(1);
  });

  it('getKey answered with another identity, or a non-key: refused', async () => {
    const other = await hostile((_req, res) => json(res, 200, key({ identity: 'kms-other', slug: 'other' })));
    const error = await failure(other.client().getKey('nl-01', 'kms-1'));
    expect(error.code).toBe('API_BAD_ANSWER');
    expect(error.message).toMatch(/for another key: asked for "kms-1", the answer describes identity "kms-other"/);
    const bySlug = await hostile((_req, res) => json(res, 200, key()));
    await expect(bySlug.client().getKey('nl-01', 'mine')).resolves.toMatchObject({ identity: 'kms-1' });
    const nothing = await hostile((_req, res) => json(res, 200, null));
    expect((await failure(nothing.client().getKey('nl-01', 'kms-1'))).message).toMatch(/a body that is null, not a key object/);
  });

  it('updateRotation answered for another key: refused', async () => {
    const server = await hostile((_req, res) => json(res, 200, key({ identity: 'kms-other', slug: 'other' })));
    const error = await failure(server.client().updateRotation('nl-01', 'kms-1', { keyRotationEnabled: true }));
    expect(error.code).toBe('API_BAD_ANSWER');
  });

  it('the CLI: `list` against a `[null]` answer names the bad answer, not an "unexpected error"', async () => {
    const server = await hostile((_req, res) => json(res, 200, [null]));
    const result = await runCli(['list', '--region', 'nl-01'], server.env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/entry 0 is null, not a key object.*\[API_BAD_ANSWER\]/);
    expect(result.stderr).not.toMatch(/unexpected error/);
  });
});

describe("the API's own error message is shown sanitized", () => {
  /** Every 16-character piece of `secret` that appears in `text`. */
  const pieces = (text: string, secret: string): string[] => {
    const found: string[] = [];
    for (let i = 0; i + 16 <= secret.length; i++) if (text.includes(secret.slice(i, i + 16))) found.push(secret.slice(i, i + 16));
    return found;
  };
  const renderings = (error: ApiError): string => [error.message, error.apiMessage ?? '', String(error), JSON.stringify(error), inspect(error)].join('\n');

  it.each([
    ['the request body verbatim', (body: string) => `invalid request: ${body}`],
    ['the blob in hex', (body: string) => `bad material ${Buffer.from(JSON.parse(body).importKeyMaterial, 'base64').toString('hex')}`],
    ['the blob with control characters between every 10 characters', (body: string) => `bad ${(JSON.parse(body).importKeyMaterial as string).replace(/(.{10})/g, '$1\u0000\u001b')}`],
    ['the blob as base64url', (body: string) => `bad ${Buffer.from(JSON.parse(body).importKeyMaterial, 'base64').toString('base64url')}`],
  ])('a server echoing %s in a 400 message: no 16-character piece of the blob in any rendering of the error', async (_what, echo) => {
    const server = await hostile((_req, res, body) => json(res, 400, { message: echo(body) }));
    const blob = randomBytes(512);
    const error = await failure(server.client().createKey('nl-01', { ...createRequest, importKeyMaterial: blob.toString('base64') }));
    expect(error.code).toBe('API_BAD_REQUEST');
    expect(error.message).toMatch(/The API said: ".*characters redacted\]/);
    const shown = renderings(error);
    for (const encoding of ['base64', 'hex', 'base64url'] as const) expect(pieces(shown, blob.toString(encoding))).toEqual([]);
    expect(error.apiMessage!.length).toBeLessThanOrEqual(200);
    expect([...error.apiMessage!].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)).toBe(false);
  });

  it('a long message is capped at 200 characters; control characters and bidi overrides are stripped; words are kept', () => {
    expect(sanitizeApiText('name already taken')).toBe('name already taken');
    expect(sanitizeApiText(`a\u001b[2K\rb\u202ec\u0007`)).toBe('a[2Kbc');
    expect(sanitizeApiText('word '.repeat(100))).toHaveLength(200);
    expect(sanitizeApiText(`key ${'A'.repeat(31)} ok`)).toBe(`key ${'A'.repeat(31)} ok`);
    expect(sanitizeApiText(`key ${'A'.repeat(32)} ok`)).toBe('key [32 characters redacted] ok');
  });

  it('the CLI: `import` against a server that echoes the whole request in its error prints no piece of the blob to stderr', async () => {
    const dir = makeTempDir('byok-hostile-');
    try {
      const pem = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'pem', type: 'spki' }).toString();
      const material = KeyMaterial.fromBytes(randomBytes(32), { format: 'raw' }).load('aes256-gcm96');
      const blob = wrap(material, WrappingKey.fromPem(pem));
      const fingerprint = material.fingerprint;
      material.destroy();
      const file = join(dir, 'key.wrapped');
      writeFileSync(file, blob.toString('base64'), { mode: 0o600 });
      const server = await hostile((req, res, body) => {
        if (req.method === 'GET' && req.url?.includes('/wrapping-key')) return json(res, 200, { publicKey: pem });
        if (req.method === 'GET') return json(res, 200, []);
        return json(res, 400, { message: `cannot import ${body}` });
      });
      const result = await runCli(['import', '--region', 'nl-01', '--name', 'mine', '--key-type', 'aes256-gcm96', '--wrapped-file', file, '--fingerprint', fingerprint], server.env);
      expect(server.seen.some((s) => s.method === 'POST' && s.body.includes(blob.toString('base64')))).toBe(true);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/\[API_BAD_REQUEST\]/);
      expect(result.stderr).toMatch(/characters redacted\]/);
      for (const encoding of ['base64', 'hex', 'base64url'] as const) expect(pieces(result.stdout + result.stderr, blob.toString(encoding))).toEqual([]);
    } finally {
      removeDir(dir);
    }
  });
});
