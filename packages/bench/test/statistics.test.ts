import { interquartileRange, median, quantile, quartiles } from '../src/statistics';

describe('statistics', () => {
  it('median of odd and even samples, in any order', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
  });

  it('quartiles interpolate linearly between order statistics (R type 7, NumPy default)', () => {
    // numpy.percentile([1, 2, 3, 4], [25, 50, 75]) -> [1.75, 2.5, 3.25]
    expect(quartiles([4, 2, 1, 3])).toEqual({ median: 2.5, q1: 1.75, q3: 3.25 });
    // numpy.percentile([10, 20, 30, 40, 50], [25, 75]) -> [20, 40]
    const q = quartiles([50, 10, 40, 20, 30]);
    expect([q.q1, q.median, q.q3]).toEqual([20, 30, 40]);
    expect(interquartileRange(q)).toBe(20);
    expect(quantile([1, 2, 3, 4, 100], 1)).toBe(100);
    expect(quantile([1, 2, 3, 4, 100], 0)).toBe(1);
  });

  it('a single sample has zero spread', () => {
    expect(quartiles([0.5])).toEqual({ median: 0.5, q1: 0.5, q3: 0.5 });
  });

  it('does not reorder its input', () => {
    const values = [3, 1, 2];
    median(values);
    expect(values).toEqual([3, 1, 2]);
  });

  it('rejects an empty sample and p outside [0, 1]', () => {
    expect(() => median([])).toThrow(/empty/);
    expect(() => quantile([1], 1.5)).toThrow(/\[0, 1\]/);
  });
});
