/**
 * Strict mode: every answer as lean as the official client's types allow. The emulator's normal answers carry
 * every field it knows; the real API may leave out each field the Go client declares `omitempty` (or does not
 * have at all), and a workflow that reads one of them would work against the emulator and fail in production.
 * In strict mode those fields are left out, so the suite proves the workflows against the leanest answers.
 *
 * What is left out (docs/emulator.md, "Strict mode", has the same list):
 * - `KmsKey`: `organisation` (omitted when unknown), `latestVersion` and `objectVersion` (omitted when 0),
 *   `versions[].status`, and `deletionScheduledAt` (not a `KmsKey` field). Fields that are omitted only when
 *   empty (`description`, `labels`, `annotations`, `projectId`, `rotationPeriodInDays`, `imported`) already are
 *   in every mode, and are kept when set: a real API that dropped a set label would be another API, not a
 *   leaner answer.
 * - `DELETE …/keys/{id}`: 204 without a body (what the official client expects).
 * - encrypt, decrypt, sign, verify, hmac, verify-hmac, export: `keyVersion` (`omitempty` in the client).
 * - `GET /v1/kms/summary`: each region is `{slug, kmsAvailable}` only.
 * - `GET …/wrapping-key`: `{publicKey}` only.
 * - `POST /oidc/token`: no `expires_in` (RECOMMENDED, not required, in RFC 6749).
 */

interface Reply {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

type Json = Record<string, unknown>;

const KEY_FIELDS_LEFT_OUT = ['organisation', 'latestVersion', 'objectVersion', 'deletionScheduledAt'] as const;

/** A `KmsKey` view without the fields strict mode leaves out. */
export function leanKey(key: unknown): unknown {
  if (key === null || typeof key !== 'object' || Array.isArray(key)) return key;
  const lean: Json = { ...(key as Json) };
  for (const field of KEY_FIELDS_LEFT_OUT) delete lean[field];
  if (Array.isArray(lean.versions)) {
    lean.versions = (lean.versions as Json[]).map(({ status: _status, ...rest }) => rest);
  }
  return lean;
}

function without(body: unknown, ...fields: string[]): unknown {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return body;
  const lean: Json = { ...(body as Json) };
  for (const field of fields) delete lean[field];
  return lean;
}

const KEY_ROUTES = new Set(['/v1/kms/:region/keys/:id', '/v1/kms/:region/keys/:id/rotation', '/v1/kms/:region/keys/:id/rotate', '/v1/kms/:region/keys/:id/disable', '/v1/kms/:region/keys/:id/enable']);
const VERSIONED_ROUTES = new Set(['encrypt', 'decrypt', 'sign', 'verify', 'hmac', 'verify-hmac', 'export'].map((op) => `/v1/kms/:region/keys/:id/${op}`));

/** The strict form of a success answer of the route `pattern`; errors and unknown routes pass unchanged. */
export function leanReply(pattern: string, method: string, reply: Reply): Reply {
  if (reply.status < 200 || reply.status >= 300) return reply;
  if (pattern === '/v1/kms/:region/keys/:id' && method === 'DELETE') return { status: 204, headers: reply.headers };
  if (pattern === '/v1/kms/:region/keys') {
    return { ...reply, body: Array.isArray(reply.body) ? reply.body.map(leanKey) : leanKey(reply.body) };
  }
  if (KEY_ROUTES.has(pattern)) return { ...reply, body: leanKey(reply.body) };
  if (VERSIONED_ROUTES.has(pattern)) return { ...reply, body: without(reply.body, 'keyVersion') };
  if (pattern === '/v1/kms/:region/wrapping-key') return { ...reply, body: without(reply.body, 'algorithm') };
  if (pattern === '/v1/kms/summary') {
    const body = reply.body as { featureEnabled: boolean; regions: { slug: string; kmsAvailable: boolean }[] };
    return { ...reply, body: { featureEnabled: body.featureEnabled, regions: body.regions.map((r) => ({ slug: r.slug, kmsAvailable: r.kmsAvailable })) } };
  }
  if (pattern === '/oidc/token') return { ...reply, body: without(reply.body, 'expires_in') };
  return reply;
}
