/**
 * API settings from explicit options or the environment, with the variable names Thalassa's own Terraform
 * provider uses, so one set of exports serves both tools.
 */
import { isIP } from 'node:net';
import { ApiError } from './errors';

export const DEFAULT_ENDPOINT = 'https://api.thalassa.cloud';

/** How requests are authenticated. */
export type Credentials =
  | { readonly kind: 'token'; readonly token: string; readonly source: string }
  | { readonly kind: 'access-token'; readonly token: string; readonly source: string }
  | { readonly kind: 'client-credentials'; readonly clientId: string; readonly clientSecret: string; readonly source: string };

/** Options for a {@link KmsClient}; every one falls back to its environment variable. */
export interface ApiClientOptions {
  /** @default THALASSA_API_ENDPOINT, else https://api.thalassa.cloud */
  readonly endpoint?: string;
  /** A personal access token, sent as `Authorization: Token …`. @default THALASSA_API_TOKEN */
  readonly token?: string;
  /** An OIDC access token, sent as `Authorization: Bearer …`. @default THALASSA_ACCESS_TOKEN */
  readonly accessToken?: string;
  /** OIDC client-credentials grant. @default THALASSA_CLIENT_ID / THALASSA_CLIENT_SECRET */
  readonly clientId?: string;
  readonly clientSecret?: string;
  /** Sent as `X-Organisation-Identity`. @default THALASSA_ORGANISATION */
  readonly organisation?: string;
  /** Sent as `X-Project-Identity`. @default THALASSA_PROJECT_ID */
  readonly projectId?: string;
  /** @default 10_000 */
  readonly connectTimeoutMs?: number;
  /** Time to the response headers, and between body chunks. @default 30_000 */
  readonly requestTimeoutMs?: number;
  /**
   * Overall deadline of one attempt, from sending the request to the last byte of the answer (headers and body
   * together), so a server that trickles its answer cannot hold a call open. @default 60_000
   */
  readonly attemptDeadlineMs?: number;
  /** Largest answer body read; a longer one is cut off at this size, refused and not retried. @default 16 MiB */
  readonly maxAnswerBytes?: number;
  /** Attempts for a retryable call (reads, deletes, updates), the first included. @default 5 */
  readonly maxAttempts?: number;
  /** First backoff step; doubles per attempt, with full jitter. @default 250 */
  readonly retryBaseDelayMs?: number;
  /** Longest single wait, including a server's Retry-After. @default 20_000 */
  readonly retryMaxDelayMs?: number;
  /** Receives one line per request (method, path, status, attempt, time). Never tokens or bodies. */
  readonly log?: (line: string) => void;
  /** The environment to read; tests pass their own. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
}

/** Resolved, validated settings. */
export interface ApiConfig {
  readonly endpoint: URL;
  readonly credentials: Credentials;
  readonly organisation: string;
  readonly projectId?: string;
  readonly connectTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly attemptDeadlineMs: number;
  readonly maxAnswerBytes: number;
  readonly maxAttempts: number;
  readonly retryBaseDelayMs: number;
  readonly retryMaxDelayMs: number;
  readonly log?: (line: string) => void;
}

/** One attempt's overall deadline (headers and body), unless `attemptDeadlineMs` says otherwise. */
export const DEFAULT_ATTEMPT_DEADLINE_MS = 60_000;
/** The largest answer body read, unless `maxAnswerBytes` says otherwise: far above any real KMS answer. */
export const DEFAULT_MAX_ANSWER_BYTES = 16 * 1024 * 1024;

function positive(value: number | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isFinite(value) || value <= 0) throw new ApiError('API_CONFIG', `The ${name} option must be a positive number; received ${String(value)}.`);
  return value;
}

const nonEmpty = (value: string | undefined): string | undefined => (value === undefined || value.trim() === '' ? undefined : value.trim());

/** Resolves options against the environment; throws `API_CONFIG` naming the variable to set. */
export function resolveApiConfig(options: ApiClientOptions = {}): ApiConfig {
  const env = options.env ?? process.env;
  const endpointText = nonEmpty(options.endpoint) ?? nonEmpty(env.THALASSA_API_ENDPOINT) ?? DEFAULT_ENDPOINT;
  const endpoint = parseEndpoint(endpointText);
  const organisation = nonEmpty(options.organisation) ?? nonEmpty(env.THALASSA_ORGANISATION);
  if (organisation === undefined) {
    throw new ApiError('API_CONFIG', 'No organisation is set. Export THALASSA_ORGANISATION with your organisation identity (it is sent as X-Organisation-Identity).');
  }
  return {
    endpoint,
    credentials: resolveCredentials(options, env),
    organisation,
    projectId: nonEmpty(options.projectId) ?? nonEmpty(env.THALASSA_PROJECT_ID),
    connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
    requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
    attemptDeadlineMs: positive(options.attemptDeadlineMs, 'attemptDeadlineMs') ?? DEFAULT_ATTEMPT_DEADLINE_MS,
    maxAnswerBytes: positive(options.maxAnswerBytes, 'maxAnswerBytes') ?? DEFAULT_MAX_ANSWER_BYTES,
    maxAttempts: Math.max(1, options.maxAttempts ?? 5),
    retryBaseDelayMs: options.retryBaseDelayMs ?? 250,
    retryMaxDelayMs: options.retryMaxDelayMs ?? 20_000,
    log: options.log,
  };
}

function resolveCredentials(options: ApiClientOptions, env: NodeJS.ProcessEnv): Credentials {
  const token = nonEmpty(options.token);
  if (token) return { kind: 'token', token, source: 'the token option' };
  const accessToken = nonEmpty(options.accessToken);
  if (accessToken) return { kind: 'access-token', token: accessToken, source: 'the accessToken option' };
  if (nonEmpty(options.clientId) && nonEmpty(options.clientSecret)) {
    return { kind: 'client-credentials', clientId: nonEmpty(options.clientId)!, clientSecret: nonEmpty(options.clientSecret)!, source: 'the clientId/clientSecret options' };
  }
  const envToken = nonEmpty(env.THALASSA_API_TOKEN);
  if (envToken) return { kind: 'token', token: envToken, source: 'THALASSA_API_TOKEN' };
  const envAccess = nonEmpty(env.THALASSA_ACCESS_TOKEN);
  if (envAccess) return { kind: 'access-token', token: envAccess, source: 'THALASSA_ACCESS_TOKEN' };
  const clientId = nonEmpty(env.THALASSA_CLIENT_ID);
  const clientSecret = nonEmpty(env.THALASSA_CLIENT_SECRET);
  if (clientId && clientSecret) return { kind: 'client-credentials', clientId, clientSecret, source: 'THALASSA_CLIENT_ID/THALASSA_CLIENT_SECRET' };
  if (clientId || clientSecret) {
    throw new ApiError('API_CONFIG', `${clientId ? 'THALASSA_CLIENT_ID' : 'THALASSA_CLIENT_SECRET'} is set but ${clientId ? 'THALASSA_CLIENT_SECRET' : 'THALASSA_CLIENT_ID'} is not; the client-credentials grant needs both.`);
  }
  throw new ApiError(
    'API_CONFIG',
    'No Thalassa credentials are set. Export THALASSA_API_TOKEN (a personal access token), THALASSA_ACCESS_TOKEN (an OIDC access token), ' +
      'or THALASSA_CLIENT_ID and THALASSA_CLIENT_SECRET (an OIDC client for the client-credentials grant).',
  );
}

function parseEndpoint(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ApiError('API_CONFIG', `THALASSA_API_ENDPOINT ${JSON.stringify(text.slice(0, 200))} is not a URL; expected e.g. ${DEFAULT_ENDPOINT}.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ApiError('API_CONFIG', `THALASSA_API_ENDPOINT must be an https:// URL; received the scheme ${url.protocol}`);
  }
  if (url.username || url.password) {
    throw new ApiError('API_CONFIG', 'THALASSA_API_ENDPOINT must not contain credentials; use THALASSA_API_TOKEN or the other credential variables.');
  }
  if (url.protocol === 'http:' && url.hostname.toLowerCase().replace(/\.$/, '').endsWith('.localhost')) {
    throw new ApiError(
      'API_CONFIG',
      `THALASSA_API_ENDPOINT ${url.origin} uses plain http:// to a name under .localhost, which is resolved through DNS and may reach a host that is not loopback: tokens and wrapped key material could cross the network unencrypted. Use http://127.0.0.1 (or [::1], or exactly localhost) for the local emulator, or https://.`,
    );
  }
  if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
    throw new ApiError(
      'API_CONFIG',
      `THALASSA_API_ENDPOINT ${url.origin} uses plain http:// to a host that is not loopback: tokens and wrapped key material would cross the network unencrypted. Use https://, or http:// only to 127.0.0.1 / localhost / [::1] (the local emulator).`,
    );
  }
  return url;
}

/**
 * 127.0.0.0/8, ::1 and exactly `localhost`: the only hosts plain http:// may reach. A name under `.localhost`
 * (`foo.localhost`) is not: it goes to DNS like any other name, and nothing guarantees a loopback answer.
 */
export function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || host === '0:0:0:0:0:0:0:1';
  return false;
}
