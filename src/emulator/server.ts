/**
 * HTTP for the emulator: routing, body limits, JSON, the order of checks (auth, organisation, feature,
 * region), injected faults and the request log. The KMS behaviour itself lives in `kms.ts`.
 */
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIP, type AddressInfo, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Authenticator, parseBasicAuth } from './auth';
import { badRequest, EmulatorError, methodNotAllowed, notFound, payloadTooLarge, unauthorized } from './errors';
import type { FaultDecision, FaultInjector } from './faults';
import type { Kms, RequestScope } from './kms';
import type { JsonObject } from './request-fields';
import { formatLogLine, loggablePath, type RequestLogEntry } from './request-log';
import { leanReply } from './strict';

/** The largest request body accepted (1 MiB); larger ones answer 413. */
export const MAX_BODY_BYTES = 1024 * 1024;
// Past this, a too-large body is no longer drained politely; the connection is cut.
const MAX_DRAIN_BYTES = 64 * 1024 * 1024;
const MAX_LOG_ENTRIES = 10_000;

interface Reply {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

interface Call {
  readonly kms: Kms;
  readonly scope: RequestScope;
  readonly region: string;
  readonly id: string;
  readonly query: URLSearchParams;
  readonly body: () => JsonObject;
}

type Handler = (call: Call) => Reply | Promise<Reply>;

const ok = (body: unknown): Reply => ({ status: 200, body });
const noContent: Reply = { status: 204 };

/** The API's routes: a path pattern (`:region`, `:id` capture one segment) and a handler per method. */
const ROUTES: readonly { readonly pattern: string; readonly methods: Readonly<Record<string, Handler>> }[] = [
  { pattern: '/v1/kms/summary', methods: { GET: (c) => ok(c.kms.summary(c.scope)) } },
  { pattern: '/v1/kms/:region/wrapping-key', methods: { GET: async (c) => ok(await c.kms.wrappingKey(c.region)) } },
  {
    pattern: '/v1/kms/:region/keys',
    methods: {
      GET: (c) => ok(c.kms.listKeys(c.scope, c.region, c.query)),
      POST: async (c) => ({ status: 201, body: await c.kms.createKey(c.scope, c.region, c.body()) }),
    },
  },
  {
    pattern: '/v1/kms/:region/keys/:id',
    methods: {
      GET: (c) => ok(c.kms.getKey(c.scope, c.region, c.id)),
      // 200 with the key and its deletionScheduledAt, as Thalassa's lifecycle page describes the answer.
      DELETE: async (c) => ok(await c.kms.deleteKey(c.scope, c.region, c.id)),
    },
  },
  { pattern: '/v1/kms/:region/keys/:id/cancel-deletion', methods: { DELETE: async (c) => (await c.kms.cancelDeletion(c.scope, c.region, c.id), noContent) } },
  { pattern: '/v1/kms/:region/keys/:id/rotation', methods: { PATCH: async (c) => ok(await c.kms.patchRotation(c.scope, c.region, c.id, c.body())) } },
  { pattern: '/v1/kms/:region/keys/:id/rotate', methods: { POST: async (c) => ok(await c.kms.rotate(c.scope, c.region, c.id)) } },
  { pattern: '/v1/kms/:region/keys/:id/disable', methods: { POST: async (c) => ok(await c.kms.setEnabled(c.scope, c.region, c.id, false)) } },
  { pattern: '/v1/kms/:region/keys/:id/enable', methods: { POST: async (c) => ok(await c.kms.setEnabled(c.scope, c.region, c.id, true)) } },
  { pattern: '/v1/kms/:region/keys/:id/public-key', methods: { GET: (c) => ok(c.kms.publicKey(c.scope, c.region, c.id, c.query.get('version'))) } },
  { pattern: '/v1/kms/:region/keys/:id/encrypt', methods: { POST: (c) => ok(c.kms.encrypt(c.scope, c.region, c.id, c.body())) } },
  { pattern: '/v1/kms/:region/keys/:id/decrypt', methods: { POST: (c) => ok(c.kms.decrypt(c.scope, c.region, c.id, c.body())) } },
  { pattern: '/v1/kms/:region/keys/:id/sign', methods: { POST: (c) => ok(c.kms.sign(c.scope, c.region, c.id, c.body())) } },
  { pattern: '/v1/kms/:region/keys/:id/verify', methods: { POST: (c) => ok(c.kms.verify(c.scope, c.region, c.id, c.body())) } },
  { pattern: '/v1/kms/:region/keys/:id/hmac', methods: { POST: (c) => ok(c.kms.hmac(c.scope, c.region, c.id, c.body())) } },
  { pattern: '/v1/kms/:region/keys/:id/verify-hmac', methods: { POST: (c) => ok(c.kms.verifyHmac(c.scope, c.region, c.id, c.body())) } },
  { pattern: '/v1/kms/:region/keys/:id/export', methods: { POST: (c) => ok(c.kms.exportKey(c.scope, c.region, c.id, c.body())) } },
];

const OIDC_TOKEN_PATH = '/oidc/token';

function matchRoute(path: string): { pattern: string; methods: Readonly<Record<string, Handler>>; params: Record<string, string> } | undefined {
  const segments = path.split('/');
  for (const route of ROUTES) {
    const parts = route.pattern.split('/');
    if (parts.length !== segments.length) continue;
    const params: Record<string, string> = {};
    let matched = true;
    for (let i = 0; i < parts.length && matched; i++) {
      if (parts[i].startsWith(':')) {
        let value: string;
        try {
          value = decodeURIComponent(segments[i]);
        } catch {
          value = '';
        }
        if (value === '') matched = false;
        else params[parts[i].slice(1)] = value;
      } else if (parts[i] !== segments[i]) {
        matched = false;
      }
    }
    if (matched) return { pattern: route.pattern, methods: route.methods, params };
  }
  return undefined;
}

/** What the HTTP layer needs besides the KMS. */
export interface HttpServerOptions {
  readonly kms: Kms;
  readonly auth: Authenticator;
  readonly faults: () => FaultInjector | undefined;
  readonly log?: (line: string) => void;
  /** Answers as lean as the official client allows (`strict.ts`). */
  readonly strict?: boolean;
  /**
   * Host names (lowercase, without port) besides IP literals of the listening address that a request's
   * `Host` may name, e.g. `localhost` and the `host` option as given.
   */
  readonly hostNames?: readonly string[];
}

/** The running HTTP server and its request log. */
export class EmulatorHttpServer {
  /** Every request so far (the most recent {@link MAX_LOG_ENTRIES}). */
  readonly requestLog: RequestLogEntry[] = [];
  readonly #server: Server;
  readonly #options: HttpServerOptions;

  constructor(options: HttpServerOptions) {
    this.#options = options;
    this.#server = createServer((req, res) => {
      this.handle(req, res).catch(() => {
        if (!res.headersSent) res.destroy();
      });
    });
    // Longer than clients' own idle timeouts (undici: 4 s), so a client never reuses a socket the emulator is
    // closing. With Node's 5 s default, a test that blocks its event loop (the emulator often runs in the
    // test's own process) can send on a socket whose close is already due, and see a spurious reset.
    this.#server.keepAliveTimeout = 30_000;
    // Requests Node's parser refuses (an unknown method, a bad header, oversized headers) get the API's JSON
    // error shape too, instead of Node's bare "400 Bad Request" without a body.
    this.#server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => this.clientError(err, socket));
  }

  private clientError(err: NodeJS.ErrnoException, socket: Socket): void {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    const message = status === 431 ? 'The request headers exceed the size limit.'
      : status === 408 ? 'The request was not received in time.'
      : 'The request is not valid HTTP/1.1 (request line, method, headers or framing).';
    // A HEAD request's answer has no body (the client would read one as the start of the next response).
    const head = (err as { rawPacket?: Buffer }).rawPacket?.subarray(0, 5).toString('latin1') === 'HEAD ';
    const body = head ? '' : JSON.stringify({ message });
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
    this.pushLog({ time: new Date().toISOString(), method: '-', path: '-', status, durationMs: 0 });
  }

  private pushLog(entry: RequestLogEntry): void {
    this.requestLog.push(entry);
    if (this.requestLog.length > MAX_LOG_ENTRIES) this.requestLog.splice(0, this.requestLog.length - MAX_LOG_ENTRIES);
    this.#options.log?.(formatLogLine(entry));
  }

  /**
   * Why the `Host` header does not name this server, or undefined when it does. A browser page whose name is
   * rebound to 127.0.0.1 (DNS rebinding) reaches the emulator with its own name in `Host`; only the address
   * the emulator listens on (an IP literal of it, or a name it was started with, such as `localhost`) is
   * accepted.
   */
  private hostProblem(host: string | undefined): string | undefined {
    const address = this.#server.address() as AddressInfo | null;
    if (address === null) return undefined;
    const refused = 'The Host header does not name the address this emulator listens on (a DNS rebinding guard); use its URL as printed at start-up.';
    const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::([0-9]{1,5}))?$/.exec((host ?? '').trim());
    if (m === null) return refused;
    // The name only: a rebinding page must use the emulator's own port to reach it at all, and a relay or
    // proxy in front of it (tests have one) names its own port.
    const name = m[1].replace(/^\[|\]$/g, '').toLowerCase().replace(/\.$/, '');
    const wildcard = address.address === '0.0.0.0' || address.address === '::';
    if (isIP(name) !== 0) return wildcard || name === address.address.toLowerCase() ? undefined : refused;
    return (this.#options.hostNames ?? []).includes(name) ? undefined : refused;
  }

  /** Starts listening; resolves with the bound address. */
  listen(host: string, port: number): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => {
        this.#server.off('error', reject);
        resolve(this.#server.address() as AddressInfo);
      });
    });
  }

  /** Stops accepting connections, lets in-flight requests finish (2 s at most), then closes every socket. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      const force = setTimeout(() => this.#server.closeAllConnections(), 2000);
      force.unref();
      this.#server.close(() => {
        clearTimeout(force);
        resolve();
      });
      this.#server.closeIdleConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const time = new Date().toISOString();
    const method = req.method ?? 'GET';
    const url = requestUrl(req.url);
    const record = (status: number, fault?: RequestLogEntry['fault']): void => {
      this.pushLog({ time, method, path: loggablePath(url ?? INVALID_TARGET), status, durationMs: Math.round(performance.now() - started), ...(fault ? { fault } : {}) });
    };
    const misdirected = this.hostProblem(req.headers.host);
    if (misdirected !== undefined) {
      send(res, { status: 421, body: { message: misdirected } });
      record(421);
      return;
    }
    if (url === undefined) {
      // e.g. "GET //[ HTTP/1.1": the parser lets it through, but it is no URL. It used to throw here, and the
      // connection was cut without an answer.
      send(res, { status: 400, body: { message: 'The request target is not a valid URL path.' } });
      record(400);
      return;
    }

    const decision: FaultDecision = this.#options.faults()?.decide(method, url.pathname) ?? { delayMs: 0 };
    if (decision.delayMs > 0) await sleep(decision.delayMs);
    const terminal = decision.terminal;
    if (terminal?.kind === 'reset') {
      req.socket.destroy();
      record(0, 'reset');
      return;
    }
    if (terminal && terminal.kind !== 'drop-after-commit') {
      const reply = terminal.kind === '429'
        ? { status: 429, body: { message: 'Rate limited by the emulator (injected fault); retry later.' }, headers: { 'Retry-After': String(terminal.retryAfter ?? 1) } }
        : { status: Number(terminal.kind), body: { message: `Injected fault: ${terminal.kind === '500' ? 'internal error' : 'service unavailable'}.` } };
      send(res, reply);
      record(reply.status, terminal.kind);
      return;
    }

    let reply: Reply;
    try {
      reply = await this.dispatch(req, method, url);
    } catch (err) {
      reply = err instanceof EmulatorError
        ? { status: err.status, body: { message: err.message }, headers: { ...err.headers } }
        // Anything unexpected: a generic message; the error's own text could quote inputs.
        : { status: 500, body: { message: 'Internal emulator error.' } };
    }
    if (terminal?.kind === 'drop-after-commit') {
      // The work is done and durable; the client just never hears about it.
      req.socket.destroy();
      record(reply.status, 'drop-after-commit');
      return;
    }
    send(res, reply);
    record(reply.status);
  }

  private async dispatch(req: IncomingMessage, method: string, url: URL): Promise<Reply> {
    const raw = await readBody(req);
    if (url.pathname === OIDC_TOKEN_PATH) {
      if (method !== 'POST') throw methodNotAllowed(method, ['POST']);
      return this.lean(OIDC_TOKEN_PATH, method, this.tokenRequest(req, raw));
    }
    const route = matchRoute(url.pathname);
    if (route === undefined) throw notFound(`No route for ${url.pathname.slice(0, 200)}.`);
    const handler = route.methods[method];
    if (handler === undefined) throw methodNotAllowed(method, Object.keys(route.methods));

    const boundTo = this.#options.auth.authenticate(req.headers.authorization);
    const organisation = headerValue(req, 'x-organisation-identity');
    if (organisation === undefined) throw badRequest('The X-Organisation-Identity header is required.');
    // A token bound to an organisation (--token T@ORG) is no credential for another one.
    if (boundTo !== undefined && !boundTo.includes(organisation)) throw unauthorized('Invalid credentials: the token is not accepted for this organisation.');
    const scope: RequestScope = { organisation, projectId: headerValue(req, 'x-project-identity') ?? null };
    const { kms } = this.#options;
    const region = route.params.region ?? '';
    if (route.params.region !== undefined) {
      kms.checkFeature(scope);
      kms.checkRegion(region);
    }
    let parsed: JsonObject | undefined;
    const body = (): JsonObject => (parsed ??= parseJsonObject(raw));
    return this.lean(route.pattern, method, await handler({ kms, scope, region, id: route.params.id ?? '', query: url.searchParams, body }));
  }

  private lean(pattern: string, method: string, reply: Reply): Reply {
    return this.#options.strict ? leanReply(pattern, method, reply) : reply;
  }

  private tokenRequest(req: IncomingMessage, raw: Buffer): Reply {
    let form: URLSearchParams;
    if ((req.headers['content-type'] ?? '').includes('application/json')) {
      const json = parseJsonObject(raw);
      form = new URLSearchParams(Object.entries(json).filter(([, v]) => typeof v === 'string') as [string, string][]);
    } else {
      form = new URLSearchParams(raw.toString('utf8'));
    }
    const result = this.#options.auth.issueToken(form, parseBasicAuth(req.headers.authorization));
    return { status: result.status, body: result.body, headers: { 'Cache-Control': 'no-store' } };
  }
}

const BASE_URL = 'http://emulator.invalid';
const INVALID_TARGET = new URL('/(invalid-request-target)', BASE_URL);

/** The request target as a URL, or undefined when it does not parse as one. */
function requestUrl(target: string | undefined): URL | undefined {
  try {
    return new URL(target ?? '/', BASE_URL);
  } catch {
    return undefined;
  }
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  const text = Array.isArray(value) ? value[0] : value;
  return text === undefined || text.trim() === '' ? undefined : text.trim();
}

function parseJsonObject(raw: Buffer): JsonObject {
  if (raw.length === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch {
    throw badRequest('The request body is not valid JSON.');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw badRequest('The request body must be a JSON object.');
  return value as JsonObject;
}

/** Reads the body up to {@link MAX_BODY_BYTES}; a larger one is drained (so the client sees the 413) and refused. */
function readBody(req: IncomingMessage): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > MAX_DRAIN_BYTES) {
    req.socket.destroy();
    return Promise.reject(payloadTooLarge(MAX_BODY_BYTES));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_DRAIN_BYTES) req.socket.destroy();
      else if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => (size > MAX_BODY_BYTES ? reject(payloadTooLarge(MAX_BODY_BYTES)) : resolve(Buffer.concat(chunks))));
    req.on('error', reject);
    req.on('close', () => {
      if (!req.complete) reject(badRequest('The request body was cut short.'));
    });
  });
}

function send(res: ServerResponse, reply: Reply): void {
  if (res.destroyed) return;
  const headers: Record<string, string> = { ...reply.headers };
  if (reply.status === 204 || reply.body === undefined) {
    res.writeHead(reply.status, headers).end();
    return;
  }
  const text = JSON.stringify(reply.body);
  headers['Content-Type'] = 'application/json; charset=utf-8';
  headers['Content-Length'] = String(Buffer.byteLength(text));
  res.writeHead(reply.status, headers).end(text);
}
