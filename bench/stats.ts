/**
 * The pure pieces of the benchmark harness: summaries of samples, ratios, and the markdown table. No I/O, no
 * clocks; test/bench/harness.test.ts runs them.
 */

/** min / median / max of a set of samples. */
export interface Summary {
  readonly runs: number;
  readonly min: number;
  readonly median: number;
  readonly max: number;
}

/** Summarizes `samples` (at least one). The median of an even count is the mean of the middle two. */
export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) throw new RangeError('summarize needs at least one sample');
  if (samples.some((s) => !Number.isFinite(s))) throw new RangeError('summarize needs finite samples');
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { runs: sorted.length, min: sorted[0], median, max: sorted[sorted.length - 1] };
}

/** subject / baseline, of medians. */
export function ratio(subject: Summary, baseline: Summary): number {
  if (baseline.median <= 0) throw new RangeError('the baseline median must be positive');
  return subject.median / baseline.median;
}

/** A quantity's unit, which decides how its numbers are printed. */
export type Unit = 'ms' | 's' | 'MiB';

/** A number for the table: ms without decimals from 100 up, seconds with two, MiB with one. */
export function formatValue(value: number, unit: Unit): string {
  switch (unit) {
    case 'ms':
      return value >= 100 ? `${Math.round(value)} ms` : `${value.toFixed(1)} ms`;
    case 's':
      return `${value.toFixed(2)} s`;
    case 'MiB':
      return `${value.toFixed(1)} MiB`;
  }
}

/** `median (min–max)` of a summary. */
export function formatSummary(s: Summary, unit: Unit): string {
  return `${formatValue(s.median, unit)} (${formatValue(s.min, unit)}–${formatValue(s.max, unit)})`;
}

/** One comparison: a subject against its floor. */
export interface Comparison {
  readonly name: string;
  readonly n: string;
  readonly unit: Unit;
  readonly subjectLabel: string;
  readonly subject: Summary;
  readonly baselineLabel: string;
  readonly baseline: Summary;
  /** The ratio must not exceed this; undefined when there is no target (reported only). */
  readonly target?: number;
}

export function verdict(c: Comparison): string {
  if (c.target === undefined) return 'reported';
  return ratio(c.subject, c.baseline) <= c.target ? 'met' : '**missed**';
}

/** The ratio with two decimals, or three when two would round a miss down to the target (1.153 → "1.153×"). */
export function formatRatio(c: Comparison): string {
  const r = ratio(c.subject, c.baseline);
  const two = r.toFixed(2);
  return c.target !== undefined && r > c.target && Number(two) <= c.target ? `${r.toFixed(3)}×` : `${two}×`;
}

/** `|` and line breaks would break a markdown table cell. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** The results table: one row per comparison, medians with min–max, the ratio and the target's verdict. */
export function renderTable(comparisons: readonly Comparison[]): string {
  const header = ['benchmark', 'N', 'runs', 'subject: median (min–max)', 'baseline: median (min–max)', 'ratio', 'target', 'verdict'];
  const rows = comparisons.map((c) => [
    c.name,
    c.n,
    c.subject.runs === c.baseline.runs ? String(c.subject.runs) : `${c.subject.runs} / ${c.baseline.runs}`,
    `${c.subjectLabel}: ${formatSummary(c.subject, c.unit)}`,
    `${c.baselineLabel}: ${formatSummary(c.baseline, c.unit)}`,
    formatRatio(c),
    c.target === undefined ? '—' : `≤ ${c.target.toFixed(2)}×`,
    verdict(c),
  ]);
  return [header, header.map(() => '---'), ...rows].map((r) => `| ${r.map(cell).join(' | ')} |`).join('\n');
}

/** Growth from a small N to a large N: how many times the median grew, against how many times N grew. */
export interface Growth {
  readonly name: string;
  readonly smallN: number;
  readonly largeN: number;
  readonly small: Summary;
  readonly large: Summary;
  readonly unit: Unit;
}

export function renderGrowth(growths: readonly Growth[]): string {
  const header = ['what', `N = small`, `N = large`, 'growth (×)', 'N grew (×)', 'per item at large N'];
  const rows = growths.map((g) => [
    g.name,
    `${g.smallN}: ${formatValue(g.small.median, g.unit)}`,
    `${g.largeN}: ${formatValue(g.large.median, g.unit)}`,
    `${(g.large.median / g.small.median).toFixed(2)}×`,
    `${(g.largeN / g.smallN).toFixed(0)}×`,
    formatValue(g.large.median / g.largeN, g.unit),
  ]);
  return [header, header.map(() => '---'), ...rows].map((r) => `| ${r.map(cell).join(' | ')} |`).join('\n');
}

/**
 * Interleaves runs of several variants: round r runs every variant once, in an order that rotates by r, so a
 * slow spell on a shared machine lands on all of them alike, and none always runs first.
 */
export function interleavedOrder<T>(variants: readonly T[], rounds: number): T[][] {
  const order: T[][] = [];
  for (let r = 0; r < rounds; r++) {
    order.push(variants.map((_, i) => variants[(i + r) % variants.length]));
  }
  return order;
}
