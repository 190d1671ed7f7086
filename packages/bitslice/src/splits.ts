import { createRng, type Rng } from '@cbnn/core';

/**
 * Deterministic stratified splits. Everything here works on record indices into a source's
 * pools, so pixels are copied exactly once (into the artifact), whatever the split.
 */
export interface SplitFractions {
  /** Fraction of the training pool (after the test split is taken) kept for validation. */
  validation: number;
  /** Fraction of all records held out for test; only used without a canonical test split. */
  test: number;
}

export interface SampleLimit {
  /** At most this many records in all (stratified: classes and pools keep their proportions). */
  total?: number;
  /** At most this many records per class (pools keep their proportions). */
  perClass?: number;
}

/** A record: which pool (0 = training pool, 1 = canonical test pool) and its index there. */
export interface SplitAssignment {
  train: RecordRef[];
  validation: RecordRef[];
  test: RecordRef[];
}
export interface RecordRef {
  pool: number;
  index: number;
}

/**
 * Largest-remainder apportionment: integers summing to exactly `target` (capped at the sum of
 * `weights`), proportional to `weights`, each at most its weight. Ties go to the earlier cell,
 * so the result is deterministic.
 */
export function apportion(weights: readonly number[], target: number): number[] {
  const sum = weights.reduce((a, w) => a + w, 0);
  if (target >= sum) return [...weights];
  if (sum === 0 || target <= 0) return weights.map(() => 0);
  const exact = weights.map((w) => (w * target) / sum);
  const out = exact.map((x) => Math.floor(x));
  let left = target - out.reduce((a, x) => a + x, 0);
  const order = exact.map((x, i) => ({ i, r: x - Math.floor(x) })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (const { i } of order) {
    if (left === 0) break;
    if (out[i] < weights[i]) {
      out[i]++;
      left--;
    }
  }
  return out;
}

/** Indices of each class in a label array, in record order. */
export function indicesByClass(labels: Uint8Array, classCount: number): number[][] {
  const out: number[][] = Array.from({ length: classCount }, () => []);
  for (let i = 0; i < labels.length; i++) out[labels[i]].push(i);
  return out;
}

function shuffled(items: number[], rng: Rng): number[] {
  return rng.shuffle([...items]);
}

/**
 * Split the pools. Pool 1, if present, is the canonical test split (kept whole, in its order);
 * otherwise a stratified `fractions.test` of pool 0 per class is. Validation is a stratified
 * `fractions.validation` of what remains of pool 0. `limit` first subsamples every
 * (pool, class) cell, stratified. Train and validation are stored shuffled so that classes are
 * interleaved; every random choice draws from its own fork of `seed`.
 */
export function assignSplits(
  poolLabels: readonly Uint8Array[],
  classCount: number,
  fractions: SplitFractions,
  seed: number,
  limit?: SampleLimit,
): SplitAssignment {
  const rng = createRng(seed);
  const cells = poolLabels.map((labels) => indicesByClass(labels, classCount));
  const kept = applyLimit(cells, classCount, rng.fork('limit'), limit);
  const canonicalTest = poolLabels.length > 1;

  const train: RecordRef[] = [];
  const validation: RecordRef[] = [];
  const test: RecordRef[] = [];
  for (let c = 0; c < classCount; c++) {
    let pool0 = shuffled(kept[0][c], rng.fork(`split:class:${c}`));
    if (!canonicalTest) {
      const nTest = Math.round(pool0.length * fractions.test);
      for (const index of pool0.slice(0, nTest)) test.push({ pool: 0, index });
      pool0 = pool0.slice(nTest);
    }
    const nValidation = Math.round(pool0.length * fractions.validation);
    for (const index of pool0.slice(0, nValidation)) validation.push({ pool: 0, index });
    for (const index of pool0.slice(nValidation)) train.push({ pool: 0, index });
  }
  if (canonicalTest) {
    const indices = kept[1].flat().sort((a, b) => a - b);
    for (const index of indices) test.push({ pool: 1, index });
  } else {
    rng.fork('order:test').shuffle(test);
  }
  rng.fork('order:train').shuffle(train);
  rng.fork('order:validation').shuffle(validation);
  return { train, validation, test };
}

function applyLimit(cells: number[][][], classCount: number, rng: Rng, limit?: SampleLimit): number[][][] {
  if (!limit || (limit.total === undefined && limit.perClass === undefined)) return cells;
  let counts = cells.map((pool) => pool.map((indices) => indices.length));
  if (limit.perClass !== undefined) {
    const perClass = limit.perClass;
    for (let c = 0; c < classCount; c++) {
      const shares = apportion(
        counts.map((pool) => pool[c]),
        perClass,
      );
      counts.forEach((pool, p) => (pool[c] = shares[p]));
    }
  }
  if (limit.total !== undefined) {
    const flat = apportion(counts.flat(), limit.total);
    counts = counts.map((_, p) => flat.slice(p * classCount, (p + 1) * classCount));
  }
  return cells.map((pool, p) =>
    pool.map((indices, c) =>
      shuffled(indices, rng.fork(`pool:${p}:class:${c}`))
        .slice(0, counts[p][c])
        .sort((a, b) => a - b),
    ),
  );
}
