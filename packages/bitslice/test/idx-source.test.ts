import * as fs from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { InvalidInputError, readDataset } from '@cbnn/core';
import { buildDataset, datasetParamsSchema, loadSource, readIdxFile } from '@cbnn/bitslice';
import { idxBytes, randomImages, tempDir, writeIdxPair, pixelsOf } from './fixtures';

const params = (paths: Record<string, unknown>, extra: Record<string, unknown> = {}) => datasetParamsSchema.parse({ source: 'idx', paths, ...extra });

describe('idx source', () => {
  const dir = tempDir();
  const train = randomImages(50, 6, 5, 10, 1);
  const test = randomImages(20, 6, 5, 10, 2);

  it.each([false, true])('loads plain and gzip files (gzip=%s) with the canonical test split, pixels exact', (gzip) => {
    const sub = path.join(dir, gzip ? 'gz' : 'plain');
    fs.mkdirSync(sub, { recursive: true });
    const tr = writeIdxPair(sub, 'train', train, gzip);
    const te = writeIdxPair(sub, 't10k', test, gzip);
    const { source, malformed } = loadSource(params({ trainImages: tr.images, trainLabels: tr.labels, testImages: te.images, testLabels: te.labels }));
    expect(malformed.count).toBe(0);
    expect(source.shape).toEqual({ height: 6, width: 5, channels: 1 });
    expect(Buffer.from(pixelsOf(source)).equals(Buffer.from(train.pixels))).toBe(true);
    expect(Array.from(source.train.labels)).toEqual(Array.from(train.labels));
    expect(Buffer.from(pixelsOf(source, 'test')).equals(Buffer.from(test.pixels))).toBe(true);
    expect(source.files[0]).toMatch(/^train-images-idx3-ubyte(\.gz)? sha256:[0-9a-f]{64}$/);

    const out = path.join(sub, 'ds');
    const manifest = buildDataset(out, {
      source: 'idx',
      paths: { trainImages: tr.images, trainLabels: tr.labels, testImages: te.images, testLabels: te.labels, classes: 'fashion' },
      seed: 3,
    });
    expect(manifest.classNames[9]).toBe('Ankle boot');
    expect(manifest.splits.test.count).toBe(20);
    expect(manifest.splits.train.count + manifest.splits.validation.count).toBe(50);
    // The canonical test split is kept whole and in order.
    const ds = readDataset(out);
    expect(Buffer.from(ds.split('test').images).equals(Buffer.from(test.pixels))).toBe(true);
  });

  function expectInvalid(fn: () => unknown, file: string, message: RegExp): void {
    let error: unknown;
    try {
      fn();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).location.file).toBe(file);
    expect((error as Error).message).toMatch(message);
  }

  it('rejects a foreign file (wrong magic), naming the file and what was expected', () => {
    const file = path.join(dir, 'foreign.png');
    fs.writeFileSync(file, Buffer.from('\x89PNG\r\n\x1a\n0000000000000000', 'latin1'));
    expectInvalid(() => readIdxFile(file, 'images'), file, /magic number 0x89504e47 is not an IDX magic; expected an IDX images file \(magic 0x00000803/);
  });

  it('rejects a labels file given as images (dimension count) and non-byte data types', () => {
    const labels = path.join(dir, 'labels-as-images');
    fs.writeFileSync(labels, idxBytes(0x08, [3], new Uint8Array(3)));
    expectInvalid(() => readIdxFile(labels, 'images'), labels, /declares 1 dimensions; expected an IDX images file/);
    const floats = path.join(dir, 'floats');
    fs.writeFileSync(floats, idxBytes(0x0d, [1, 1, 1], new Uint8Array(4)));
    expectInvalid(() => readIdxFile(floats, 'images'), floats, /declares float data/);
  });

  it('rejects declared dimensions that do not match the file size (truncated, trailing data, short header)', () => {
    const full = idxBytes(0x08, [4, 3, 3], new Uint8Array(36));
    const truncated = path.join(dir, 'truncated');
    fs.writeFileSync(truncated, full.subarray(0, full.length - 5));
    expectInvalid(
      () => readIdxFile(truncated, 'images'),
      truncated,
      /declares 4x3x3 = 36 bytes of data but the file has 31 after the 16-byte header \(truncated\)/,
    );
    const trailing = path.join(dir, 'trailing');
    fs.writeFileSync(trailing, Buffer.concat([full, Buffer.alloc(2)]));
    expectInvalid(() => readIdxFile(trailing, 'images'), trailing, /\(trailing data\)/);
    const shortHeader = path.join(dir, 'short-header');
    fs.writeFileSync(shortHeader, full.subarray(0, 10));
    expectInvalid(() => readIdxFile(shortHeader, 'images'), shortHeader, /shorter than its 16-byte header/);
    const truncatedGzip = path.join(dir, 'truncated.gz');
    const gz = gzipSync(full);
    fs.writeFileSync(truncatedGzip, gz.subarray(0, gz.length - 8));
    expectInvalid(() => readIdxFile(truncatedGzip, 'images'), truncatedGzip, /gzip file whose stream is corrupt or truncated/);
  });

  it('rejects a label count that differs from the image count', () => {
    const sub = path.join(dir, 'count');
    fs.mkdirSync(sub);
    const tr = writeIdxPair(sub, 'train', train, false);
    fs.writeFileSync(tr.labels, idxBytes(0x08, [49], train.labels.subarray(0, 49)));
    expectInvalid(() => loadSource(params({ trainImages: tr.images, trainLabels: tr.labels })), tr.labels, /49 labels for 50 images/);
  });

  it('excludes records whose label is out of range, lists them, and fails past maxMalformedFraction', () => {
    const sub = path.join(dir, 'bad-labels');
    fs.mkdirSync(sub);
    const bad = { ...train, labels: Uint8Array.from(train.labels) };
    bad.labels[7] = 10;
    bad.labels[30] = 255;
    const tr = writeIdxPair(sub, 'train', bad, false);
    const ok = loadSource(params({ trainImages: tr.images, trainLabels: tr.labels }, { maxMalformedFraction: 0.05 }));
    expect(ok.source.train.count).toBe(48);
    expect(ok.malformed.report()).toEqual({
      count: 2,
      records: [
        { file: 'train-labels-idx1-ubyte', index: 7, reason: 'label 10 is outside the 10 classes (0..9)' },
        { file: 'train-labels-idx1-ubyte', index: 30, reason: 'label 255 is outside the 10 classes (0..9)' },
      ],
    });
    // 2 of 50 = 4% > 1% (the default).
    expect(() => loadSource(params({ trainImages: tr.images, trainLabels: tr.labels }))).toThrow(
      /2 of 50 records \(4\.000%\) are malformed, more than maxMalformedFraction 0\.01/,
    );
    // The manifest lists them too.
    const manifest = buildDataset(path.join(sub, 'ds'), {
      source: 'idx',
      paths: { trainImages: tr.images, trainLabels: tr.labels },
      maxMalformedFraction: 0.05,
    });
    expect(manifest.malformed.count).toBe(2);
    expect(manifest.malformed.records[1].index).toBe(30);
  });

  it('reports bad paths params under the paths field', () => {
    expect(() => loadSource(params({ trainImages: 'x' }))).toThrow(InvalidInputError);
    expect(() => loadSource(params({ trainImages: 'x', trainLabels: 'y', testImages: 'z' }))).toThrow(/paths: give both testImages and testLabels/);
    expectInvalid(
      () => loadSource(params({ trainImages: path.join(dir, 'missing'), trainLabels: 'y' })),
      path.join(dir, 'missing'),
      /cannot read IDX images file: ENOENT/,
    );
  });
});
