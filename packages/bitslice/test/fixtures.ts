import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { createRng, InvalidInputError } from '@cbnn/core';

/** Fixtures in the sources' real file formats, generated per test run. */
export function tempDir(prefix = 'bitslice-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface ImageSet {
  count: number;
  height: number;
  width: number;
  /** count*H*W pixels, row-major. */
  pixels: Uint8Array;
  labels: Uint8Array;
}

export function randomImages(count: number, height: number, width: number, classes: number, seed: number): ImageSet {
  const rng = createRng(seed);
  const pixels = rng.fillBytes(new Uint8Array(count * height * width));
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) labels[i] = i % classes;
  return { count, height, width, pixels, labels };
}

export function idxBytes(magicType: number, dims: number[], data: Uint8Array): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = magicType;
  header[3] = dims.length;
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(data)]);
}

/** IDX image + label files (magic 0x803 / 0x801), optionally gzip. */
export function writeIdxPair(dir: string, prefix: string, set: ImageSet, gzip: boolean): { images: string; labels: string } {
  const wrap = (b: Buffer): Buffer => (gzip ? gzipSync(b) : b);
  const ext = gzip ? '.gz' : '';
  const images = path.join(dir, `${prefix}-images-idx3-ubyte${ext}`);
  const labels = path.join(dir, `${prefix}-labels-idx1-ubyte${ext}`);
  fs.writeFileSync(images, wrap(idxBytes(0x08, [set.count, set.height, set.width], set.pixels)));
  fs.writeFileSync(labels, wrap(idxBytes(0x08, [set.count], set.labels)));
  return { images, labels };
}

/** CIFAR-10 binary batch: per record 1 label byte then R, G, B 32x32 planes. `rgb` is NHWC. */
export function cifarBatchBytes(labels: ArrayLike<number>, rgb: Uint8Array): Buffer {
  const n = labels.length;
  const out = Buffer.alloc(n * 3073);
  for (let i = 0; i < n; i++) {
    out[i * 3073] = labels[i];
    for (let p = 0; p < 1024; p++) for (let c = 0; c < 3; c++) out[i * 3073 + 1 + c * 1024 + p] = rgb[(i * 1024 + p) * 3 + c];
  }
  return out;
}

/** A fashion-mnist package layout: <dir>/<class>.json = {"data": [[784 ints], ...]}. */
export function writeFashionJson(dir: string, perClass: number[][][]): void {
  fs.mkdirSync(dir, { recursive: true });
  perClass.forEach((records, c) => fs.writeFileSync(path.join(dir, `${c}.json`), JSON.stringify({ data: records })));
}

/** An mnist package layout: <dir>/<class>.json = {"data": [flat values v/255 rounded to 3 decimals]}. */
export function writeMnistJson(dir: string, perClassFlat: number[][]): void {
  fs.mkdirSync(dir, { recursive: true });
  perClassFlat.forEach((values, c) => fs.writeFileSync(path.join(dir, `${c}.json`), `{ "data": [${values.join(',')}] }`));
}

export function mnistValue(byte: number): number {
  return Math.round((byte / 255) * 1000) / 1000;
}

/** The first `perClass` digits of each class of the embedded mnist package (28x28 grey). */
export function mnistDigits(perClass: number): ImageSet {
  // Imported here so that fixtures stay cheap for tests that do not need the package.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { loadSource, datasetParamsSchema } = require('@cbnn/bitslice') as typeof import('@cbnn/bitslice');
  const { source } = loadSource(datasetParamsSchema.parse({ source: 'mnist' }));
  const taken = new Array<number>(10).fill(0);
  const pixels = new Uint8Array(perClass * 10 * 784);
  const labels = new Uint8Array(perClass * 10);
  let n = 0;
  for (let i = 0; i < source.train.count && n < perClass * 10; i++) {
    const label = source.train.labels[i];
    if (taken[label] >= perClass) continue;
    taken[label]++;
    source.train.read(i, pixels.subarray(n * 784, (n + 1) * 784));
    labels[n++] = label;
  }
  return { count: n, height: 28, width: 28, pixels, labels };
}

/** A PNG of interleaved samples: 1 channel grey, 3 RGB, 4 RGBA; 16-bit takes samples 0..65535. */
export function pngBytes(height: number, width: number, channels: 1 | 3 | 4, samples: ArrayLike<number>, bitDepth: 8 | 16 = 8): Buffer {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { PNG } = require('pngjs') as typeof import('pngjs');
  const colorType = channels === 1 ? 0 : channels === 3 ? 2 : 6;
  const options = { width, height, colorType, inputColorType: colorType, bitDepth, inputHasAlpha: channels === 4 } as const;
  const png = new PNG(options);
  png.data = (bitDepth === 16 ? Uint16Array.from(samples) : Buffer.from(Uint8Array.from(samples))) as Buffer;
  return PNG.sync.write(png, options);
}

/** A baseline JPEG of grey pixels (jpeg-js encodes RGBA input). */
export function jpegBytes(height: number, width: number, grey: Uint8Array, quality = 95): Buffer {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const jpeg = require('jpeg-js') as typeof import('jpeg-js');
  const rgba = Buffer.alloc(height * width * 4);
  for (let p = 0; p < height * width; p++) {
    rgba.fill(grey[p], p * 4, p * 4 + 3);
    rgba[p * 4 + 3] = 255;
  }
  return jpeg.encode({ data: rgba, width, height }, quality).data;
}

/** Write a class-folder tree: <dir>/<class>/<nnnn>.png, one digit per file; returns the file paths in listing order. */
export function writeDigitFolder(
  dir: string,
  set: ImageSet,
  classNames: string[],
  encode: (pixels: Uint8Array) => Buffer = (p) => pngBytes(28, 28, 1, p),
): string[] {
  const files: string[] = [];
  for (let i = 0; i < set.count; i++) {
    const classDir = path.join(dir, classNames[set.labels[i]]);
    fs.mkdirSync(classDir, { recursive: true });
    const file = path.join(classDir, `${String(i).padStart(4, '0')}.png`);
    fs.writeFileSync(file, encode(set.pixels.subarray(i * 784, (i + 1) * 784)));
    files.push(file);
  }
  return files;
}

/**
 * loadSource, then every record read (as buildDataset reads them) and the source finished, so
 * that the returned source has its late facts (files.txt, description) and every file was checked.
 */
export function loadSourceFully(params: unknown): import('@cbnn/bitslice').LoadResult {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { loadSource } = require('@cbnn/bitslice') as typeof import('@cbnn/bitslice');
  const { source, malformed } = loadSource(params as Parameters<typeof loadSource>[0]);
  try {
    pixelsOf(source);
    if (source.test) pixelsOf(source, 'test');
    return { source: { ...source, ...source.finish?.() }, malformed };
  } finally {
    source.close?.();
  }
}

/** Load (and read) through a source and return the InvalidInputError it must throw. */
export function sourceError(params: unknown): InvalidInputError {
  try {
    loadSourceFully(params);
  } catch (e) {
    if (e instanceof InvalidInputError) return e;
    throw e;
  }
  throw new Error('expected the source to refuse the input');
}

/** All pixels of a loaded source's pool, read record by record (as the dataset builder does). */
export function pixelsOf(source: import('@cbnn/bitslice').LoadedSource, pool: 'train' | 'test' = 'train'): Uint8Array {
  const records = pool === 'train' ? source.train : source.test!;
  const size = source.shape.height * source.shape.width * source.shape.channels;
  const out = new Uint8Array(records.count * size);
  for (let i = 0; i < records.count; i++) records.read(i, out.subarray(i * size, (i + 1) * size));
  return out;
}
