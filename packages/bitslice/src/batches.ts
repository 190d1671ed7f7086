import { createRng, InvalidInputError, type Dataset, type PlaneLayout, type SplitName } from '@cbnn/core';
import { checkLayoutChannels, floatPlaneRuns, packedPlaneTable, SCALED_PIXEL_TABLE } from './plane-tables';

export interface BatchOptions {
  split: SplitName;
  batchSize: number;
  /** Shuffle the record order with createRng(seed).fork(epoch). Default false (stored order). */
  shuffle?: boolean;
  /** Default: the dataset's seed. */
  seed?: number;
  epoch?: number;
  /** Only the first `limit` records of the split (in stored order, before shuffling). */
  limit?: number;
  /** Drop a last short batch instead of yielding it. */
  dropRemainder?: boolean;
}

export interface PlaneBatchOptions extends BatchOptions {
  layout: PlaneLayout;
}

/**
 * One batch. The buffers are reused between yields (copy what you keep); for a short last batch
 * they are views of the first `count` records.
 */
export interface Batch<X> {
  x: X;
  labels: Uint8Array;
  count: number;
  /** Record indices within the split. */
  indices: Uint32Array;
}

/** Checked when the iterator is made, not at the first `next()`. */
function checkBatchOptions(options: BatchOptions): void {
  const { batchSize, limit } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new InvalidInputError(`batchSize must be a positive integer, got ${batchSize}`, { field: 'batchSize' });
  if (limit !== undefined && !(limit >= 0)) throw new InvalidInputError(`limit must be >= 0, got ${limit}`, { field: 'limit' });
}

/** The record order of one epoch and the batch loop around a per-record writer. */
function* batchLoop<X extends Float32Array | Uint32Array>(
  dataset: Dataset,
  options: BatchOptions,
  valuesPerImage: number,
  makeBuffer: (length: number) => X,
  writeRecord: (images: Uint8Array, record: number, x: X, slot: number) => void,
): Generator<Batch<X>, void, undefined> {
  const { batchSize } = options;
  const split = dataset.split(options.split);
  const n = options.limit === undefined ? split.count : Math.max(0, Math.min(split.count, Math.floor(options.limit)));
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  if (options.shuffle)
    createRng(options.seed ?? dataset.manifest.seed)
      .fork(options.epoch ?? 0)
      .shuffle(order);

  const x = makeBuffer(batchSize * valuesPerImage);
  const labels = new Uint8Array(batchSize);
  const indices = new Uint32Array(batchSize);
  for (let start = 0; start < n; start += batchSize) {
    const count = Math.min(batchSize, n - start);
    if (count < batchSize && options.dropRemainder) return;
    for (let slot = 0; slot < count; slot++) {
      const record = order[start + slot];
      writeRecord(split.images, record, x, slot);
      labels[slot] = split.labels[record];
      indices[slot] = record;
    }
    yield count === batchSize
      ? { x, labels, count, indices }
      : { x: x.subarray(0, count * valuesPerImage) as X, labels: labels.subarray(0, count), count, indices: indices.subarray(0, count) };
  }
}

/** Float ±1 plane batches, NHWC with the layout's planes as channels: x is B*H*W*F. */
export function planeBatches(dataset: Dataset, options: PlaneBatchOptions): Generator<Batch<Float32Array>, void, undefined> {
  const { height, width, channels } = dataset.manifest.shape;
  checkBatchOptions(options);
  checkLayoutChannels(options.layout, dataset.manifest.channelNames);
  const pixels = height * width;
  const features = options.layout.planes.length;
  const runs = floatPlaneRuns(options.layout);
  const imageSize = pixels * channels;
  let write: (images: Uint8Array, record: number, x: Float32Array, slot: number) => void;
  if (runs.length === 1 && channels === 1) {
    // Grey images: one table row copy per pixel.
    const { table, length } = runs[0];
    write = (images, record, x, slot) => {
      const src = record * imageSize;
      let o = slot * pixels * features;
      for (let p = 0; p < pixels; p++, o += features) {
        const row = images[src + p] * length;
        for (let j = 0; j < length; j++) x[o + j] = table[row + j];
      }
    };
  } else {
    write = (images, record, x, slot) => {
      const src = record * imageSize;
      const base = slot * pixels * features;
      for (const run of runs) {
        const { table, length, channelIndex, featureOffset } = run;
        let o = base + featureOffset;
        for (let p = 0; p < pixels; p++, o += features) {
          const row = images[src + p * channels + channelIndex] * length;
          for (let j = 0; j < length; j++) x[o + j] = table[row + j];
        }
      }
    };
  }
  return batchLoop(dataset, options, pixels * features, (len) => new Float32Array(len), write);
}

/** Packed plane batches in core's layout: x is B*H*W*words(F) uint32, bit 1 = +1, padding 0. */
export function packedPlaneBatches(dataset: Dataset, options: PlaneBatchOptions): Generator<Batch<Uint32Array>, void, undefined> {
  const { height, width, channels } = dataset.manifest.shape;
  checkBatchOptions(options);
  checkLayoutChannels(options.layout, dataset.manifest.channelNames);
  const pixels = height * width;
  const { words, table } = packedPlaneTable(options.layout, channels);
  const imageSize = pixels * channels;
  let write: (images: Uint8Array, record: number, x: Uint32Array, slot: number) => void;
  if (words === 1 && channels === 1) {
    write = (images, record, x, slot) => {
      const src = record * imageSize;
      const o = slot * pixels;
      for (let p = 0; p < pixels; p++) x[o + p] = table[images[src + p]];
    };
  } else if (words === 1 && channels === 3) {
    const g = 256;
    const b = 512;
    write = (images, record, x, slot) => {
      let src = record * imageSize;
      const o = slot * pixels;
      for (let p = 0; p < pixels; p++, src += 3) x[o + p] = table[images[src]] | table[g + images[src + 1]] | table[b + images[src + 2]];
    };
  } else {
    write = (images, record, x, slot) => {
      const src = record * imageSize;
      const base = slot * pixels * words;
      for (let p = 0; p < pixels; p++) {
        for (let w = 0; w < words; w++) {
          let word = 0;
          for (let c = 0; c < channels; c++) word |= table[(c * 256 + images[src + p * channels + c]) * words + w];
          x[base + p * words + w] = word;
        }
      }
    };
  }
  return batchLoop(dataset, options, pixels * words, (len) => new Uint32Array(len), write);
}

/** Full-precision input: x is B*H*W*C float, pixel/127.5 - 1 (in [-1, 1]). */
export function scaledPixelBatches(dataset: Dataset, options: BatchOptions): Generator<Batch<Float32Array>, void, undefined> {
  const { height, width, channels } = dataset.manifest.shape;
  checkBatchOptions(options);
  const imageSize = height * width * channels;
  const table = SCALED_PIXEL_TABLE;
  return batchLoop(
    dataset,
    options,
    imageSize,
    (len) => new Float32Array(len),
    (images, record, x, slot) => {
      const src = record * imageSize;
      const o = slot * imageSize;
      for (let i = 0; i < imageSize; i++) x[o + i] = table[images[src + i]];
    },
  );
}
