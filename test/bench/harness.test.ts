/**
 * The benchmark harness's pure pieces (bench/stats.ts): statistics, ratios, verdicts and the markdown tables.
 * No timing assertions: benchmarks run with `npm run bench`, never as tests.
 */
import {
  formatRatio, formatSummary, formatValue, interleavedOrder, ratio, renderGrowth, renderTable, summarize, verdict, type Comparison,
} from '../../bench/stats';

describe('summarize', () => {
  it('gives min, median and max of an odd count', () => {
    expect(summarize([5, 1, 3])).toEqual({ runs: 3, min: 1, median: 3, max: 5 });
  });

  it('takes the mean of the middle two for an even count, and does not reorder the input', () => {
    const samples = [4, 1, 3, 2];
    expect(summarize(samples)).toEqual({ runs: 4, min: 1, median: 2.5, max: 4 });
    expect(samples).toEqual([4, 1, 3, 2]);
  });

  it('refuses no samples and non-finite samples', () => {
    expect(() => summarize([])).toThrow(RangeError);
    expect(() => summarize([1, Number.NaN])).toThrow(RangeError);
  });
});

describe('ratio and verdict', () => {
  const c = (subject: number[], baseline: number[], target?: number): Comparison => ({
    name: 'x', n: '1', unit: 'ms', subjectLabel: 's', subject: summarize(subject), baselineLabel: 'b', baseline: summarize(baseline), target,
  });

  it('divides the medians', () => {
    expect(ratio(summarize([10, 20, 30]), summarize([5, 10, 100]))).toBe(2);
    expect(() => ratio(summarize([1]), summarize([0]))).toThrow(RangeError);
  });

  it('prints a third decimal only when two would round a miss down to the target', () => {
    expect(formatRatio(c([1153], [1000], 1.15))).toBe('1.153×');
    expect(formatRatio(c([1150], [1000], 1.15))).toBe('1.15×');
    expect(formatRatio(c([1153], [1000]))).toBe('1.15×');
    expect(formatRatio(c([2000], [1000], 1.3))).toBe('2.00×');
  });

  it('meets a target at or under it, misses above it, and only reports without one', () => {
    expect(verdict(c([115], [100], 1.15))).toBe('met');
    expect(verdict(c([116], [100], 1.15))).toBe('**missed**');
    expect(verdict(c([500], [100]))).toBe('reported');
  });
});

describe('formatting', () => {
  it('prints each unit as the table shows it', () => {
    expect(formatValue(1234.4, 'ms')).toBe('1234 ms');
    expect(formatValue(42.26, 'ms')).toBe('42.3 ms');
    expect(formatValue(3.14159, 's')).toBe('3.14 s');
    expect(formatValue(107.84, 'MiB')).toBe('107.8 MiB');
    expect(formatSummary(summarize([1, 2, 3]), 's')).toBe('2.00 s (1.00 s–3.00 s)');
  });

  it('renders one markdown row per comparison, with ratio, target and verdict, escaping pipes', () => {
    const table = renderTable([
      { name: 'a | b', n: '1000', unit: 'ms', subjectLabel: 'keys', subject: summarize([110, 120, 130]), baselineLabel: 'bare', baseline: summarize([100, 100, 100]), target: 1.15 },
      { name: 'manual', n: '50', unit: 's', subjectLabel: 'ours', subject: summarize([2]), baselineLabel: 'loop', baseline: summarize([4, 4]) },
    ]);
    const lines = table.split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toBe('| benchmark | N | runs | subject: median (min–max) | baseline: median (min–max) | ratio | target | verdict |');
    expect(lines[2]).toBe('| a \\| b | 1000 | 3 | keys: 120 ms (110 ms–130 ms) | bare: 100 ms (100 ms–100 ms) | 1.20× | ≤ 1.15× | **missed** |');
    expect(lines[3]).toBe('| manual | 50 | 1 / 2 | ours: 2.00 s (2.00 s–2.00 s) | loop: 4.00 s (4.00 s–4.00 s) | 0.50× | — | reported |');
  });

  it('renders growth as the median ratio against the ratio of N, with the per-item cost', () => {
    const table = renderGrowth([{ name: 'synth', smallN: 100, largeN: 1000, small: summarize([200]), large: summarize([1000]), unit: 'ms' }]);
    expect(table.split('\n')[2]).toBe('| synth | 100: 200 ms | 1000: 1000 ms | 5.00× | 10× | 1.0 ms |');
  });
});

describe('interleavedOrder', () => {
  it('runs every variant once per round, rotating which goes first', () => {
    expect(interleavedOrder(['a', 'b', 'c'], 4)).toEqual([['a', 'b', 'c'], ['b', 'c', 'a'], ['c', 'a', 'b'], ['a', 'b', 'c']]);
    expect(interleavedOrder(['a'], 0)).toEqual([]);
  });
});
