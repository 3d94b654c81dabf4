/**
 * The API contract as a schema, written from the table in thalassa-kms-api.md ("What the official client and
 * provider show"), with hand-written validators: a dozen lines of combinators say it as plainly as a schema
 * library would, and add no dependency. A validator returns the list of problems (empty = valid), each with
 * the JSON path, so a failure says which field drifted. Not a test file itself.
 */

export type Validator = (value: unknown, path: string) => string[];

const describe = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v);
const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

export const string: Validator = (v, p) => (typeof v === 'string' ? [] : [`${p}: expected a string, got ${describe(v)}`]);
export const nonEmptyString: Validator = (v, p) => (typeof v === 'string' && v !== '' ? [] : [`${p}: expected a non-empty string, got ${describe(v)}`]);
export const boolean: Validator = (v, p) => (typeof v === 'boolean' ? [] : [`${p}: expected a boolean, got ${describe(v)}`]);
export const integer: Validator = (v, p) => (Number.isSafeInteger(v) ? [] : [`${p}: expected an integer, got ${describe(v)}`]);
/** An RFC 3339 timestamp, as Go's time.Time encodes one. */
export const timestamp: Validator = (v, p) =>
  typeof v === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(v) && !Number.isNaN(Date.parse(v)) ? [] : [`${p}: expected an RFC 3339 timestamp, got ${JSON.stringify(v)}`];
/** A decimal version string, `"1"`: the official client's `keyVersion`. */
export const versionString: Validator = (v, p) => (typeof v === 'string' && /^[1-9][0-9]*$/.test(v) ? [] : [`${p}: expected a version string such as "1", got ${describe(v)} ${JSON.stringify(v)}`]);
export const base64: Validator = (v, p) => (typeof v === 'string' && /^[A-Za-z0-9+/]*={0,2}$/.test(v) && v.length % 4 === 0 ? [] : [`${p}: expected base64, got ${describe(v)}`]);

export const oneOf = (...values: readonly unknown[]): Validator => (v, p) => (values.includes(v) ? [] : [`${p}: expected one of ${values.map((x) => JSON.stringify(x)).join(', ')}, got ${JSON.stringify(v)}`]);
export const exactly = (value: unknown): Validator => oneOf(value);

/** Present fields only when the condition holds: "omitted when empty" means an empty value is a drift. */
export const when = (base: Validator, rule: (v: unknown) => boolean, what: string): Validator => (v, p) => {
  const problems = base(v, p);
  return problems.length > 0 || rule(v) ? problems : [`${p}: ${what}`];
};

export const array = (item: Validator): Validator => (v, p) => (Array.isArray(v) ? v.flatMap((x, i) => item(x, `${p}[${i}]`)) : [`${p}: expected an array, got ${describe(v)}`]);
export const stringMap: Validator = (v, p) => (isObject(v) ? Object.entries(v).flatMap(([k, x]) => string(x, `${p}.${k}`)) : [`${p}: expected an object of strings, got ${describe(v)}`]);

/**
 * An object with `required` and `optional` fields and nothing else: an unknown field is a drift too (the
 * emulator must not send what the official client does not know, or tests start depending on it). An
 * optional field is absent, never `null` (the client's `omitempty`).
 */
export const object = (required: Record<string, Validator>, optional: Record<string, Validator> = {}): Validator => (v, p) => {
  if (!isObject(v)) return [`${p}: expected an object, got ${describe(v)}`];
  const problems: string[] = [];
  for (const [field, check] of Object.entries(required)) {
    if (!(field in v)) problems.push(`${p}.${field}: required, missing`);
    else problems.push(...check(v[field], `${p}.${field}`));
  }
  for (const [field, value] of Object.entries(v)) {
    if (field in required) continue;
    if (!(field in optional)) problems.push(`${p}.${field}: not a field of this object`);
    else if (value === null) problems.push(`${p}.${field}: null, where the official client omits an absent field`);
    else problems.push(...optional[field](value, `${p}.${field}`));
  }
  return problems;
};

const nonEmptyMap = when(stringMap, (v) => Object.keys(v as object).length > 0, 'an empty object, where the official client omits it');

export const organisation = object(
  { identity: nonEmptyString, name: string, slug: string, createdAt: timestamp },
  { description: when(string, (v) => v !== '', 'empty, where it is omitted'), labels: nonEmptyMap, annotations: nonEmptyMap, updatedAt: timestamp },
);

export const keyVersionEntry = object({ version: integer, createdAt: timestamp }, { status: string });

/** `KmsKey`. `deletionScheduledAt` is the one field beyond the client's, documented in docs/emulator.md. */
export const kmsKey = object(
  {
    identity: nonEmptyString, name: nonEmptyString, slug: nonEmptyString, keyType: nonEmptyString,
    status: oneOf('active', 'disabled', 'pending_deletion'),
    exportAllowed: boolean, keyRotationEnabled: boolean,
    versions: array(keyVersionEntry),
    createdAt: timestamp, updatedAt: timestamp,
  },
  {
    description: when(string, (v) => v !== '', 'empty, where it is omitted'),
    projectId: when(string, (v) => v !== '', 'empty, where it is omitted'),
    labels: nonEmptyMap, annotations: nonEmptyMap,
    imported: when(boolean, (v) => v === true, 'false, where it is omitted'),
    rotationPeriodInDays: when(integer, (v) => (v as number) > 0, 'zero, where it is omitted'),
    latestVersion: when(integer, (v) => (v as number) > 0, 'zero, where it is omitted'),
    objectVersion: when(integer, (v) => (v as number) > 0, 'zero, where it is omitted'),
    organisation,
    deletionScheduledAt: timestamp,
  },
);

export const keyList = array(kmsKey);
export const errorAnswer = object({ message: nonEmptyString });
export const oauthError = object({ error: oneOf('invalid_request', 'invalid_client', 'unsupported_grant_type') });
export const tokenAnswer = object({ access_token: nonEmptyString, token_type: exactly('Bearer') }, { expires_in: when(integer, (v) => (v as number) > 0, 'not positive') });
export const summary = object({
  featureEnabled: boolean,
  regions: array(object({ slug: nonEmptyString, kmsAvailable: boolean }, { identity: string, name: string, totalKeys: integer, activeKeys: integer, disabledKeys: integer, pendingDeletionKeys: integer })),
});
export const wrappingKey = object({ publicKey: when(string, (v) => (v as string).includes('-----BEGIN PUBLIC KEY-----'), 'not an SPKI PEM') }, { algorithm: string });
const withVersion = (required: Record<string, Validator>): Validator => object(required, { keyVersion: versionString });
export const encryptAnswer = withVersion({ ciphertext: nonEmptyString });
export const decryptAnswer = withVersion({ plaintext: base64 });
export const signAnswer = withVersion({ signature: base64 });
export const verifyAnswer = withVersion({ valid: boolean });
export const hmacAnswer = withVersion({ hmac: base64 });
export const exportAnswer = withVersion({ keyMaterial: base64 });
export const publicKeyAnswer = object({ keys: when(stringMap, (v) => Object.keys(v as object).every((k) => /^[1-9][0-9]*$/.test(k)), 'keyed by something other than version numbers') });

/** One recorded exchange. */
export interface Exchange {
  readonly method: string;
  /** The path without the query, e.g. `/v1/kms/nl-01/keys/kms-…/encrypt`. */
  readonly path: string;
  readonly status: number;
  readonly text: string;
}

/** The schema an exchange's answer must follow, chosen from its route, method and status. */
export function schemaFor(exchange: Pick<Exchange, 'method' | 'path' | 'status'>): Validator | 'empty' {
  const { method, path, status } = exchange;
  if (path === '/oidc/token') return status === 200 ? tokenAnswer : oauthError;
  if (status >= 400) return errorAnswer;
  if (status === 204) return 'empty';
  if (path === '/v1/kms/summary') return summary;
  const m = /^\/v1\/kms\/[^/]+\/(wrapping-key|keys)(?:\/[^/]+(?:\/([a-z-]+))?)?$/.exec(path);
  if (m === null) throw new Error(`no schema for ${method} ${path}`);
  if (m[1] === 'wrapping-key') return wrappingKey;
  const isList = /\/keys$/.test(path);
  if (isList) return method === 'GET' ? keyList : kmsKey;
  const op = m[2];
  if (op === undefined || ['rotation', 'rotate', 'disable', 'enable'].includes(op)) return kmsKey;
  const ops: Record<string, Validator> = {
    encrypt: encryptAnswer, decrypt: decryptAnswer, sign: signAnswer, verify: verifyAnswer, hmac: hmacAnswer, 'verify-hmac': verifyAnswer,
    export: exportAnswer, 'public-key': publicKeyAnswer,
  };
  if (ops[op] === undefined) throw new Error(`no schema for ${method} ${path}`);
  return ops[op];
}

/** The problems of one exchange (empty = it follows the contract). */
export function checkExchange(exchange: Exchange): string[] {
  const schema = schemaFor(exchange);
  const where = `${exchange.method} ${exchange.path} ${exchange.status}`;
  if (schema === 'empty') return exchange.text === '' ? [] : [`${where}: a 204 with a body`];
  let value: unknown;
  try {
    value = JSON.parse(exchange.text);
  } catch {
    return [`${where}: the body is not JSON`];
  }
  return schema(value, '$').map((problem) => `${where}: ${problem}`);
}
