import * as fs from 'node:fs';
import * as path from 'node:path';
import { InvalidInputError } from '@cbnn/core';
import { byteOfMnistValue, datasetParamsSchema, loadSource, THOUSANDTHS_TO_BYTE } from '@cbnn/bitslice';
import { mnistValue, tempDir, writeFashionJson, writeMnistJson, pixelsOf } from './fixtures';

const good = (seed: number): number[] => Array.from({ length: 784 }, (_, i) => (i * 31 + seed * 17) % 256);

describe('mnist value recovery', () => {
  it('maps each of the 256 roundings back to its byte, and nothing else', () => {
    const seen = new Set<number>();
    for (let v = 0; v < 256; v++) {
      expect(byteOfMnistValue(mnistValue(v))).toBe(v);
      seen.add(Math.round((v / 255) * 1000));
    }
    expect(seen.size).toBe(256);
    expect(Array.from(THOUSANDTHS_TO_BYTE).filter((b) => b >= 0)).toHaveLength(256);
    // 0.001 lies between 0 (0.000) and 1 (0.004): no byte rounds there.
    expect(byteOfMnistValue(0.001)).toBe(-1);
    expect(byteOfMnistValue(0.0039)).toBe(-1); // 4 decimals
    expect(byteOfMnistValue(1.004)).toBe(-1);
    expect(byteOfMnistValue(-0.004)).toBe(-1);
  });
});

describe('mnist source on a fixture in the package layout', () => {
  const dir = tempDir();
  const records = Array.from({ length: 10 }, (_, c) => [good(c), good(c + 100)]);
  const flat = records.map((rs) => rs.flat().map(mnistValue));
  flat[3].splice(784 + 5, 1, 0.001); // class 3, record 1: a value no byte rounds to
  flat[7].push(0, 0.5); // class 7: 2 trailing values
  writeMnistJson(dir, flat);
  const params = (extra = {}) => datasetParamsSchema.parse({ source: 'mnist', paths: { dir }, ...extra });

  it('recovers exact bytes and reports the malformed records', () => {
    const { source, malformed } = loadSource(params({ maxMalformedFraction: 0.2 }));
    expect(source.train.count).toBe(19);
    expect(source.examined).toBe(21);
    expect(Array.from(pixelsOf(source).subarray(0, 784))).toEqual(records[0][0]);
    expect(malformed.records).toEqual([
      { file: '3.json', index: 1, reason: 'pixel 5 is 0.001, not an 8-bit value/255 rounded to 3 decimals' },
      { file: '7.json', index: 2, reason: 'trailing 2 values do not make a whole 784-pixel record' },
    ]);
  });

  it('fails on a foreign JSON document, naming the file and the expected shape', () => {
    const other = tempDir();
    writeMnistJson(other, flat);
    fs.writeFileSync(path.join(other, '4.json'), '{"images": [1, 2]}');
    let error: unknown;
    try {
      loadSource(datasetParamsSchema.parse({ source: 'mnist', paths: { dir: other } }));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).location.file).toBe(path.join(other, '4.json'));
    expect((error as Error).message).toMatch(/expected the key "data", got "images" at byte 2.*expected \{"data": \[numbers\]\}/);
  });
});

describe('fashion-mnist source on a fixture in the package layout', () => {
  const dir = tempDir();
  const perClass = Array.from({ length: 10 }, (_, c) => [good(c), good(c + 1), good(c + 2)]);
  perClass[0].splice(1, 0, []); // empty record, as in the real package
  perClass[2][1] = [...good(5).slice(0, 783)]; // short
  perClass[4][0] = good(4).map((v, i) => (i === 9 ? 256 : v)); // out of range
  perClass[5][2] = good(5).map((v, i) => (i === 0 ? -1 : v)); // negative
  perClass[6][1] = good(6).map((v, i) => (i === 783 ? 1.5 : v)); // not an integer
  writeFashionJson(dir, perClass);

  it('keeps valid records with exact pixels and lists every malformed one with index and reason', () => {
    const { source, malformed } = loadSource(datasetParamsSchema.parse({ source: 'fashion-mnist', paths: { dir }, maxMalformedFraction: 0.2 }));
    expect(source.examined).toBe(31);
    expect(source.train.count).toBe(26);
    expect(source.classNames[9]).toBe('Ankle boot');
    expect(Array.from(pixelsOf(source).subarray(784, 2 * 784))).toEqual(good(1));
    expect(malformed.records).toEqual([
      { file: '0.json', index: 1, reason: 'record has 0 values, expected 784 (28x28)' },
      { file: '2.json', index: 1, reason: 'record has 783 values, expected 784 (28x28)' },
      { file: '4.json', index: 0, reason: 'pixel 9 is 256, expected an integer 0..255' },
      { file: '5.json', index: 2, reason: 'pixel 0 is -1, expected an integer 0..255' },
      { file: '6.json', index: 1, reason: 'pixel 783 is 1.5, expected an integer 0..255' },
    ]);
    expect(() => loadSource(datasetParamsSchema.parse({ source: 'fashion-mnist', paths: { dir } }))).toThrow(/5 of 31 records \(16\.129%\) are malformed/);
  });

  it('fails on truncated JSON and on non-numbers, with the byte offset', () => {
    const other = tempDir();
    writeFashionJson(other, perClass);
    const file = path.join(other, '1.json');
    const text = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(file, text.slice(0, 1000));
    expect(() => loadSource(datasetParamsSchema.parse({ source: 'fashion-mnist', paths: { dir: other } }))).toThrow(
      /expected a number at byte 1000, found end of file/,
    );
    fs.writeFileSync(file, '{"data": [[1, null]]}');
    expect(() => loadSource(datasetParamsSchema.parse({ source: 'fashion-mnist', paths: { dir: other } }))).toThrow(/expected a number at byte 14, found 'n'/);
    fs.rmSync(path.join(other, '8.json'));
    fs.writeFileSync(file, text);
    expect(() => loadSource(datasetParamsSchema.parse({ source: 'fashion-mnist', paths: { dir: other } }))).toThrow(
      /cannot read fashion-mnist class file for class 8: ENOENT/,
    );
  });
});
