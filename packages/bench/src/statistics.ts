/**
 * Summary statistics of timing samples. Quartiles use linear interpolation between order
 * statistics (the "type 7" definition of R and NumPy's default), so a reader can recompute them
 * from the raw samples with common tools.
 */
export interface Quartiles {
  median: number;
  /** 25th percentile */
  q1: number;
  /** 75th percentile */
  q3: number;
}

/** The p-th quantile (0 <= p <= 1) of `values`, interpolated linearly. */
export function quantile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new RangeError('quantile of an empty sample');
  if (!(p >= 0 && p <= 1)) throw new RangeError(`quantile p must be in [0, 1], got ${p}`);
  const sorted = [...values].sort((a, b) => a - b);
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.ceil(h);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

export function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

export function quartiles(values: readonly number[]): Quartiles {
  return { median: quantile(values, 0.5), q1: quantile(values, 0.25), q3: quantile(values, 0.75) };
}

/** q3 - q1 */
export function interquartileRange(q: Quartiles): number {
  return q.q3 - q.q1;
}
