/**
 * Summaries of one configuration trained with several seeds. Accuracies are fractions; the
 * spread is the sample standard deviation (n - 1), 0 for a single seed.
 */
export interface SeedSpread {
  n: number;
  mean: number;
  std: number;
}

export function spreadOf(values: readonly number[]): SeedSpread {
  const n = values.length;
  if (n === 0) throw new RangeError('spread of no values');
  const mean = values.reduce((s, v) => s + v, 0) / n;
  const variance = n > 1 ? values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1) : 0;
  return { n, mean, std: Math.sqrt(variance) };
}

/** Standard error of the difference of two independent means (seeds are independent runs). */
export function differenceStandardError(a: SeedSpread, b: SeedSpread): number {
  return Math.sqrt((a.std * a.std) / a.n + (b.std * b.std) / b.n);
}

/** Two-sided 97.5% quantiles of Student's t for 1..30 degrees of freedom (then the normal's). */
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069,
  2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

export function tQuantile975(degreesOfFreedom: number): number {
  if (degreesOfFreedom < 1) throw new RangeError('t quantile needs at least one degree of freedom');
  return T975[degreesOfFreedom - 1] ?? 1.96;
}

export interface Interval {
  low: number;
  high: number;
  /** How the interval was computed, for the report. */
  method: 'seeds-t' | 'wilson';
}

/**
 * A 95% interval on a test accuracy. With two or more seeds: the t interval of the mean over
 * seeds (it holds the training's run-to-run variance). With one seed: the Wilson score interval
 * of a proportion measured on `records` images (only the test set's sampling error: a one-seed
 * result says so).
 */
export function accuracyInterval95(spread: SeedSpread, records: number | undefined): Interval | undefined {
  if (spread.n >= 2) {
    const half = tQuantile975(spread.n - 1) * (spread.std / Math.sqrt(spread.n));
    return { low: Math.max(0, spread.mean - half), high: Math.min(1, spread.mean + half), method: 'seeds-t' };
  }
  if (!records) return undefined;
  const z = 1.96;
  const p = spread.mean;
  const denominator = 1 + (z * z) / records;
  const centre = (p + (z * z) / (2 * records)) / denominator;
  const half = (z * Math.sqrt((p * (1 - p)) / records + (z * z) / (4 * records * records))) / denominator;
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half), method: 'wilson' };
}
