/**
 * Answers from the API are not trusted. A server (or anything posing as it) may answer a list with `[null]`, a
 * create with another key, a lookup with another identity, or an error whose `message` echoes the request —
 * which, for a create, holds the wrapped blob. This module checks the shapes the client relies on and decides
 * what of a server's text may be shown. A leaf: it knows the API's objects and `ApiError`, nothing else.
 */
import type { Dispatcher } from 'undici';
import { ApiError } from './errors';
import type { KmsKey } from './types';

/** The longest piece of a server's text a message shows. */
export const MAX_SHOWN_API_TEXT = 200;
/** A run this long of base64/base64url/hex characters is treated as a possible echo of a blob or a token. */
const REDACTED_RUN = 32;

/**
 * A server's text, made safe for stderr and CI logs: control and invisible formatting characters removed
 * (they could rewrite a terminal line), every run of 32 or more base64/base64url/hex characters replaced by
 * `[… characters redacted]` (a server that echoes `importKeyMaterial` or a token cannot put it in a message),
 * then cut to `max` characters. Redaction runs before the cut, so a cut cannot leave a piece of a long run.
 */
export function sanitizeApiText(text: string, max = MAX_SHOWN_API_TEXT): string {
  // Removed, not replaced by a space: a server that interleaves control characters with an echoed blob must
  // not split it into runs too short to be redacted.
  const visible = text.replace(/[\p{Cc}\p{Cf}\u2028\u2029]+/gu, '');
  const redacted = visible.replace(new RegExp(`[A-Za-z0-9+/=_-]{${REDACTED_RUN},}`, 'g'), (run) => `[${run.length} characters redacted]`);
  const collapsed = redacted.replace(/\s+/g, ' ').trim();
  return collapsed.length <= max ? collapsed : `${collapsed.slice(0, max - 1)}…`;
}

/** A server-chosen value quoted in a message: sanitized and short. */
function quoted(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(sanitizeApiText(value, 80)) : describeJson(value);
}

function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value === undefined) return 'nothing';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** Which call an answer belongs to, for messages. */
export interface Where {
  readonly method: string;
  readonly path: string;
}

function badAnswer(where: Where, what: string, extra: { outcomeUnknown?: boolean } = {}): ApiError {
  return new ApiError('API_BAD_ANSWER', `${where.method} ${where.path} answered ${what}`, { method: where.method, path: where.path, ...extra });
}

/** What is wrong with `value` as a key (identity, name and status strings), or undefined when nothing is. */
function keyProblem(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return `is ${describeJson(value)}, not a key object`;
  const key = value as Record<string, unknown>;
  for (const field of ['identity', 'name', 'status'] as const) {
    if (typeof key[field] !== 'string' || (field !== 'status' && key[field] === '')) {
      const have = key[field] === undefined ? `no ${field}` : `${key[field] === '' ? 'an empty string' : describeJson(key[field])} as its ${field}`;
      return `has ${have}, where a ${field === 'status' ? '' : 'non-empty '}string is required`;
    }
  }
  if (key.annotations !== undefined && !isStringMap(key.annotations)) return 'has annotations that are not a map of strings';
  if (key.labels !== undefined && !isStringMap(key.labels)) return 'has labels that are not a map of strings';
  return undefined;
}

function isStringMap(value: unknown): boolean {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && Object.values(value as object).every((v) => typeof v === 'string');
}

/** `GET …/keys`: an array of keys. Anything else is `API_BAD_ANSWER` naming the first bad entry. */
export function checkKeyList(value: unknown, where: Where): KmsKey[] {
  if (!Array.isArray(value)) {
    throw badAnswer(where, `${describeJson(value)} where a list of keys was expected. Nothing was changed; the answer cannot be trusted, so no decision was made from it.`);
  }
  value.forEach((entry, index) => {
    const problem = keyProblem(entry);
    if (problem) throw badAnswer(where, `a list whose entry ${index} ${problem}. Nothing was changed; the answer cannot be trusted, so no decision was made from it.`);
  });
  return value as KmsKey[];
}

/**
 * The one key named `name` in a list that was filtered by that name on the server. Two keys with one name in
 * a region cannot exist (names are unique), so such an answer is refused rather than the first one picked.
 */
export function onlyKeyNamed(keys: readonly KmsKey[], name: string, where: Where): KmsKey | undefined {
  const matches = keys.filter((key) => key.name === name);
  if (matches.length > 1) {
    throw badAnswer(where, `${matches.length} keys named ${quoted(name)}, but a name is unique in a region. Nothing was changed; the answer cannot be trusted.`);
  }
  return matches[0];
}

/**
 * `POST …/keys` answered 2xx: it must describe the key that was asked for. An empty or malformed answer, or one
 * for another name, leaves the outcome unknown (the server may or may not have created our key): the error
 * says so and carries `outcomeUnknown`, so the caller looks the key up by name before any retry.
 */
export function checkCreatedKey(value: unknown, requestedName: string, where: Where): KmsKey {
  const lookUp = `The outcome is unknown: look the key up by name ${quoted(requestedName)} before trying again.`;
  const problem = keyProblem(value);
  if (problem) throw badAnswer(where, `a success whose body ${problem}. ${lookUp}`, { outcomeUnknown: true });
  const key = value as KmsKey;
  if (key.name !== requestedName) {
    throw badAnswer(where, `for another key: the request created ${quoted(requestedName)}, the answer describes ${quoted(key.name)} (${quoted(key.identity)}). ${lookUp}`, { outcomeUnknown: true });
  }
  return key;
}

/**
 * A key looked up (or changed) by identity or slug `id`: the answer must be a key with that identity or slug;
 * another key is `API_BAD_ANSWER`, so a caller never acts on a key it did not ask for.
 */
export function checkKeyFor(value: unknown, id: string, where: Where): KmsKey {
  const problem = keyProblem(value);
  if (problem) throw badAnswer(where, `a body that ${problem}. Nothing was decided from it.`);
  const key = value as KmsKey;
  if (key.identity !== id && key.slug !== id) {
    throw badAnswer(where, `for another key: asked for ${quoted(id)}, the answer describes identity ${quoted(key.identity)}. Nothing was decided from it.`);
  }
  return key;
}

/**
 * The body of an answer as text, read as a stream and never past `maxBytes`: a `content-length` over the limit
 * is refused before reading, and a body that grows past it is cut off (the connection is dropped) at the
 * first chunk that crosses it. Either way `API_ANSWER_TOO_LARGE`, which the transport does not retry; a write
 * whose answer was cut off may have been carried out, so it carries `outcomeUnknown`.
 */
export async function readAnswerText(response: Dispatcher.ResponseData, maxBytes: number, where: Where): Promise<string> {
  const tooLarge = (): ApiError => {
    response.body.destroy();
    const write = where.method !== 'GET';
    return new ApiError(
      'API_ANSWER_TOO_LARGE',
      `${where.method} ${where.path} answered ${response.statusCode} with a body over the limit of ${maxBytes} bytes (maxAnswerBytes); reading stopped there and the call was not retried.` +
        (write ? ` The outcome of this ${where.method} is unknown: it may have been carried out.` : ' A KMS answer is never this large: check THALASSA_API_ENDPOINT.'),
      { status: response.statusCode, method: where.method, path: where.path, outcomeUnknown: write },
    );
  };
  const declared = Number(headerValue(response.headers['content-length']));
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge();
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of response.body) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    total += buffer.length;
    if (total > maxBytes) throw tooLarge();
    chunks.push(buffer);
  }
  return Buffer.concat(chunks, total).toString('utf8');
}

function headerValue(raw: string | string[] | undefined): string | undefined {
  return Array.isArray(raw) ? raw[0] : raw;
}
