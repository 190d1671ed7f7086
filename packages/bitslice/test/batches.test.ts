import * as path from 'node:path';
import { allPlanes, createRng, extractPlaneBits, packBits, readDataset, resolvePlanes, writeDataset, type Dataset, type PlaneLayout } from '@cbnn/core';
import { packedPlaneBatches, planeBatches, recomposePixels, scaledPixelBatches } from '@cbnn/bitslice';
import { tempDir } from './fixtures';

/** A dataset artifact in the real format (core's writeDataset), with random pixels. */
function syntheticDataset(channels: string[], counts: [number, number, number], h = 5, w = 4): Dataset {
  const dir = path.join(tempDir(), 'ds');
  const total = counts[0] + counts[1] + counts[2];
  const rng = createRng(channels.length * 1000 + total);
  const images = rng.fillBytes(new Uint8Array(total * h * w * channels.length));
  images[0] = 0;
  images[1] = 255;
  const labels = Uint8Array.from({ length: total }, (_, i) => i % 3);
  const perClass = (n: number) => [0, 1, 2].map((c) => Math.floor(n / 3) + (c < n % 3 ? 1 : 0));
  writeDataset(
    dir,
    {
      source: { name: 'synthetic', version: '1' },
      shape: { height: h, width: w, channels: channels.length },
      channelNames: channels,
      classNames: ['a', 'b', 'c'],
      splits: {
        train: { offset: 0, count: counts[0], perClass: perClass(counts[0]) },
        validation: { offset: counts[0], count: counts[1], perClass: perClass(counts[1]) },
        test: { offset: counts[0] + counts[1], count: counts[2], perClass: perClass(counts[2]) },
      },
      splitMethod: 'synthetic',
      seed: 9,
      malformed: { count: 0, records: [] },
    },
    images,
    labels,
  );
  return readDataset(dir);
}

/** Copy each batch as it comes: the iterators reuse their buffers between yields. */
function collect<X extends Float32Array | Uint32Array>(batches: Iterable<{ x: X; labels: Uint8Array; indices: Uint32Array; count: number }>) {
  const out: { x: X; labels: Uint8Array; indices: Uint32Array; count: number }[] = [];
  for (const b of batches) out.push({ x: b.x.slice() as X, labels: b.labels.slice(), indices: b.indices.slice(), count: b.count });
  return out;
}

/** Slow reference built with core's extractPlaneBits / packBits, record by record. */
function reference(ds: Dataset, layout: PlaneLayout, split: 'train' | 'test', records: ArrayLike<number>) {
  const { height, width, channels } = ds.manifest.shape;
  const s = ds.split(split);
  const size = height * width * channels;
  const pixels = height * width;
  const f = layout.planes.length;
  const bits: number[] = [];
  const scaled: number[] = [];
  for (const r of Array.from(records)) {
    const image = s.images.subarray(r * size, (r + 1) * size);
    bits.push(...extractPlaneBits(image, pixels, channels, layout));
    scaled.push(...Array.from(image, (v) => v / 127.5 - 1));
  }
  return {
    float: Float32Array.from(bits, (b) => (b ? 1 : -1)),
    packed: packBits(bits, records.length * pixels, f),
    scaled: Float32Array.from(scaled),
  };
}

const cases: [string, string[], Record<string, number[]>][] = [
  ['grey, all planes', ['grey'], { grey: [7, 6, 5, 4, 3, 2, 1, 0] }],
  ['grey, a subset out of order', ['grey'], { grey: [2, 7, 5] }],
  ['rgb, per-colour selection', ['r', 'g', 'b'], { r: [7, 6], b: [0, 3, 4], g: [1] }],
  ['rgb, all 24 planes', ['r', 'g', 'b'], allPlanes(['r', 'g', 'b'])],
  ['5 channels, 40 planes (2 words)', ['c0', 'c1', 'c2', 'c3', 'c4'], allPlanes(['c0', 'c1', 'c2', 'c3', 'c4'])],
];

describe.each(cases)('batch iterators: %s', (_name, channels, selection) => {
  const ds = syntheticDataset(channels, [23, 4, 9]);
  const layout = resolvePlanes(selection, channels);

  it('yield float, packed and scaled batches equal to the core reference, in order, with a short last batch', () => {
    const float = collect(planeBatches(ds, { split: 'train', layout, batchSize: 10 }));
    expect(float.map((b) => b.count)).toEqual([10, 10, 3]);
    const packed = collect(packedPlaneBatches(ds, { split: 'train', layout, batchSize: 10 })).map((b) => b.x);
    const scaled = collect(scaledPixelBatches(ds, { split: 'train', batchSize: 10 })).map((b) => b.x);
    const all = Array.from({ length: 23 }, (_, i) => i);
    const ref = reference(ds, layout, 'train', all);
    const concatF = (xs: Float32Array[]) => Float32Array.from(xs.flatMap((x) => Array.from(x)));
    expect(concatF(float.map((b) => b.x))).toEqual(ref.float);
    expect(Uint32Array.from(packed.flatMap((x) => Array.from(x)))).toEqual(ref.packed);
    expect(concatF(scaled)).toEqual(ref.scaled);
    expect(float.flatMap((b) => Array.from(b.indices))).toEqual(all);
    expect(float.flatMap((b) => Array.from(b.labels))).toEqual(Array.from(ds.split('train').labels));
  });

  it('shuffle per epoch deterministically (createRng(seed).fork(epoch)), and match the reference for the shuffled records', () => {
    const run = (epoch: number, seed?: number) =>
      collect(packedPlaneBatches(ds, { split: 'train', layout, batchSize: 8, shuffle: true, epoch, seed })).map((b) => ({
        x: b.x,
        indices: Array.from(b.indices),
      }));
    const e1 = run(1);
    const order = e1.flatMap((b) => b.indices);
    const expected = createRng(ds.manifest.seed)
      .fork(1)
      .shuffle(Uint32Array.from({ length: 23 }, (_, i) => i));
    expect(order).toEqual(Array.from(expected));
    expect(run(1)).toEqual(e1);
    expect(run(2).flatMap((b) => b.indices)).not.toEqual(order);
    expect(run(1, 12345).flatMap((b) => b.indices)).not.toEqual(order);
    expect(Uint32Array.from(e1.flatMap((b) => Array.from(b.x)))).toEqual(reference(ds, layout, 'train', order).packed);
  });

  it('honour limit and dropRemainder, and reuse their buffers', () => {
    const seen = [...planeBatches(ds, { split: 'test', layout, batchSize: 4, dropRemainder: true })];
    expect(seen.map((b) => b.count)).toEqual([4, 4]);
    expect(seen[0].x).toBe(seen[1].x);
    const limited = collect(packedPlaneBatches(ds, { split: 'test', layout, batchSize: 4, limit: 6 }));
    expect(limited.map((b) => Array.from(b.indices))).toEqual([
      [0, 1, 2, 3],
      [4, 5],
    ]);
  });

  it('recompose the original pixels from the float planes when all 8 planes of every channel are kept', () => {
    const full = resolvePlanes(allPlanes(channels), channels);
    const { height, width } = ds.manifest.shape;
    for (const b of planeBatches(ds, { split: 'validation', layout: full, batchSize: 4 })) {
      const pixels = recomposePixels(b.x, b.count * height * width, channels.length, full);
      const size = height * width * channels.length;
      expect(pixels).toEqual(ds.split('validation').images.slice(b.indices[0] * size, (b.indices[0] + b.count) * size));
    }
  });
});

describe('batch iterator arguments', () => {
  const ds = syntheticDataset(['grey'], [4, 0, 0]);
  it('reject a layout over other channels and a bad batch size', () => {
    expect(() => planeBatches(ds, { split: 'train', layout: resolvePlanes({ r: [7] }, ['r', 'g', 'b']), batchSize: 2 })).toThrow(
      /does not fit the dataset's channels \[grey\]/,
    );
    expect(() => scaledPixelBatches(ds, { split: 'train', batchSize: 0 })).toThrow(/batchSize must be a positive integer/);
  });
  it('yield nothing for an empty split', () => {
    expect([...packedPlaneBatches(ds, { split: 'validation', layout: resolvePlanes({ grey: [7] }, ['grey']), batchSize: 2 })]).toEqual([]);
  });
});
