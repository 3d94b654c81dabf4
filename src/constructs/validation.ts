/**
 * The rules for the construct's public settings, one pure function per rule. Each returns `undefined` when
 * the value is fine, or the "expected" half of an error message when it is not; the construct adds the path,
 * the property and the received value.
 */
import { shownValue } from '../disclosure';
import { Token } from './framework';
import { RESERVED_PREFIX } from '../protocol';

/** A region slug, e.g. `nl-01`. */
export const REGION_PATTERN = /^[a-z]{2}-[0-9]{2}$/;
/** A key name: letters, digits, `.`, `_`, `-`; starts and ends with a letter or digit. */
export const NAME_PATTERN = /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$/;
/** The API's limit on a key name. */
export const MAX_PHYSICAL_NAME_LENGTH = 255;
/** `-` and 8 hex digits, appended to `name` unless `physicalName` is given. */
export const NAME_SUFFIX_LENGTH = 9;
/** The longest `name` that still fits the API's limit once the suffix is appended. */
export const MAX_NAME_LENGTH = MAX_PHYSICAL_NAME_LENGTH - NAME_SUFFIX_LENGTH;
export const MAX_DESCRIPTION_LENGTH = 1024;
/** Label keys: 1..63 characters from `[A-Za-z0-9._/-]`, starting and ending with a letter or digit. */
export const LABEL_KEY_PATTERN = /^[A-Za-z0-9](?:[A-Za-z0-9._/-]{0,61}[A-Za-z0-9])?$/;
/** Label values: empty, or 1..63 characters from `[A-Za-z0-9._-]`, starting and ending with a letter or digit. */
export const LABEL_VALUE_PATTERN = /^(?:[A-Za-z0-9](?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)?$/;
/** Annotation keys: 1..253 characters from `[A-Za-z0-9._/-]`, starting and ending with a letter or digit. */
export const ANNOTATION_KEY_PATTERN = /^[A-Za-z0-9](?:[A-Za-z0-9._/-]{0,251}[A-Za-z0-9])?$/;
export const MAX_ANNOTATION_VALUE_LENGTH = 4096;
/**
 * The entries a user may set: the API's 64 less the two this package records in each map (owner id and
 * construct among the labels; fingerprint and commitment among the annotations).
 */
export const MAX_ENTRIES = 62;
/** Label and annotation keys under this prefix belong to this package. */
export const RESERVED_KEY_PREFIX = RESERVED_PREFIX;
export const MIN_ROTATION_DAYS = 1;
export const MAX_ROTATION_DAYS = 3650;

// Control characters cannot travel safely as command-line arguments (NUL cannot at all); tab and newline can.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000b-\u001f\u007f]/;

/** True when `value` is, or contains, an unresolved cdktf token. */
export function containsToken(value: unknown): boolean {
  if (typeof value === 'string' || typeof value === 'number') return Token.isUnresolved(value);
  if (value !== null && typeof value === 'object') {
    if (Token.isUnresolved(value)) return true;
    return Object.entries(value).some(([k, v]) => Token.isUnresolved(k) || containsToken(v));
  }
  return false;
}

export function checkRegion(value: unknown): string | undefined {
  return typeof value === 'string' && REGION_PATTERN.test(value) ? undefined : 'a region slug matching ^[a-z]{2}-[0-9]{2}$ (e.g. "nl-01")';
}

export function checkName(value: unknown, maxLength: number): string | undefined {
  if (typeof value === 'string' && value.length <= maxLength && NAME_PATTERN.test(value)) return undefined;
  return `1..${maxLength} characters from [A-Za-z0-9._-], starting and ending with a letter or digit`;
}

export function checkDescription(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' && value.length <= MAX_DESCRIPTION_LENGTH && !CONTROL_CHARACTERS.test(value)) return undefined;
  return `a string of at most ${MAX_DESCRIPTION_LENGTH} characters without control characters (tab and newline are allowed)`;
}

/** Checks a label or annotation map; returns the expectation and the offending entry's key, if any. */
export function checkStringMap(value: unknown, kind: 'labels' | 'annotations'): { expected: string; received?: string } | undefined {
  if (value === undefined) return undefined;
  const keyRule = kind === 'labels' ? LABEL_KEY_PATTERN : ANNOTATION_KEY_PATTERN;
  const keyText = kind === 'labels' ? '1..63' : '1..253';
  const valueText = kind === 'labels'
    ? 'values of 0..63 characters from [A-Za-z0-9._-], starting and ending with a letter or digit'
    : `string values of at most ${MAX_ANNOTATION_VALUE_LENGTH} characters without control characters`;
  const expected = `a map of at most ${MAX_ENTRIES} entries with keys of ${keyText} characters from [A-Za-z0-9._/-] ` +
    `(starting and ending with a letter or digit, not under the reserved prefix "${RESERVED_KEY_PREFIX}") and ${valueText}`;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { expected };
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > MAX_ENTRIES) return { expected, received: `${entries.length} entries` };
  for (const [key, entry] of entries) {
    if (!keyRule.test(key) || key.startsWith(RESERVED_KEY_PREFIX)) return { expected, received: `key ${shownValue(key)}` };
    const valueOk = typeof entry === 'string' && (kind === 'labels'
      ? LABEL_VALUE_PATTERN.test(entry)
      : entry.length <= MAX_ANNOTATION_VALUE_LENGTH && !CONTROL_CHARACTERS.test(entry));
    if (!valueOk) {
      const shown = shownValue(entry);
      return { expected, received: `value ${shown} for key ${JSON.stringify(key)}` };
    }
  }
  return undefined;
}

export function checkRotationPeriod(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  return typeof value === 'number' && Number.isInteger(value) && value >= MIN_ROTATION_DAYS && value <= MAX_ROTATION_DAYS
    ? undefined
    : `a whole number of days from ${MIN_ROTATION_DAYS} to ${MAX_ROTATION_DAYS}`;
}
