/**
 * One HTTP exchange with the API, with retries: a keep-alive undici agent that honours HTTPS_PROXY /
 * NO_PROXY, JSON in and out, typed errors with actionable messages, and exponential backoff with full
 * jitter (or the server's Retry-After) for the calls that are safe to repeat.
 */
import type { Dispatcher } from 'undici';
import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { readAnswerText, sanitizeApiText, type Where } from './answers';
import { Authorizer, withTrailingSlash } from './auth';
import type { ApiConfig } from './config';
import { ApiError, type ApiErrorCode } from './errors';
import { createDispatcher, request } from './undici';

/**
 * When a call may be sent again after a failure:
 * - `always`: reads and idempotent writes (GET, DELETE, PATCH, pure crypto operations);
 * - `unsent-only`: a create — re-sent only when the server certainly did not act on it (429, or no connection);
 *   anything else that leaves the outcome unknown is reported with `outcomeUnknown` for the caller to resolve.
 */
export type RetryPolicy = 'always' | 'unsent-only';

export interface CallOptions<T = unknown> {
  readonly query?: URLSearchParams;
  readonly body?: unknown;
  readonly retry: RetryPolicy;
  /** Words for messages: which region, which key. */
  readonly context?: { readonly region?: string; readonly key?: string };
  /**
   * Checks a success answer's parsed body and returns it typed, or throws (`API_BAD_ANSWER`, see `answers.ts`).
   * A refused answer is not retried. Without it the body is returned unchecked.
   */
  readonly check?: (value: unknown, where: Where) => T;
}

// Connection failures that happen before a request byte reaches the server.
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT', 'EHOSTUNREACH', 'ENETUNREACH']);
const RETRYABLE_CODES = new Set<ApiErrorCode>(['API_RATE_LIMITED', 'API_UNAVAILABLE', 'API_NETWORK']);

export class Transport {
  public readonly dispatcher: Dispatcher;
  private readonly authorizer: Authorizer;
  private readonly base: URL;

  /**
   * Set by {@link close}: a call still in flight then (a lookup the caller no longer awaits, because another
   * one failed first) is aborted, and one waiting to retry gives up, rather than keep the process alive.
   */
  private readonly closing = new AbortController();

  constructor(public readonly config: ApiConfig) {
    this.dispatcher = createDispatcher({
      connect: { timeout: config.connectTimeoutMs },
      headersTimeout: config.requestTimeoutMs,
      bodyTimeout: config.requestTimeoutMs,
      keepAliveTimeout: 10_000,
      // Node's default, given so that undici need not ask node:http for it (the apply-step bundle then never
      // loads node:http; bundle.mjs). It no longer follows --max-http-header-size: the API's answers carry a
      // few headers, far below it.
      maxHeaderSize: 16 * 1024,
    });
    // One listener per call in flight (a sweep lists every region at once): not a leak.
    setMaxListeners(0, this.closing.signal);
    this.authorizer = new Authorizer(config, this.dispatcher);
    this.base = withTrailingSlash(config.endpoint);
  }

  /** Aborts calls still in flight or waiting to retry, and closes the keep-alive connections. */
  public async close(): Promise<void> {
    this.closing.abort();
    await this.dispatcher.close();
  }

  /** Sends one API call (path relative to the endpoint, e.g. `v1/kms/nl-01/keys`), retrying per `options.retry`. */
  public async call<T>(method: string, path: string, options: CallOptions<T>): Promise<T> {
    const url = new URL(path, this.base);
    if (options.query) url.search = options.query.toString();
    const where: Where = { method, path: url.pathname };
    let reauthorized = false;
    for (let attempt = 1; ; attempt++) {
      const started = Date.now();
      // One deadline for the whole attempt, headers and body: requestTimeoutMs alone restarts with every chunk,
      // so a server trickling a byte at a time could hold the call open for ever.
      if (this.closing.signal.aborted) throw closedError(method, url);
      const deadline = new AbortController();
      const timer = setTimeout(() => deadline.abort(), this.config.attemptDeadlineMs);
      const onClose = (): void => deadline.abort();
      this.closing.signal.addEventListener('abort', onClose, { once: true });
      let error: ApiError;
      try {
        const response = await this.send(method, url, options.body, deadline.signal);
        const text = await readAnswerText(response, this.config.maxAnswerBytes, where);
        this.logLine(method, url.pathname, String(response.statusCode), attempt, started);
        if (response.statusCode >= 200 && response.statusCode < 300) {
          const value = parseBody(text, method, url.pathname);
          return options.check ? options.check(value, where) : (value as T);
        }
        error = statusError(response.statusCode, text, response.headers, method, url.pathname, this.config, options.context);
        if (error.status === 401 && !reauthorized && this.authorizer.invalidate()) {
          reauthorized = true; // a cached OIDC token may have been revoked: fetch a new one once
          attempt--;
          continue;
        }
      } catch (err) {
        if (err instanceof ApiError) {
          if (err.code === 'API_ANSWER_TOO_LARGE') this.logLine(method, url.pathname, 'answer-too-large', attempt, started);
          throw err;
        }
        if (this.closing.signal.aborted) throw closedError(method, url);
        if (deadline.signal.aborted) {
          error = deadlineError(method, url, this.config);
          this.logLine(method, url.pathname, 'deadline', attempt, started);
        } else {
          error = networkError(err, method, url, this.config);
          this.logLine(method, url.pathname, (err as { code?: string }).code ?? 'network-error', attempt, started);
        }
      } finally {
        clearTimeout(timer);
        this.closing.signal.removeEventListener('abort', onClose);
      }
      const mayRetry = options.retry === 'always' ? RETRYABLE_CODES.has(error.code) : error.code === 'API_RATE_LIMITED' || (error.code === 'API_NETWORK' && !error.outcomeUnknown);
      if (!mayRetry || attempt >= this.config.maxAttempts) throw error;
      try {
        await sleep(this.backoff(attempt, error.retryAfterSeconds), undefined, { signal: this.closing.signal });
      } catch {
        throw error; // closed while waiting: the caller has gone, the last answer stands
      }
    }
  }

  private async send(method: string, url: URL, body: unknown, signal: AbortSignal): Promise<Dispatcher.ResponseData> {
    const headers: Record<string, string> = {
      accept: 'application/json',
      authorization: await this.authorizer.header(),
      'x-organisation-identity': this.config.organisation,
      'user-agent': 'cdktf-thalassa-byok',
    };
    if (this.config.projectId) headers['x-project-identity'] = this.config.projectId;
    if (body !== undefined) headers['content-type'] = 'application/json';
    return request(this.dispatcher, {
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method: method as Dispatcher.HttpMethod,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
  }

  /** Full jitter over an exponential ceiling; a server's Retry-After wins when it is given. */
  private backoff(attempt: number, retryAfterSeconds: number | undefined): number {
    if (retryAfterSeconds !== undefined) return Math.min(retryAfterSeconds * 1000, this.config.retryMaxDelayMs);
    const ceiling = Math.min(this.config.retryMaxDelayMs, this.config.retryBaseDelayMs * 2 ** (attempt - 1));
    return Math.round(Math.random() * ceiling);
  }

  private logLine(method: string, path: string, outcome: string, attempt: number, started: number): void {
    this.config.log?.(`${method} ${path} -> ${outcome} (attempt ${attempt}, ${Date.now() - started} ms)`);
  }
}

function parseBody(text: string, method: string, path: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ApiError('API_PROTOCOL', `${method} ${path} answered with a body that is not JSON.`, { method, path });
  }
}

/**
 * The API's own error message, sanitized: a server may echo the request in it (for a create, the wrapped
 * blob), so it is never shown verbatim — see {@link sanitizeApiText}.
 */
function apiMessageOf(text: string): string | undefined {
  try {
    const message = (JSON.parse(text) as { message?: unknown } | null)?.message;
    if (typeof message !== 'string') return undefined;
    const shown = sanitizeApiText(message);
    return shown === '' ? undefined : shown;
  } catch {
    return undefined;
  }
}

function retryAfterOf(headers: Dispatcher.ResponseData['headers']): number | undefined {
  const raw = headers['retry-after'];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, (date - Date.now()) / 1000);
}

/** An error whose message tells the user what to change: which variable, which permission, which region. */
function statusError(
  status: number, text: string, headers: Dispatcher.ResponseData['headers'], method: string, path: string,
  config: ApiConfig, context: CallOptions['context'] = {},
): ApiError {
  const apiMessage = apiMessageOf(text);
  const said = apiMessage ? ` The API said: "${apiMessage}".` : '';
  const where = `${method} ${path} answered ${status}.`;
  const region = context.region ? `region ${context.region}` : 'the region';
  const details = { status, method, path, apiMessage };
  switch (true) {
    case status === 401:
      return new ApiError('API_UNAUTHORIZED', `${where}${said} The credentials from ${config.credentials.source} were rejected: check that the token is valid and not expired.`, details);
    case status === 403:
      return new ApiError('API_FORBIDDEN', `${where}${said} The KMS feature is not enabled for organisation ${config.organisation} (THALASSA_ORGANISATION); ask an organisation admin to enable KMS.`, details);
    case status === 404:
      return new ApiError(
        'API_NOT_FOUND',
        `${where}${said} Either ${region} does not exist, ${context.key ? `key ${context.key} does not exist, ` : ''}the key belongs to another project ` +
          `(THALASSA_PROJECT_ID is ${config.projectId ?? 'not set'}), or the credentials from ${config.credentials.source} lack the IAM permission for KMS keys in organisation ${config.organisation} (Thalassa answers 404, not 403, for missing permissions).`,
        details,
      );
    case status === 409:
      return new ApiError('API_CONFLICT', `${where}${said} A key with that name already exists in ${region} (a key pending deletion keeps its name for 30 days).`, details);
    case status === 429:
      return new ApiError('API_RATE_LIMITED', `${where}${said} Rate limited; retried with backoff and gave up.`, { ...details, retryAfterSeconds: retryAfterOf(headers) });
    case status === 502 || status === 503 || status === 504:
      return new ApiError('API_UNAVAILABLE', `${where}${said} KMS is not available in ${region} right now; try again later or use another region.`, { ...details, outcomeUnknown: true, retryAfterSeconds: retryAfterOf(headers) });
    case status >= 500:
      return new ApiError('API_SERVER_ERROR', `${where}${said} A server error; the request may or may not have been carried out.`, { ...details, outcomeUnknown: true });
    default:
      return new ApiError('API_BAD_REQUEST', `${where}${said}`, details);
  }
}

function deadlineError(method: string, url: URL, config: ApiConfig): ApiError {
  const write = method !== 'GET';
  return new ApiError(
    'API_NETWORK',
    `${method} ${url.pathname} to ${url.origin} failed: no complete answer within the deadline of ${config.attemptDeadlineMs} ms for one attempt (attemptDeadlineMs), headers and body together.` +
      (write ? ` The outcome of this ${method} is unknown: the server may have carried it out.` : '') +
      ` Check THALASSA_API_ENDPOINT (${config.endpoint.origin}), the network and any HTTPS_PROXY / NO_PROXY settings.`,
    { method, path: url.pathname, outcomeUnknown: true },
  );
}

/** A call its client was closed under; a write's outcome is unknown. */
function closedError(method: string, url: URL): ApiError {
  return new ApiError('API_NETWORK', `${method} ${url.pathname} was abandoned: its API client was closed while the call was in flight.`, {
    method, path: url.pathname, outcomeUnknown: method !== 'GET',
  });
}

function networkError(err: unknown, method: string, url: URL, config: ApiConfig): ApiError {
  // An error without a code is a fault of ours or of undici rather than of the network: name its class (not
  // its text, which could quote a header value).
  const code = (err as { code?: string }).code ?? `${(err as Error)?.name ?? 'error'} without a code`;
  const notSent = NOT_SENT_CODES.has(code);
  const what = code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' ? `no answer within ${config.requestTimeoutMs} ms` : `network error ${code}`;
  return new ApiError(
    'API_NETWORK',
    `${method} ${url.pathname} to ${url.origin} failed: ${what}. Check THALASSA_API_ENDPOINT (${config.endpoint.origin}), the network and any HTTPS_PROXY / NO_PROXY settings.`,
    { method, path: url.pathname, outcomeUnknown: !notSent },
  );
}
