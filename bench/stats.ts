/**
 * Statistics for the benchmark: medians, percentiles, spreads and ratios over repeated samples.
 * Pure functions; an empty sample set gives null, never NaN.
 */

/** What a cell of the table holds: the samples of one measure for one implementation, summarized. */
export interface Summary {
  n: number;
  median: number;
  min: number;
  max: number;
  /** half the range, relative to the median, in percent (0 for a single sample) */
  spreadPct: number;
}

function sorted(xs: readonly number[]): number[] {
  return [...xs].sort((a, b) => a - b);
}

/** The p-th percentile (0..100) by linear interpolation between closest ranks; null if empty. */
export function percentile(xs: readonly number[], p: number): number | null {
  if (xs.length === 0) return null;
  const s = sorted(xs);
  const rank = (Math.min(Math.max(p, 0), 100) / 100) * (s.length - 1);
  const lo = Math.floor(rank), hi = Math.ceil(rank);
  return s[lo]! + (s[hi]! - s[lo]!) * (rank - lo);
}

export function median(xs: readonly number[]): number | null {
  return percentile(xs, 50);
}

export function summarize(xs: readonly number[]): Summary | null {
  const m = median(xs);
  if (m === null) return null;
  const min = Math.min(...xs), max = Math.max(...xs);
  const spreadPct = m === 0 ? 0 : ((max - min) / 2 / Math.abs(m)) * 100;
  return { n: xs.length, median: m, min, max, spreadPct };
}

/** a / b, or null when either is missing or b is zero. */
export function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  if (a === null || a === undefined || b === null || b === undefined || b === 0) return null;
  return a / b;
}
