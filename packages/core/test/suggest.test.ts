import { didYouMean, editDistance, nearest } from '../src';

describe('nearest names', () => {
  it('counts edits, a swap of neighbours as one', () => {
    expect(editDistance('data', 'data')).toBe(0);
    expect(editDistance('dta', 'data')).toBe(1);
    expect(editDistance('dtaa', 'data')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });

  it('suggests the closest within a third of the length, prefixes too, nothing when far', () => {
    expect(nearest('sensitivty', ['data', 'sensitivity', 'select'])).toEqual(['sensitivity']);
    expect(nearest('sea', ['search', 'select'])).toEqual(['search']);
    expect(nearest('ghost', ['data', 'baseline'])).toEqual([]);
    expect(nearest('Data', ['data'])).toEqual(['data']);
    expect(didYouMean('baselin', ['baseline', 'fp'])).toBe("did you mean 'baseline'?");
    expect(didYouMean('zzz', ['baseline'])).toBeUndefined();
  });
});
