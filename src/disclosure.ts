/**
 * What an error message may show of a value it received. One place decides, for every folder: a user who
 * passes the key itself where a path, a variable name, a key type or a hash belongs must not find the key in
 * stderr, a CI log or a synth error. A value that could be material is described (kind, length), never quoted.
 * A leaf module: no imports from the rest of the package.
 */
import { lstatSync } from 'node:fs';
import { basename, dirname } from 'node:path';

/** Longer values are never quoted: a setting, a name or an option value is short; material is not. */
const MAX_SHOWN = 64;
/** A run this long of base64/hex characters could be a piece of a key. */
const SUSPECT_RUN = 12;

/**
 * Whether `value` may be quoted in a message: printable ASCII, at most 64 characters, with no run of 12
 * base64/base64url characters (other than single-case words) and no 12 hex digits in a row once separators (spaces, colons, commas) are
 * ignored. False for anything that could be key material, a token or a wrapped blob in any encoding.
 */
export function isShowable(value: string): boolean {
  if (value.length > MAX_SHOWN || !/^[\x20-\x7e]*$/.test(value)) return false;
  // Long runs of plain words ("wrapped-file", "MY_KEY_VARIABLE") are names; random material is never all one case
  // without digits, so a long run mixing cases, digits or base64 signs is treated as possible material.
  const runs = value.match(new RegExp(`[A-Za-z0-9+/=_-]{${SUSPECT_RUN},}`, 'g')) ?? [];
  if (runs.some((run) => !/^[a-z_/-]+$/.test(run) && !/^[A-Z_/-]+$/.test(run))) return false;
  return !new RegExp(`[0-9a-fA-F]{${SUSPECT_RUN},}`).test(value.replace(/[\s:,]/g, ''));
}

/**
 * Describes a value without showing anything of it: its length and what it looks like, e.g.
 * `a value of 64 characters (hex digits, not shown)`. Safe for secrets: reveals only what `value.length` already does.
 */
export function describeHidden(value: string | Uint8Array): string {
  if (typeof value !== 'string') return `${value.length} bytes of binary data`;
  const compact = value.replace(/\s+/g, '');
  let kind: string;
  if (value.includes('-----BEGIN')) kind = 'PEM text';
  else if (/^[0-9a-fA-F]+$/.test(compact)) kind = 'hex digits';
  else if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(compact)) kind = 'base64 text';
  else if (compact.startsWith('{')) kind = 'JSON text';
  else if (!/^[\x20-\x7e\s]*$/.test(value)) kind = 'binary or non-ASCII text';
  else kind = 'text';
  return `a value of ${value.length} characters (${kind}, not shown)`;
}

/** The value quoted when {@link isShowable}, else {@link describeHidden}. For settings that may be mistyped secrets. */
export function shownValue(value: unknown): string {
  if (typeof value !== 'string') return `a ${value === null ? 'null' : typeof value}`;
  return isShowable(value) ? JSON.stringify(value) : describeHidden(value);
}

/**
 * A path for a message: shown when it names an existing file system entry (so it is a path, not a key pasted
 * where the path belongs), or a missing entry with a showable name in an existing folder ("a typo in the file
 * name"), or when it is short and showable; otherwise described.
 */
export function shownPath(path: string): string {
  if (path.length <= 4096 && !path.includes('\0')) {
    if (exists(path) || (dirname(path) !== '.' && exists(dirname(path)) && isShowable(basename(path)))) return printable(path);
  }
  return isShowable(path) ? path : `${describeHidden(path)} that names no file (is it the material itself, not a path?)`;
}

/** Bare, as messages have always shown paths; quoted (escaped) only when it holds control characters. */
function printable(path: string): string {
  return /^[\x20-\x7e]*$/.test(path) ? path : JSON.stringify(path);
}

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether `name` looks like an environment variable's name rather than a value: letters, digits and `_`; when
 * 12 characters or longer, all one case and not all hex digits (random base64 mixes cases). Only such names
 * are shown: `THALASSA_API_TOKEN_2` is; a 24-character PIN of letters in both cases is not, even without digits.
 */
export function looksLikeVariableName(name: string): boolean {
  if (!isVariableNameSyntax(name)) return false;
  if (name.length < SUSPECT_RUN) return true;
  return !/^[0-9a-fA-F]+$/.test(name) && (/^[A-Z0-9_]+$/.test(name) || /^[a-z0-9_]+$/.test(name));
}

/** Whether `name` can be an environment variable's name at all (whether or not it may be shown). */
export function isVariableNameSyntax(name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]{0,127}$/.test(name);
}

/** A variable name for a message: quoted when {@link looksLikeVariableName}, else described. */
export function shownVariable(name: string): string {
  return looksLikeVariableName(name) ? name : `${describeHidden(name)} that is not a variable name (is it the value itself?)`;
}
