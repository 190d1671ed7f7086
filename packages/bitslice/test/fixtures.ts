import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { createRng } from '@cbnn/core';

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
