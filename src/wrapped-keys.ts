/**
 * The stack's wrapped-keys file, `byok/keys.wrapped`: every key's wrapped blob (and a symmetric key's
 * commitment) in one owner-only file, written at synth and read by the apply step. One file per stack, not
 * two per key: creating a file costs a synth more than wrapping the key does (bench/README.md).
 *
 * Format (text, one line per key after the header):
 *
 *     thalassa-byok wrapped keys 1
 *     <construct id> <blob, base64> <commitment, or ->
 *
 * A leaf: the provisioner path loads it without the construct, material or wrapping code.
 */

/** The stack's wrapped-keys file, relative to the stack's working directory. */
export const WRAPPED_KEYS_FILE = 'byok/keys.wrapped';

const HEADER = 'thalassa-byok wrapped keys 1\n';
const HEADER_BYTES = Buffer.from(HEADER, 'latin1');
const ENTRY = /^([0-9a-f]{32}) ([A-Za-z0-9+/]+={0,2}) (-|hmac-sha256:[0-9a-f]{64}|cmac-aes:[0-9a-f]{32})$/;

/** One key's entry: what its import sends and proves. */
export interface WrappedKeyEntry {
  /** The key's construct id (the label `cdktf-thalassa-byok/construct`). */
  readonly construct: string;
  readonly blob: Uint8Array;
  readonly commitment?: string;
}

/** The file's text for `entries` (construct ids unique). */
export function encodeWrappedKeys(entries: readonly WrappedKeyEntry[]): string {
  const lines = entries.map((e) => `${e.construct} ${Buffer.from(e.blob.buffer, e.blob.byteOffset, e.blob.byteLength).toString('base64')} ${e.commitment ?? '-'}\n`);
  return HEADER + lines.join('');
}

/** True when `data` is a wrapped-keys file (by its header), not a single blob. */
export function isWrappedKeysFile(data: Uint8Array): boolean {
  return data.length >= HEADER_BYTES.length && HEADER_BYTES.equals(data.subarray(0, HEADER_BYTES.length));
}

/**
 * The entry of `construct` in a wrapped-keys file, found without parsing the other entries (an import reads
 * one key of a stack's file), or undefined. Throws a RangeError, without content, when the entry is malformed.
 */
export function wrappedKeyEntry(data: Buffer, construct: string): WrappedKeyEntry | undefined {
  if (!/^[0-9a-f]{32}$/.test(construct)) return undefined;
  const start = data.indexOf(`\n${construct} `, HEADER_BYTES.length - 1, 'latin1');
  if (start < 0) return undefined;
  const end = data.indexOf(0x0a, start + 1);
  return parseEntry(data.toString('latin1', start + 1, end < 0 ? data.length : end), construct);
}

/** Every entry of a wrapped-keys file by construct id; throws a RangeError, without content, on a malformed file. */
export function parseWrappedKeys(data: Buffer): Map<string, WrappedKeyEntry> {
  if (!isWrappedKeysFile(data)) throw new RangeError('it does not start with the wrapped-keys header');
  const entries = new Map<string, WrappedKeyEntry>();
  const lines = data.toString('latin1', HEADER_BYTES.length).split('\n');
  if (lines.pop() !== '') throw new RangeError('its last line is not complete');
  for (const [i, line] of lines.entries()) {
    const entry = parseEntry(line, undefined, i + 2);
    if (entries.has(entry.construct)) throw new RangeError(`line ${i + 2} repeats a construct id`);
    entries.set(entry.construct, entry);
  }
  return entries;
}

function parseEntry(line: string, construct: string | undefined, lineNumber?: number): WrappedKeyEntry {
  const m = ENTRY.exec(line);
  if (!m || (construct !== undefined && m[1] !== construct) || m[2].length % 4 !== 0) {
    throw new RangeError(`${lineNumber === undefined ? 'the entry' : `line ${lineNumber}`} (${line.length} characters) is not "<construct id> <base64 blob> <commitment or ->"`);
  }
  return { construct: m[1], blob: Buffer.from(m[2], 'base64'), ...(m[3] === '-' ? {} : { commitment: m[3] }) };
}
