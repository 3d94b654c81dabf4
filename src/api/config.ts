/**
 * API settings from explicit options or the environment, with the variable names Thalassa's own Terraform
 * provider uses, so one set of exports serves both tools.
 */
import { isIP } from 'node:net';
import { shownValue } from '../disclosure';
import { ApiError } from './errors';

export const DEFAULT_ENDPOINT = 'https://api.thalassa.cloud';

/** How requests are authenticated. */
export type Credentials = (
  | { readonly kind: 'token'; readonly token: string; readonly source: string }
  | { readonly kind: 'access-token'; readonly token: string; readonly source: string }
  | { readonly kind: 'client-credentials'; readonly clientId: string; readonly clientSecret: string; readonly source: string }
) & {
  /** Where other credentials were set but not used (names of options or variables; never values). */
  readonly ignored?: readonly string[];
};

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
  /**
   * Where the client-credentials token is fetched. @default THALASSA_OIDC_TOKEN_URL, else `{endpoint}/oidc/token`
   */
  readonly oidcTokenUrl?: string;
  /** Allows a plain http:// token endpoint off loopback. @default THALASSA_ALLOW_INSECURE_OIDC (1/true/yes/on) */
  readonly allowInsecureOidc?: boolean;
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
  /** Attempts for a retryable call (reads, deletes, updates), the first included. @default THALASSA_API_MAX_ATTEMPTS, else 5 */
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
  /** The client-credentials token endpoint (used only with client credentials). */
  readonly oidcTokenUrl: URL;
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

/** THALASSA_API_MAX_ATTEMPTS: a whole number of attempts from 1 to 20 (a retried call waits up to 20 s each time). */
function attemptsFromEnv(text: string | undefined): number | undefined {
  const value = nonEmpty(text);
  if (value === undefined) return undefined;
  const attempts = /^\d{1,2}$/.test(value) ? Number(value) : NaN;
  if (!(attempts >= 1 && attempts <= 20)) {
    throw new ApiError('API_CONFIG', `THALASSA_API_MAX_ATTEMPTS must be a whole number from 1 to 20 (attempts of a retried call, the first included; default 5); received ${shownValue(value)}.`);
  }
  return attempts;
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
    oidcTokenUrl: resolveTokenUrl(options, env, endpoint),
    organisation,
    projectId: nonEmpty(options.projectId) ?? nonEmpty(env.THALASSA_PROJECT_ID),
    connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
    requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
    attemptDeadlineMs: positive(options.attemptDeadlineMs, 'attemptDeadlineMs') ?? DEFAULT_ATTEMPT_DEADLINE_MS,
    maxAnswerBytes: positive(options.maxAnswerBytes, 'maxAnswerBytes') ?? DEFAULT_MAX_ANSWER_BYTES,
    maxAttempts: Math.max(1, options.maxAttempts ?? attemptsFromEnv(env.THALASSA_API_MAX_ATTEMPTS) ?? 5),
    retryBaseDelayMs: options.retryBaseDelayMs ?? 250,
    retryMaxDelayMs: options.retryMaxDelayMs ?? 20_000,
    log: options.log,
  };
}

/** One credential as found in one place (an option or a variable), before precedence is applied. */
type Candidate = Credentials;

/**
 * The credential used, by the official Terraform provider's precedence: it applies the personal token, then
 * the access token, then client credentials, the last applied winning, so client credentials beat an access
 * token, which beats a personal token. Explicit options beat the environment as a whole (options are what a
 * caller chose in code). The credentials found but not used are named in `ignored` (names only, never
 * values), so a command can say which one it uses.
 */
function resolveCredentials(options: ApiClientOptions, env: NodeJS.ProcessEnv): Credentials {
  const fromOptions = candidates(
    { token: options.token, accessToken: options.accessToken, clientId: options.clientId, clientSecret: options.clientSecret },
    { token: 'the token option', accessToken: 'the accessToken option', clientId: 'the clientId option', clientSecret: 'the clientSecret option', client: 'the clientId/clientSecret options' },
  );
  const fromEnv = candidates(
    { token: env.THALASSA_API_TOKEN, accessToken: env.THALASSA_ACCESS_TOKEN, clientId: env.THALASSA_CLIENT_ID, clientSecret: env.THALASSA_CLIENT_SECRET },
    { token: 'THALASSA_API_TOKEN', accessToken: 'THALASSA_ACCESS_TOKEN', clientId: 'THALASSA_CLIENT_ID', clientSecret: 'THALASSA_CLIENT_SECRET', client: 'THALASSA_CLIENT_ID/THALASSA_CLIENT_SECRET' },
  );
  const all = [...fromOptions, ...fromEnv];
  if (all.length === 0) {
    throw new ApiError(
      'API_CONFIG',
      'No Thalassa credentials are set. Export THALASSA_API_TOKEN (a personal access token), THALASSA_ACCESS_TOKEN (an OIDC access token), ' +
        'or THALASSA_CLIENT_ID and THALASSA_CLIENT_SECRET (an OIDC client for the client-credentials grant).',
    );
  }
  const [chosen, ...ignored] = all;
  return ignored.length === 0 ? chosen : { ...chosen, ignored: ignored.map((c) => c.source) };
}

/**
 * The credentials of one place, strongest first (client credentials, access token, personal token). Half a
 * client-credentials pair is an error even beside a token: client credentials would win, so the caller
 * clearly meant to use them.
 */
function candidates(
  values: { token?: string; accessToken?: string; clientId?: string; clientSecret?: string },
  names: { token: string; accessToken: string; clientId: string; clientSecret: string; client: string },
): Candidate[] {
  const found: Candidate[] = [];
  const clientId = nonEmpty(values.clientId);
  const clientSecret = nonEmpty(values.clientSecret);
  if (clientId && clientSecret) found.push({ kind: 'client-credentials', clientId, clientSecret, source: names.client });
  else if (clientId || clientSecret) {
    throw new ApiError('API_CONFIG', `${clientId ? names.clientId : names.clientSecret} is set but ${clientId ? names.clientSecret : names.clientId} is not; the client-credentials grant needs both.`);
  }
  const accessToken = nonEmpty(values.accessToken);
  if (accessToken) found.push({ kind: 'access-token', token: accessToken, source: names.accessToken });
  const token = nonEmpty(values.token);
  if (token) found.push({ kind: 'token', token, source: names.token });
  return found;
}

/** `THALASSA_ALLOW_INSECURE_OIDC` as the provider reads a bool: 1/true/yes/on (any case) turn it on. */
function truthy(value: string | undefined): boolean {
  return value !== undefined && /^(1|true|yes|on)$/i.test(value.trim());
}

/**
 * The client-credentials token endpoint: `THALASSA_OIDC_TOKEN_URL` (this package's addition), else
 * `{endpoint}/oidc/token`. Plain http:// off loopback carries the client secret unencrypted, so it is
 * refused unless `THALASSA_ALLOW_INSECURE_OIDC` is set; the API endpoint's own rule is not relaxed by it.
 */
function resolveTokenUrl(options: ApiClientOptions, env: NodeJS.ProcessEnv, endpoint: URL): URL {
  const allowInsecure = options.allowInsecureOidc ?? truthy(env.THALASSA_ALLOW_INSECURE_OIDC);
  const text = nonEmpty(options.oidcTokenUrl) ?? nonEmpty(env.THALASSA_OIDC_TOKEN_URL);
  if (text === undefined) return new URL('oidc/token', endpoint.pathname.endsWith('/') ? endpoint : new URL(`${endpoint.href}/`));
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ApiError('API_CONFIG', `THALASSA_OIDC_TOKEN_URL ${JSON.stringify(text.slice(0, 200))} is not a URL; expected e.g. ${DEFAULT_ENDPOINT}/oidc/token.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ApiError('API_CONFIG', `THALASSA_OIDC_TOKEN_URL must be an https:// URL; received the scheme ${url.protocol}`);
  if (url.username || url.password) throw new ApiError('API_CONFIG', 'THALASSA_OIDC_TOKEN_URL must not contain credentials; use THALASSA_CLIENT_ID and THALASSA_CLIENT_SECRET.');
  if (url.protocol === 'http:' && !isLoopback(url.hostname) && !allowInsecure) {
    throw new ApiError(
      'API_CONFIG',
      `THALASSA_OIDC_TOKEN_URL ${url.origin} uses plain http:// to a host that is not loopback: the client secret would cross the network unencrypted. Use https://, or set THALASSA_ALLOW_INSECURE_OIDC=true if you accept that.`,
    );
  }
  return url;
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
