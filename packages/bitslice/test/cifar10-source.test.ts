import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRng, InvalidInputError, readDataset } from '@cbnn/core';
import { buildDataset, CIFAR10_RECORD_SIZE, datasetParamsSchema, loadSource } from '@cbnn/bitslice';
import { cifarBatchBytes, tempDir, pixelsOf } from './fixtures';

const params = (paths: Record<string, unknown>, extra: Record<string, unknown> = {}) => datasetParamsSchema.parse({ source: 'cifar10', paths, ...extra });

function batch(n: number, seed: number): { labels: number[]; rgb: Uint8Array; bytes: Buffer } {
  const rng = createRng(seed);
  const labels = Array.from({ length: n }, (_, i) => i % 10);
  const rgb = rng.fillBytes(new Uint8Array(n * 1024 * 3));
  return { labels, rgb, bytes: cifarBatchBytes(labels, rgb) };
}

describe('cifar10 source', () => {
  const dir = tempDir();
  const batches = [1, 2, 3, 4, 5].map((i) => batch(10, i));
  const test = batch(10, 9);
  batches.forEach((b, i) => fs.writeFileSync(path.join(dir, `data_batch_${i + 1}.bin`), b.bytes));
  fs.writeFileSync(path.join(dir, 'test_batch.bin'), test.bytes);

  it('reads the five training batches and the canonical test batch, planar RGB to NHWC', () => {
    const { source, malformed } = loadSource(params({ dir }));
    expect(malformed.count).toBe(0);
    expect(source.channelNames).toEqual(['r', 'g', 'b']);
    expect(source.classNames[0]).toBe('airplane');
    expect(source.train.count).toBe(50);
    expect(source.test!.count).toBe(10);
    const expected = Buffer.concat(batches.map((b) => Buffer.from(b.rgb)));
    expect(Buffer.from(pixelsOf(source)).equals(expected)).toBe(true);
    // Spot check the conversion against the raw record: pixel 37 of record 3, green.
    const raw = batches[0].bytes;
    expect(pixelsOf(source)[(3 * 1024 + 37) * 3 + 1]).toBe(raw[3 * CIFAR10_RECORD_SIZE + 1 + 1024 + 37]);
    expect(Array.from(source.test!.labels)).toEqual(test.labels);
  });

  it('builds a 32x32x3 dataset artifact that keeps the test batch as the test split', () => {
    const out = path.join(dir, 'ds');
    const manifest = buildDataset(out, { source: 'cifar10', paths: { dir }, seed: 5, fractions: { validation: 0.2 } });
    expect(manifest.shape).toEqual({ height: 32, width: 32, channels: 3 });
    expect(manifest.splits.validation.perClass).toEqual(new Array(10).fill(1));
    expect(manifest.splits.test.count).toBe(10);
    expect(Buffer.from(readDataset(out).split('test').images).equals(Buffer.from(test.rgb))).toBe(true);
  });

  it('rejects a file that is not a whole number of 3073-byte records', () => {
    const file = path.join(dir, 'truncated.bin');
    fs.writeFileSync(file, batches[0].bytes.subarray(0, 3 * CIFAR10_RECORD_SIZE + 100));
    let error: unknown;
    try {
      loadSource(params({ train: [file] }));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).location.file).toBe(file);
    expect((error as Error).message).toMatch(/file is 9319 bytes, not a whole number of 3073-byte CIFAR-10 records .*3 records and 100 extra bytes/);
    const empty = path.join(dir, 'empty.bin');
    fs.writeFileSync(empty, '');
    expect(() => loadSource(params({ train: [empty] }))).toThrow(/file is 0 bytes/);
  });

  it('excludes records with a label outside 0..9 and names the file and index', () => {
    const bad = batch(10, 11);
    bad.bytes[4 * CIFAR10_RECORD_SIZE] = 10;
    const file = path.join(dir, 'bad-label.bin');
    fs.writeFileSync(file, bad.bytes);
    const { source, malformed } = loadSource(params({ train: [file] }, { maxMalformedFraction: 0.2 }));
    expect(source.train.count).toBe(9);
    expect(malformed.records).toEqual([{ file: 'bad-label.bin', index: 4, reason: 'label 10 is outside the 10 CIFAR-10 classes (0..9)' }]);
    expect(() => loadSource(params({ train: [file] }))).toThrow(/1 of 10 records/);
  });

  it('names the missing batch files of a folder', () => {
    const partial = tempDir();
    fs.writeFileSync(path.join(partial, 'data_batch_1.bin'), batches[0].bytes);
    expect(() => loadSource(params({ dir: partial }))).toThrow(
      /lacks data_batch_2\.bin, data_batch_3\.bin, data_batch_4\.bin, data_batch_5\.bin, test_batch\.bin/,
    );
  });
});
