/**
 * The `Authorization` header for each request: a PAT (`Token …`), an OIDC access token (`Bearer …`), or a
 * client-credentials token fetched from `{endpoint}/oidc/token` (or THALASSA_OIDC_TOKEN_URL) and cached until shortly before it expires.
 */
import type { Dispatcher } from 'undici';
import type { ApiConfig } from './config';
import { readAnswerText } from './answers';
import { ApiError } from './errors';
import { request } from './undici';

// Refresh this long before the server's expiry, so a token never expires in flight.
const EXPIRY_MARGIN_MS = 30_000;

export class Authorizer {
  private cached?: { header: string; expiresAt: number };
  private pending?: Promise<string>;

  constructor(private readonly config: ApiConfig, private readonly dispatcher: Dispatcher) {}

  /** The header value for the next request. */
  public async header(): Promise<string> {
    const credentials = this.config.credentials;
    if (credentials.kind === 'token') return `Token ${credentials.token}`;
    if (credentials.kind === 'access-token') return `Bearer ${credentials.token}`;
    if (this.cached && this.cached.expiresAt > Date.now()) return this.cached.header;
    // One token request at a time, however many API calls are waiting for it.
    this.pending ??= this.fetchToken().finally(() => { this.pending = undefined; });
    return this.pending;
  }

  /** Forgets a cached client-credentials token (after a 401). True when there was one to forget. */
  public invalidate(): boolean {
    const had = this.cached !== undefined;
    this.cached = undefined;
    return had && this.config.credentials.kind === 'client-credentials';
  }

  private async fetchToken(): Promise<string> {
    const credentials = this.config.credentials;
    if (credentials.kind !== 'client-credentials') throw new Error('unreachable');
    const url = this.config.oidcTokenUrl;
    const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: credentials.clientId, client_secret: credentials.clientSecret }).toString();
    let response: Dispatcher.ResponseData;
    let text: string;
    // The same deadline and size limit as every API call: the token endpoint is no more trusted than the API.
    const signal = AbortSignal.timeout(this.config.attemptDeadlineMs);
    try {
      response = await request(this.dispatcher, {
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body,
        signal,
      });
      text = await readAnswerText(response, this.config.maxAnswerBytes, { method: 'POST', path: url.pathname });
    } catch (err) {
      if (err instanceof ApiError) throw err;
      const what = signal.aborted ? `no complete answer within the deadline of ${this.config.attemptDeadlineMs} ms (attemptDeadlineMs)` : (err as { code?: string }).code ?? 'network error';
      throw new ApiError('API_NETWORK', `Cannot reach ${url.origin} to get an access token (${what}). Check THALASSA_API_ENDPOINT and the network.`, { method: 'POST', path: url.pathname });
    }
    if (response.statusCode === 400 || response.statusCode === 401) {
      throw new ApiError('API_UNAUTHORIZED', `The token endpoint rejected the client credentials (${response.statusCode}). Check THALASSA_CLIENT_ID and THALASSA_CLIENT_SECRET (from ${credentials.source}).`, { status: response.statusCode, method: 'POST', path: url.pathname });
    }
    let parsed: { access_token?: unknown; expires_in?: unknown };
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = {};
    }
    if (response.statusCode !== 200 || typeof parsed.access_token !== 'string' || parsed.access_token === '') {
      throw new ApiError('API_PROTOCOL', `The token endpoint answered ${response.statusCode} without an access_token.`, { status: response.statusCode, method: 'POST', path: url.pathname });
    }
    const lifetimeMs = (typeof parsed.expires_in === 'number' && parsed.expires_in > 0 ? parsed.expires_in : 300) * 1000;
    const header = `Bearer ${parsed.access_token}`;
    this.cached = { header, expiresAt: Date.now() + Math.max(lifetimeMs - EXPIRY_MARGIN_MS, lifetimeMs / 2) };
    return header;
  }
}

export function withTrailingSlash(url: URL): URL {
  return url.pathname.endsWith('/') ? url : new URL(`${url.href}/`);
}
