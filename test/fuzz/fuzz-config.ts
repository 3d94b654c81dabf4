/**
 * Shared settings of the property-based (fuzz) tests.
 *
 * By default every property runs with a fixed seed and a bounded number of runs, so `npm test` is
 * reproducible and the fuzz files together stay within about a minute on two cores. For a longer hunt:
 *
 *     FUZZ_SEED=12345 FUZZ_RUNS=5000 npx jest test/fuzz
 *
 * `FUZZ_SEED` replaces the seed (any integer; `random` draws one and prints it), `FUZZ_RUNS` replaces the number
 * of runs of every property. A failure prints the seed and the path to replay it (fast-check's report).
 */
import fc from 'fast-check';
import { ByokError } from '../../src/errors';

/** The default seed: fixed, so a red run is reproducible by anyone. */
export const DEFAULT_FUZZ_SEED = 0x7a1a55a;

function seedFromEnv(): number {
  const text = process.env.FUZZ_SEED;
  if (text === undefined || text === '') return DEFAULT_FUZZ_SEED;
  if (text === 'random') {
    const seed = Math.floor(Math.random() * 0x7fffffff);
    console.log(`FUZZ_SEED=random drew seed ${seed}`);
    return seed;
  }
  const seed = Number(text);
  if (!Number.isInteger(seed)) throw new Error(`FUZZ_SEED must be an integer or "random"; received ${JSON.stringify(text)}`);
  return seed;
}

export const FUZZ_SEED = seedFromEnv();
const RUNS_OVERRIDE = process.env.FUZZ_RUNS === undefined || process.env.FUZZ_RUNS === '' ? undefined : Number(process.env.FUZZ_RUNS);
if (RUNS_OVERRIDE !== undefined && !(Number.isInteger(RUNS_OVERRIDE) && RUNS_OVERRIDE > 0)) {
  throw new Error(`FUZZ_RUNS must be a positive integer; received ${JSON.stringify(process.env.FUZZ_RUNS)}`);
}

/** fast-check parameters: the seed, and `defaultRuns` unless FUZZ_RUNS says otherwise. */
export function fuzzParams<T>(defaultRuns: number): fc.Parameters<T> {
  return { seed: FUZZ_SEED, numRuns: RUNS_OVERRIDE ?? defaultRuns, endOnFailure: true };
}

/** A jest timeout for a property: generous by default, unbounded-ish when FUZZ_RUNS asks for long runs. */
export function fuzzTimeout(defaultMs: number): number {
  return RUNS_OVERRIDE === undefined ? defaultMs : 24 * 3600 * 1000;
}

/**
 * Runs `fn`; returns its value, or the typed error it threw. Anything else — an untyped exception, a
 * ByokError with a code outside `codes` — fails the property (and fast-check shrinks the input).
 */
export function typedOutcome<T>(fn: () => T, codes: ReadonlySet<string>): { value?: T; error?: ByokError } {
  try {
    return { value: fn() };
  } catch (err) {
    if (!(err instanceof ByokError)) {
      throw new Error(`untyped exception ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`);
    }
    if (!codes.has(err.code)) throw new Error(`${err.name} with unexpected code ${err.code}: ${err.message}`);
    if (typeof err.message !== 'string' || err.message.length === 0) throw new Error(`${err.name} ${err.code} without a message`);
    return { error: err };
  }
}

/** One way to damage valid input: flip a bit, truncate, insert bytes, delete a range, or overwrite a byte. */
export type Mutation =
  | { readonly kind: 'flip'; readonly at: number; readonly bit: number }
  | { readonly kind: 'truncate'; readonly at: number }
  | { readonly kind: 'insert'; readonly at: number; readonly bytes: Uint8Array }
  | { readonly kind: 'delete'; readonly at: number; readonly length: number }
  | { readonly kind: 'set'; readonly at: number; readonly byte: number };

/** Mutations whose positions are fractions of the input's length, so one arbitrary fits every input. */
export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
);

/** Applies a mutation; positions wrap around the input's length. */
export function mutate(input: Uint8Array, m: Mutation): Buffer {
  const bytes = Buffer.from(input);
  if (bytes.length === 0) return m.kind === 'insert' ? Buffer.from(m.bytes) : bytes;
  const at = m.at % bytes.length;
  switch (m.kind) {
    case 'flip':
      bytes[at] ^= 1 << m.bit;
      return bytes;
    case 'truncate':
      return bytes.subarray(0, at);
    case 'insert':
      return Buffer.concat([bytes.subarray(0, at), m.bytes, bytes.subarray(at)]);
    case 'delete':
      return Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + m.length)]);
    case 'set':
      bytes[at] = m.byte;
      return bytes;
  }
}
