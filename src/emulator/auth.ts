/**
 * Who may call the emulator: static tokens (personal access tokens, `Authorization: Token …`), and access
 * tokens issued by the OIDC client-credentials endpoint (`Authorization: Bearer …`). Issued tokens live in
 * memory only: after a restart clients fetch a new one, as they would after a real token expires.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { unauthorized } from './errors';

/** An OIDC client allowed to use the client-credentials grant. */
export interface OidcClient {
  readonly id: string;
  readonly secret: string;
}

/**
 * A static token accepted only for one organisation (`--token T@ORG`). List the same token once per
 * organisation to bind it to several, as a real user's token works for each organisation they belong to.
 */
export interface BoundToken {
  readonly token: string;
  readonly organisation: string;
}

/** The outcome of a token request, already shaped as the OAuth 2.0 response. */
export type TokenResponse =
  | { readonly status: 200; readonly body: { access_token: string; token_type: 'Bearer'; expires_in: number } }
  | { readonly status: 400 | 401; readonly body: { error: string } };

// Comparing digests keeps the comparison constant-time whatever the lengths.
function sameSecret(a: string, b: string): boolean {
  const da = createHash('sha256').update(a, 'utf8').digest();
  const db = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(da, db);
}

/** Checks `Authorization` headers and issues client-credentials tokens. */
export class Authenticator {
  readonly #tokens: readonly { token: string; organisation?: string }[] | undefined;
  readonly #clients: readonly OidcClient[] | undefined;
  readonly #lifetimeSeconds: number;
  readonly #issued = new Map<string, number>();

  constructor(options: { tokens?: readonly (string | BoundToken)[]; clients?: readonly OidcClient[]; tokenLifetimeSeconds?: number }) {
    this.#tokens = options.tokens && options.tokens.length > 0 ? options.tokens.map((t) => (typeof t === 'string' ? { token: t } : { token: t.token, organisation: t.organisation })) : undefined;
    this.#clients = options.clients && options.clients.length > 0 ? [...options.clients] : undefined;
    this.#lifetimeSeconds = options.tokenLifetimeSeconds ?? 3600;
  }

  /** True when any non-empty static token is accepted (no `tokens` were given). */
  get acceptsAnyToken(): boolean {
    return this.#tokens === undefined;
  }

  /** True when any non-empty client id and secret get a token (no `clients` were given). */
  get acceptsAnyClient(): boolean {
    return this.#clients === undefined;
  }

  /**
   * Throws a 401 {@link EmulatorError} unless the header carries an accepted token. Never echoes the token.
   * Returns the organisations the token is bound to, or undefined when it is valid for any organisation.
   */
  authenticate(header: string | undefined): readonly string[] | undefined {
    const match = /^(Token|Bearer)[ \t]+(\S+)[ \t]*$/i.exec(header ?? '');
    if (!header || header.trim() === '') throw unauthorized('Missing credentials: send "Authorization: Token <personal access token>" or "Authorization: Bearer <access token>".');
    if (!match) throw unauthorized('Malformed Authorization header: expected "Token <token>" or "Bearer <token>".');
    const token = match[2];
    const expiry = this.#issued.get(token);
    if (expiry !== undefined) {
      if (Date.now() < expiry) return undefined;
      this.#issued.delete(token);
      throw unauthorized('The access token has expired; request a new one at /oidc/token.');
    }
    if (this.#tokens === undefined) return undefined;
    // Every entry is compared, so the time taken does not tell which one matched.
    const found = this.#tokens.filter((entry) => sameSecret(entry.token, token));
    if (found.length === 0) throw unauthorized('Invalid credentials: the token is not accepted.');
    // Listed once without an organisation: valid for any.
    if (found.some((entry) => entry.organisation === undefined)) return undefined;
    return found.map((entry) => entry.organisation as string);
  }

  /**
   * The client-credentials grant. `form` is the parsed request body; `basic` the decoded HTTP Basic
   * credentials, if any (they win over body parameters, as RFC 6749 prefers).
   */
  issueToken(form: URLSearchParams, basic: { id: string; secret: string } | undefined): TokenResponse {
    const grant = form.get('grant_type');
    if (grant === null || grant === '') return { status: 400, body: { error: 'invalid_request' } };
    if (grant !== 'client_credentials') return { status: 400, body: { error: 'unsupported_grant_type' } };
    const id = basic?.id ?? form.get('client_id') ?? '';
    const secret = basic?.secret ?? form.get('client_secret') ?? '';
    if (id === '' || secret === '') return { status: 401, body: { error: 'invalid_client' } };
    if (this.#clients !== undefined && !this.#clients.some((c) => sameSecret(c.id, id) && sameSecret(c.secret, secret))) {
      return { status: 401, body: { error: 'invalid_client' } };
    }
    this.pruneExpired();
    const token = randomBytes(32).toString('base64url');
    this.#issued.set(token, Date.now() + this.#lifetimeSeconds * 1000);
    return { status: 200, body: { access_token: token, token_type: 'Bearer', expires_in: this.#lifetimeSeconds } };
  }

  private pruneExpired(): void {
    const now = Date.now();
    for (const [token, expiry] of this.#issued) if (expiry <= now) this.#issued.delete(token);
  }
}

/** Decodes `Authorization: Basic …` into client id and secret (form-urlencoded, per RFC 6749 §2.3.1). */
export function parseBasicAuth(header: string | undefined): { id: string; secret: string } | undefined {
  const match = /^Basic[ \t]+([A-Za-z0-9+/=]+)[ \t]*$/i.exec(header ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  const unescape = (s: string): string => {
    try {
      return decodeURIComponent(s.replace(/\+/g, ' '));
    } catch {
      return s;
    }
  };
  return { id: unescape(decoded.slice(0, colon)), secret: unescape(decoded.slice(colon + 1)) };
}
