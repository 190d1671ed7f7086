import * as tf from '@tensorflow/tfjs';
import { createRng } from '@cbnn/core';
import { DataParallelTrainer, buildBinaryModel, clipLatentWeights, readFlat, selectBackend, shardSizes, type ModelSpec } from '../src';

const spec: ModelSpec = { arch: 'vgg-small', width: 0.1, inputShape: [8, 8, 3], classes: 4, firstLayer: 'binary', seed: 5 };
const pixels = 8 * 8 * 3;

function batchOf(count: number, seed: number): { x: Float32Array; labels: Uint8Array } {
  const rng = createRng(seed);
  return {
    x: Float32Array.from({ length: count * pixels }, () => (rng.nextFloat() < 0.5 ? -1 : 1)),
    labels: Uint8Array.from({ length: count }, () => rng.int(4)),
  };
}

/** Adam steps on one thread (the trainer's single-thread path). */
function singleThreadSteps(batches: { x: Float32Array; labels: Uint8Array }[]): { weights: Float32Array; state: Float32Array } {
  const model = buildBinaryModel(spec);
  const optimizer = tf.train.adam(0.01);
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  for (const b of batches) {
    const count = b.labels.length;
    tf.tidy(() => {
      const xs = tf.tensor4d(b.x, [count, ...spec.inputShape]);
      const ys = tf.oneHot(tf.tensor1d(Int32Array.from(b.labels), 'int32'), spec.classes);
      optimizer.minimize(() => tf.losses.softmaxCrossEntropy(ys, model.apply(xs, { training: true }) as tf.Tensor) as tf.Scalar, false, variables);
    });
    clipLatentWeights(model);
  }
  return { weights: readFlat(model.trainableWeights), state: readFlat(model.nonTrainableWeights) };
}

async function parallelSteps(
  threads: number,
  batches: { x: Float32Array; labels: Uint8Array }[],
  shards = 2,
  /** Thread count to resize the pool to before each batch (as the trainer does at epoch boundaries). */
  resizes?: number[],
): Promise<{ weights: Float32Array; state: Float32Array; hits: number }> {
  const model = buildBinaryModel(spec);
  const optimizer = tf.train.adam(0.01);
  const trainer = await DataParallelTrainer.start({
    threads,
    shards,
    inputShape: spec.inputShape,
    classes: spec.classes,
    replica: { kind: 'bnn', spec },
    backend: 'wasm',
  });
  let hits = 0;
  try {
    expect(trainer.workerBackends).toHaveLength(Math.min(threads, shards) - 1);
    if (trainer.threads > 1) expect(trainer.workerBackends[0]).toMatch(/^wasm/);
    for (const [i, b] of batches.entries()) {
      if (resizes) expect(await trainer.resize(resizes[i])).toBe(Math.min(resizes[i], shards));
      hits += (await trainer.step(model, optimizer, { ...b, count: b.labels.length })).hits;
      clipLatentWeights(model);
    }
  } finally {
    await trainer.close();
  }
  return { weights: readFlat(model.trainableWeights), state: readFlat(model.nonTrainableWeights), hits };
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('data-parallel training steps', () => {
  beforeAll(async () => {
    await selectBackend({ prefer: 'wasm', strict: true });
  });

  it('splits batches into near-equal shards of at least 2', () => {
    expect(shardSizes(256, 2)).toEqual([128, 128]);
    expect(shardSizes(7, 2)).toEqual([4, 3]);
    expect(shardSizes(3, 2)).toEqual([3]);
    expect(shardSizes(9, 4)).toEqual([3, 2, 2, 2]);
  });

  it('equals single-thread training when every shard sees the same samples (same batch statistics)', async () => {
    // Each batch is one half repeated: both shards' batch norm statistics equal the whole batch's,
    // so the averaged shard gradients are the whole-batch gradient and the moving means agree.
    const batches = [1, 2, 3].map((seed) => {
      const half = batchOf(6, seed);
      const x = new Float32Array(12 * pixels);
      x.set(half.x);
      x.set(half.x, 6 * pixels);
      const labels = new Uint8Array(12);
      labels.set(half.labels);
      labels.set(half.labels, 6);
      return { x, labels };
    });
    const single = singleThreadSteps(batches);
    const parallel = await parallelSteps(2, batches);
    expect(maxAbsDiff(parallel.weights, single.weights)).toBeLessThan(1e-4);
    expect(maxAbsDiff(parallel.state, single.state)).toBeLessThan(1e-3);
    // The steps moved the weights (a test of equality between two no-ops would prove nothing).
    const initial = readFlat(buildBinaryModel(spec).trainableWeights);
    expect(maxAbsDiff(single.weights, initial)).toBeGreaterThan(0.01);
  }, 60000);

  it('gives the same numbers, bit for bit, on 1, 2 and 3 threads for a shard count', async () => {
    const batches = [6, 7].map((seed) => batchOf(13, seed));
    const one = await parallelSteps(1, batches, 3);
    for (const threads of [2, 3]) {
      const other = await parallelSteps(threads, batches, 3);
      expect(Buffer.from(other.weights.buffer).equals(Buffer.from(one.weights.buffer))).toBe(true);
      expect(Buffer.from(other.state.buffer).equals(Buffer.from(one.state.buffer))).toBe(true);
      expect(other.hits).toBe(one.hits);
    }
    // The shard count, unlike the thread count, does change the numbers (per-shard statistics).
    const whole = await parallelSteps(1, batches, 1);
    expect(maxAbsDiff(whole.weights, one.weights)).toBeGreaterThan(0);
  }, 60000);

  it('a pool that grows and shrinks between steps gives the bytes of a fixed thread count', async () => {
    const batches = [8, 9, 10, 11].map((seed) => batchOf(13, seed));
    const fixed = await parallelSteps(1, batches, 3);
    const moving = await parallelSteps(1, batches, 3, [1, 3, 2, 1]);
    expect(Buffer.from(moving.weights.buffer).equals(Buffer.from(fixed.weights.buffer))).toBe(true);
    expect(Buffer.from(moving.state.buffer).equals(Buffer.from(fixed.state.buffer))).toBe(true);
    expect(moving.hits).toBe(fixed.hits);
  }, 60000);

  it('is deterministic for a seed and thread count', async () => {
    const batches = [4, 5].map((seed) => batchOf(10, seed));
    const a = await parallelSteps(2, batches);
    const b = await parallelSteps(2, batches);
    expect(Array.from(a.weights)).toEqual(Array.from(b.weights));
    expect(Array.from(a.state)).toEqual(Array.from(b.state));
    expect(a.hits).toBe(b.hits);
  }, 60000);
});
