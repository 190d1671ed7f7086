import * as fs from 'node:fs';
import * as path from 'node:path';
import { zipSync } from 'fflate';
import { readDataset } from '@cbnn/core';
import { buildDataset, datasetParamsSchema, encodeNpy as npyBytes, loadSource } from '@cbnn/bitslice';
import { mnistDigits, sourceError, tempDir, pixelsOf } from './fixtures';
import { listZipEntries, readAt } from '../src/sources/zip-entries';

const params = (paths: Record<string, unknown>, extra: Record<string, unknown> = {}) => datasetParamsSchema.parse({ source: 'npy', paths, ...extra });

const loadError = (paths: Record<string, unknown>) => sourceError(params(paths));

/** Labels as int64, the dtype numpy gives a Python list of ints; `bigEndian` for '>i8'. */
function int64(labels: ArrayLike<number>, bigEndian = false): Uint8Array {
  const b = Buffer.alloc(labels.length * 8);
  for (let i = 0; i < labels.length; i++) (bigEndian ? b.writeBigInt64BE : b.writeBigInt64LE).call(b, BigInt(labels[i]), i * 8);
  return b;
}

describe('npy source', () => {
  const digits = mnistDigits(5);
  const dir = tempDir('npy-source-');
  const write = (name: string, bytes: Uint8Array): string => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, bytes);
    return f;
  };
  const images = write('images.npy', npyBytes('|u1', [50, 28, 28], digits.pixels));
  const labels = write('labels.npy', npyBytes('<i8', [50], int64(digits.labels)));

  it('reads images.npy (uint8 N x H x W) and labels.npy (int64) back to exactly the digits', () => {
    const { source, malformed } = loadSource(params({ images, labels }));
    expect(malformed.count).toBe(0);
    expect(source.shape).toEqual({ height: 28, width: 28, channels: 1 });
    expect(source.classNames).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(Buffer.from(pixelsOf(source)).equals(Buffer.from(digits.pixels))).toBe(true);
    expect(Array.from(source.train.labels)).toEqual(Array.from(digits.labels));
    const out = path.join(dir, 'ds');
    const manifest = buildDataset(out, params({ images, labels }, { seed: 2 }));
    expect(manifest.splits.test.perClass).toEqual(new Array(10).fill(1));
    expect(manifest.source.description).toBe("NumPy arrays: images uint8 ('|u1') (50, 28, 28), labels int64 ('<i8') (50)");
    expect(readDataset(out).manifest.source.files).toEqual([
      expect.stringMatching(/^images\.npy sha256:[0-9a-f]{64}$/),
      expect.stringMatching(/^labels\.npy sha256:/),
    ]);
  });

  it('reads an .npz (stored or deflated, as np.savez and np.savez_compressed write it), big-endian and (N, 1) labels, RGB channels last', () => {
    const rgb = new Uint8Array(50 * 784 * 3);
    for (let p = 0; p < 50 * 784; p++) rgb.set([digits.pixels[p], 255 - digits.pixels[p], 7], p * 3);
    const entries = {
      'images.npy': npyBytes('|u1', [50, 28, 28, 3], rgb),
      'labels.npy': npyBytes('>i2', [50, 1], Uint8Array.from(Array.from(digits.labels).flatMap((l) => [0, l]))),
    };
    for (const level of [0, 6] as const) {
      const file = write(`data-${level}.npz`, zipSync(entries, { level }));
      const { source } = loadSource(params({ file, classes: ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'] }));
      expect(source.channelNames).toEqual(['r', 'g', 'b']);
      expect(source.classNames[9]).toBe('nine');
      expect(Buffer.from(pixelsOf(source)).equals(Buffer.from(rgb))).toBe(true);
      expect(Array.from(source.train.labels)).toEqual(Array.from(digits.labels));
      // Stored (np.savez): the images entry is found in place and read there; deflated: unzipped in memory.
      const fd = fs.openSync(file, 'r');
      const located = listZipEntries(fd, fs.fstatSync(fd).size)!;
      const entry = located.find((e) => e.name === 'images.npy')!;
      expect(entry.method).toBe(level === 0 ? 0 : 8);
      if (level === 0) expect(readAt(fd, entry.dataOffset, entry.size).equals(entries['images.npy'])).toBe(true);
      fs.closeSync(fd);
    }
  });

  it('counts a label outside the classes as a malformed record', () => {
    const l = Array.from(digits.labels);
    l[3] = -1;
    const file = write('neg-labels.npy', npyBytes('<i8', [50], int64(l)));
    const { source, malformed } = loadSource(params({ images, labels: file }, { maxMalformedFraction: 0.05 }));
    expect(source.train.count).toBe(49);
    expect(malformed.records).toEqual([{ file: 'neg-labels.npy', index: 3, reason: 'label -1 is outside the 10 classes (0..9)' }]);
  });

  it('refuses float pixels, a wrong rank, Fortran order, counts that differ, truncation and an .npz without the arrays', () => {
    const cases: [string, Uint8Array, 'images' | 'labels', RegExp][] = [
      ['float.npy', npyBytes('<f4', [50, 28, 28], new Uint8Array(50 * 784 * 4)), 'images', /images: dtype is float32 \('<f4'\), expected uint8/],
      ['flat.npy', npyBytes('|u1', [50, 784], digits.pixels), 'images', /images: shape \(50, 784\) has rank 2; expected N x H x W/],
      ['fortran.npy', npyBytes('|u1', [50, 28, 28], digits.pixels, true), 'images', /images: is stored in Fortran order/],
      [
        'short.npy',
        npyBytes('|u1', [50, 28, 28], digits.pixels.subarray(0, 1000)),
        'images',
        /data is 1000 bytes, but the header's shape \(50, 28, 28\) of '\|u1' needs 39200 \(truncated\)/,
      ],
      ['few-labels.npy', npyBytes('<i8', [49], int64(digits.labels.subarray(0, 49))), 'labels', /labels: 49 labels for 50 images/],
      ['float-labels.npy', npyBytes('<f8', [50], new Uint8Array(400)), 'labels', /labels: dtype is float64 \('<f8'\), expected an integer/],
      ['text.npy', Buffer.from('hello'), 'images', /not a NumPy \.npy file/],
    ];
    for (const [name, bytes, role, reason] of cases) {
      const file = write(name, bytes);
      const e = loadError(role === 'images' ? { images: file, labels } : { images, labels: file });
      expect(e.location.file).toBe(file);
      expect(e.message).toMatch(reason);
      expect(e.exitCode).toBe(3);
    }
    const npz = write('unnamed.npz', zipSync({ 'arr_0.npy': fs.readFileSync(images), 'arr_1.npy': fs.readFileSync(labels) }));
    expect(loadError({ file: npz }).message).toMatch(/lacks images\.npy and labels\.npy; it holds arr_0\.npy, arr_1\.npy/);
    expect(loadError({ file: images }).message).toMatch(/not a readable \.npz \(zip\) archive/);
  });
});
