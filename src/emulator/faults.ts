/**
 * Injected failures, so reliability tests of the client can be exact: latency, 429 with `Retry-After`,
 * 500/503, connection resets and "commit, then drop the response".
 *
 * Each rule has its own seeded pseudo-random stream (mulberry32, seeded from the spec's seed and the rule's
 * position), so whether the k-th request a rule matches is hit depends only on the seed, the rule and k —
 * not on the other requests' paths. Rules are tried in order; once a terminal rule has hit a request, later
 * terminal rules do not see it (so "drop the next create" is not used up by a request a 429 already refused).
 * The grammar is documented in docs/emulator.md.
 */
import { ByokError } from '../errors';

/** What a fault rule does to a request it hits. */
export type FaultKind = 'latency' | '429' | '500' | '503' | 'reset' | 'drop-after-commit';

/** The kinds that end a request (all but latency, which only delays it). */
const TERMINAL_KINDS: readonly FaultKind[] = ['429', '500', '503', 'reset', 'drop-after-commit'];
const KINDS: readonly FaultKind[] = ['latency', ...TERMINAL_KINDS];

/** One fault rule. */
export interface FaultRule {
  readonly kind: FaultKind;
  /** The probability, 0..1, that a matching request is hit. @default 1 */
  readonly rate?: number;
  /** Hit at most this many requests, then stop. @default unlimited */
  readonly count?: number;
  /** Let this many matching requests through untouched before the rule starts. @default 0 */
  readonly skip?: number;
  /** Only requests with this HTTP method (case-insensitive). @default any method */
  readonly method?: string;
  /**
   * Only requests whose path (without query) matches this pattern: `*` stands for one path segment, `**` for
   * any rest of the path. A pattern that matches `/oidc/token` is the only way to fault the token endpoint.
   * @default every path except `/oidc/token`
   */
  readonly path?: string;
  /** `latency` only: the delay in milliseconds, fixed or a uniform `[min, max]` range. @default [0, 100] */
  readonly ms?: number | readonly [number, number];
  /** `429` only: the `Retry-After` value in seconds. @default 1 */
  readonly retryAfter?: number;
}

/** A full fault specification: rules in order, and the seed of their random streams. */
export interface FaultSpec {
  /** @default 1 */
  readonly seed?: number;
  readonly rules: readonly FaultRule[];
}

/** What happens to one request. */
export interface FaultDecision {
  /** Milliseconds to wait before doing anything else (sum of the latency rules that hit). */
  readonly delayMs: number;
  /** The terminal fault, if a rule hit; the first hitting rule in spec order wins. */
  readonly terminal?: { readonly kind: Exclude<FaultKind, 'latency'>; readonly retryAfter?: number };
}

/** A fault spec that cannot be parsed or is out of range. Code `FAULT_SPEC`. */
export class FaultSpecError extends ByokError {
  constructor(message: string) {
    super('FAULT_SPEC', message);
  }
}

/**
 * Parses the string grammar, e.g.
 * `seed=7;429=0.1,retry-after=1;503=0.1;reset=0.05;latency=0.3,ms=20-80;drop-after-commit=1,count=1,match=POST /v1/kms/nl-01/keys`.
 */
export function parseFaultSpec(text: string): FaultSpec {
  let seed: number | undefined;
  const rules: FaultRule[] = [];
  for (const rawClause of text.split(';')) {
    const clause = rawClause.trim();
    if (clause === '') continue;
    const [head, ...params] = clause.split(',').map((p) => p.trim());
    const [name, value] = splitPair(head);
    if (name === 'seed') {
      seed = parseNumber(value, 'seed', { integer: true, min: 0 });
      if (params.length > 0) throw new FaultSpecError('The "seed" clause takes no parameters.');
      continue;
    }
    if (!(KINDS as readonly string[]).includes(name)) {
      throw new FaultSpecError(`Unknown fault ${JSON.stringify(name.slice(0, 32))}. Expected seed or one of: ${KINDS.join(', ')}.`);
    }
    const rule: { -readonly [K in keyof FaultRule]: FaultRule[K] } = { kind: name as FaultKind };
    if (value !== undefined) rule.rate = parseNumber(value, `${name} rate`, { min: 0, max: 1 });
    for (const param of params) {
      const [key, v] = splitPair(param);
      if (v === undefined) throw new FaultSpecError(`Fault parameter "${key.slice(0, 32)}" of ${name} needs a value (key=value).`);
      switch (key) {
        case 'count': rule.count = parseNumber(v, 'count', { integer: true, min: 0 }); break;
        case 'skip': rule.skip = parseNumber(v, 'skip', { integer: true, min: 0 }); break;
        case 'ms': {
          const [lo, hi] = v.split('-');
          const min = parseNumber(lo, 'ms', { integer: true, min: 0 });
          rule.ms = hi === undefined ? min : [min, parseNumber(hi, 'ms', { integer: true, min })];
          break;
        }
        case 'retry-after': rule.retryAfter = parseNumber(v, 'retry-after', { integer: true, min: 0 }); break;
        case 'match': {
          const parts = v.split(/\s+/);
          if (parts.length === 1) rule.path = parts[0];
          else if (parts.length === 2) [rule.method, rule.path] = parts;
          else throw new FaultSpecError(`"match" takes "[METHOD] PATH"; received ${parts.length} words.`);
          break;
        }
        default:
          throw new FaultSpecError(`Unknown fault parameter "${key.slice(0, 32)}". Expected count, skip, match, ms (latency) or retry-after (429).`);
      }
    }
    rules.push(checkRule(rule));
  }
  return { seed, rules };
}

function splitPair(text: string): [string, string | undefined] {
  const at = text.indexOf('=');
  return at < 0 ? [text.trim(), undefined] : [text.slice(0, at).trim(), text.slice(at + 1).trim()];
}

function parseNumber(text: string | undefined, what: string, range: { integer?: boolean; min?: number; max?: number }): number {
  const n = text === undefined || text === '' ? NaN : Number(text);
  const bad = !Number.isFinite(n) || (range.integer && !Number.isInteger(n)) || (range.min !== undefined && n < range.min) || (range.max !== undefined && n > range.max);
  if (bad) {
    const bounds = `${range.integer ? 'an integer' : 'a number'}${range.min !== undefined ? ` >= ${range.min}` : ''}${range.max !== undefined ? ` <= ${range.max}` : ''}`;
    throw new FaultSpecError(`Fault ${what} must be ${bounds}; received ${JSON.stringify(String(text ?? '').slice(0, 32))}.`);
  }
  return n;
}

function checkRule(rule: FaultRule): FaultRule {
  if (rule.ms !== undefined && rule.kind !== 'latency') throw new FaultSpecError(`"ms" applies to latency only, not ${rule.kind}.`);
  if (rule.retryAfter !== undefined && rule.kind !== '429') throw new FaultSpecError(`"retry-after" applies to 429 only, not ${rule.kind}.`);
  if (rule.rate !== undefined && !(rule.rate >= 0 && rule.rate <= 1)) throw new FaultSpecError(`Fault rate must be between 0 and 1; received ${rule.rate}.`);
  if (rule.path !== undefined && !rule.path.startsWith('/')) throw new FaultSpecError(`A fault path pattern must start with "/"; received ${JSON.stringify(rule.path.slice(0, 64))}.`);
  return rule;
}

/** mulberry32: a tiny, well-known 32-bit PRNG; plenty for choosing which requests fail. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function globToRegExp(pattern: string): RegExp {
  const escaped = pattern.split('/').map((segment) =>
    segment === '**' ? '.*' : segment.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*'));
  return new RegExp(`^${escaped.join('/')}$`);
}

const OIDC_PATH = /^\/oidc(\/|$)/;

interface LiveRule {
  readonly rule: FaultRule;
  readonly random: () => number;
  readonly path?: RegExp;
  seen: number;
  hits: number;
}

/** Applies a {@link FaultSpec} to requests, in arrival order. */
export class FaultInjector {
  readonly #rules: LiveRule[];

  constructor(spec: FaultSpec) {
    const seed = spec.seed ?? 1;
    this.#rules = spec.rules.map((rule, index) => ({
      rule: checkRule(rule),
      // Distinct, reproducible streams per rule: the golden-ratio increment keeps neighbouring seeds apart.
      random: mulberry32((seed + Math.imul(index + 1, 0x9e3779b9)) >>> 0),
      path: rule.path === undefined ? undefined : globToRegExp(rule.path),
      seen: 0,
      hits: 0,
    }));
  }

  /** Decides the fate of one request. Call once per request, in the order requests arrive. */
  decide(method: string, path: string): FaultDecision {
    let delayMs = 0;
    let terminal: FaultDecision['terminal'];
    for (const live of this.#rules) {
      const { rule } = live;
      if (rule.method !== undefined && rule.method !== '*' && rule.method.toUpperCase() !== method.toUpperCase()) continue;
      if (live.path ? !live.path.test(path) : OIDC_PATH.test(path)) continue;
      if (rule.kind !== 'latency' && terminal !== undefined) continue;
      if (rule.count !== undefined && live.hits >= rule.count) continue;
      live.seen += 1;
      if (live.seen <= (rule.skip ?? 0)) continue;
      if (live.random() >= (rule.rate ?? 1)) continue;
      live.hits += 1;
      if (rule.kind === 'latency') {
        const [min, max] = typeof rule.ms === 'number' ? [rule.ms, rule.ms] : rule.ms ?? [0, 100];
        delayMs += min + Math.floor(live.random() * (max - min + 1));
      } else {
        terminal = rule.kind === '429' ? { kind: '429', retryAfter: rule.retryAfter ?? 1 } : { kind: rule.kind };
      }
    }
    return { delayMs, terminal };
  }
}

/** Accepts the forms `startEmulator` and `setFaults` take. */
export function toFaultSpec(spec: string | FaultSpec | undefined): FaultSpec | undefined {
  if (spec === undefined) return undefined;
  return typeof spec === 'string' ? parseFaultSpec(spec) : spec;
}
