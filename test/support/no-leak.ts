/**
 * Leak detection for error messages and output: does a text contain key material (or a large enough piece of
 * it) in any of the encodings a careless message could use?
 */
import { inspect } from 'node:util';

/** The shortest piece of a secret that counts as a leak (shorter secrets are checked whole). */
const WINDOW_BYTES = 16;

/**
 * Describes each way `text` contains one of `secrets` (empty when it contains none). Byte secrets are checked
 * as raw bytes (latin1 and UTF-8), hex (any case, also space-separated as Buffer inspection prints it),
 * base64, base64url and a decimal list (Buffer JSON), for every 16-byte window of the secret. String secrets
 * that are PEM documents are checked line by line (the body) and as the bytes the body decodes to; other
 * strings are checked as their UTF-8 bytes. The description never contains the secret itself.
 */
export function findLeaks(text: string, ...secrets: readonly (Uint8Array | string)[]): string[] {
  const found: string[] = [];
  secrets.forEach((secret, index) => {
    if (typeof secret === 'string') {
      if (secret.includes('-----BEGIN')) {
        const body = secret.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length >= 16 && !l.startsWith('-----') && !l.includes(':'));
        body.forEach((line, n) => {
          if (text.includes(line)) found.push(`secret #${index}: PEM body line ${n + 1}`);
        });
        if (body.length > 0) found.push(...findBytes(text, Buffer.from(body.join(''), 'base64'), `secret #${index} (PEM body, decoded)`));
        return;
      }
      found.push(...findBytes(text, Buffer.from(secret, 'utf8'), `secret #${index}`));
      return;
    }
    found.push(...findBytes(text, Buffer.from(secret), `secret #${index}`));
  });
  return found;
}

function findBytes(text: string, secret: Buffer, name: string): string[] {
  if (secret.length === 0) return [];
  const found = new Set<string>();
  const w = Math.min(WINDOW_BYTES, secret.length);
  const lower = text.toLowerCase();
  const latin1 = Buffer.from(text, 'latin1');
  const utf8 = Buffer.from(text, 'utf8');
  for (let i = 0; i + w <= secret.length; i++) {
    const piece = secret.subarray(i, i + w);
    if (latin1.includes(piece) || utf8.includes(piece)) found.add(`${name}: raw bytes at ${i}`);
    const hex = piece.toString('hex');
    if (lower.includes(hex)) found.add(`${name}: hex at ${i}`);
    if (lower.includes(hex.replace(/(..)(?!$)/g, '$1 '))) found.add(`${name}: spaced hex at ${i}`);
    if (text.includes(Array.from(piece).join(','))) found.add(`${name}: decimal list at ${i}`);
  }
  // base64 / base64url: every alignment of the secret, in windows of whole 4-character groups.
  for (let offset = 0; offset < 3 && offset < secret.length; offset++) {
    const part = secret.subarray(offset);
    const groups = Math.floor(part.length / 3) * 4;
    const b64 = part.toString('base64').slice(0, groups);
    const size = Math.min(4 * Math.ceil(w / 3), groups);
    if (size === 0) continue;
    for (let i = 0; i + size <= b64.length; i += 4) {
      const piece = b64.slice(i, i + size);
      if (text.includes(piece)) found.add(`${name}: base64 at char ${i} (offset ${offset})`);
      if (text.includes(piece.replace(/\+/g, '-').replace(/\//g, '_'))) found.add(`${name}: base64url at char ${i} (offset ${offset})`);
    }
  }
  return [...found];
}

/** Fails (without quoting the secret) when `text` contains any of `secrets`. */
export function expectNoLeak(text: string, ...secrets: readonly (Uint8Array | string)[]): void {
  const leaks = findLeaks(text, ...secrets);
  if (leaks.length > 0) {
    throw new Error(`Text of ${text.length} characters leaks key material: ${leaks.slice(0, 5).join('; ')}${leaks.length > 5 ? ` (+${leaks.length - 5} more)` : ''}`);
  }
}

/** Every rendering of an error a program could log: message, String(), stack, JSON, util.inspect. */
export function errorRenderings(error: unknown): string {
  const e = error as Error;
  return [
    e?.message,
    String(error),
    e?.stack,
    JSON.stringify(error),
    inspect(error, { depth: 10, showHidden: true }),
    String((e as { cause?: unknown })?.cause ?? ''),
  ].join('\n');
}

/** Runs `fn`, which must throw; returns what it threw. */
export async function thrownBy(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to throw, but it returned');
}
