import { apportion, assignSplits, type SplitAssignment } from '@cbnn/bitslice';

/** 10 classes of unequal size: class c has 40 + 7c records, interleaved. */
function labels(n: number, skew = true): Uint8Array {
  const out: number[] = [];
  for (let c = 0; c < 10; c++) for (let i = 0; i < (skew ? 40 + 7 * c : n / 10); i++) out.push(c);
  return Uint8Array.from(out.sort((a, b) => ((a * 7919) % 13) - ((b * 7919) % 13) || a - b));
}
const pool = labels(0);
const key = (a: SplitAssignment) => JSON.stringify(a);
const count = (refs: { index: number }[], c: number, l = pool) => refs.filter((r) => l[r.index] === c).length;

describe('splits', () => {
  const fractions = { validation: 0.1, test: 0.2 };

  it('same seed gives the same split; a different seed a different one', () => {
    expect(key(assignSplits([pool], 10, fractions, 42))).toBe(key(assignSplits([pool], 10, fractions, 42)));
    const a = assignSplits([pool], 10, fractions, 42);
    const b = assignSplits([pool], 10, fractions, 43);
    expect(new Set(a.test.map((r) => r.index))).not.toEqual(new Set(b.test.map((r) => r.index)));
  });

  it('is a partition of the pool, stratified per class', () => {
    const a = assignSplits([pool], 10, fractions, 7);
    const all = [...a.train, ...a.validation, ...a.test].map((r) => r.index).sort((x, y) => x - y);
    expect(all).toEqual(Array.from(pool.keys()));
    for (let c = 0; c < 10; c++) {
      const n = 40 + 7 * c;
      const nTest = Math.round(n * 0.2);
      expect(count(a.test, c)).toBe(nTest);
      expect(count(a.validation, c)).toBe(Math.round((n - nTest) * 0.1));
      expect(count(a.train, c)).toBe(n - nTest - Math.round((n - nTest) * 0.1));
    }
  });

  it('keeps a canonical test pool whole and in order, and splits validation from the training pool only', () => {
    const testPool = Uint8Array.from({ length: 30 }, (_, i) => i % 10);
    const a = assignSplits([pool, testPool], 10, fractions, 1);
    expect(a.test).toEqual(Array.from({ length: 30 }, (_, index) => ({ pool: 1, index })));
    expect([...a.train, ...a.validation].every((r) => r.pool === 0)).toBe(true);
    expect(a.train.length + a.validation.length).toBe(pool.length);
  });

  it('limits stratified: exact totals, classes and pools in proportion', () => {
    const testPool = Uint8Array.from({ length: 100 }, (_, i) => i % 10);
    const a = assignSplits([pool, testPool], 10, fractions, 1, { perClass: 20 });
    for (let c = 0; c < 10; c++) {
      const inTrainPool = count([...a.train, ...a.validation], c);
      expect(inTrainPool + count(a.test, c, testPool)).toBe(20);
      // Pools keep their share: class c has (40+7c) training records against 10 test records.
      expect(inTrainPool).toBe(apportion([40 + 7 * c, 10], 20)[0]);
    }
    const b = assignSplits([pool], 10, fractions, 1, { total: 100 });
    expect(b.train.length + b.validation.length + b.test.length).toBe(100);
    expect(count([...b.train, ...b.validation, ...b.test], 9)).toBeGreaterThan(count([...b.train, ...b.validation, ...b.test], 0));
  });

  it('apportion sums exactly and never exceeds a weight', () => {
    expect(apportion([1, 1, 1], 2)).toEqual([1, 1, 0]);
    expect(apportion([5, 0, 5], 3)).toEqual([2, 0, 1]);
    expect(apportion([3, 4], 100)).toEqual([3, 4]);
    expect(apportion([10, 20, 30], 30)).toEqual([5, 10, 15]);
  });
});
