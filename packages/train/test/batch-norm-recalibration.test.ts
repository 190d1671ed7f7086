import * as tf from '@tensorflow/tfjs';
import { createRng } from '@cbnn/core';
import { recalibrateBatchNorm, selectBackend, TrainingBatchNorm, type BatchSource, type TrainBatch } from '../src';

const SHAPE: [number, number, number] = [4, 4, 2];
const FEATURES = SHAPE[0] * SHAPE[1] * SHAPE[2];

function randomBatches(count: number, batchSize: number, lastBatchSize = batchSize): TrainBatch[] {
  const rng = createRng(11);
  return Array.from({ length: count }, (_, b) => {
    const size = b === count - 1 ? lastBatchSize : batchSize;
    // Each batch with its own offset, so the mean of batch means differs from a running average.
    return { x: Float32Array.from({ length: size * FEATURES }, () => rng.normal() + b), labels: new Uint8Array(size), count: size };
  });
}

function convWithBatchNorm(): { model: tf.LayersModel; conv: tf.layers.Layer; norm: TrainingBatchNorm } {
  const input = tf.input({ shape: SHAPE });
  const conv = tf.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) });
  const norm = new TrainingBatchNorm({ momentum: 0.9, epsilon: 1e-3, axis: -1 });
  const output = norm.apply(conv.apply(input)) as tf.SymbolicTensor;
  return { model: tf.model({ inputs: input, outputs: output }), conv, norm };
}

describe.each(['wasm', 'cpu'] as const)('recalibrateBatchNorm on %s', (backend) => {
  beforeAll(async () => {
    await selectBackend({ prefer: backend });
  });

  it('sets moving mean and variance to the mean of the batch statistics of the current weights', () => {
    const { model, conv, norm } = convWithBatchNorm();
    const batches = randomBatches(4, 5);
    const source: BatchSource = () => batches;
    // Stale statistics from "training": recalibration must replace them, not blend with them.
    const weights = model.getWeights();
    model.setWeights(weights.map((w, i) => (i >= weights.length - 2 ? tf.fill(w.shape, 7) : w)));

    const used = recalibrateBatchNorm(model, source, SHAPE, { samples: 20, batchSize: 5, seed: 1, epoch: 1 });
    expect(used).toBe(20);

    const expected = tf.tidy(() => {
      const moments = batches.map((b) => {
        const y = conv.apply(tf.tensor4d(b.x, [b.count, ...SHAPE])) as tf.Tensor;
        return tf.moments(y, [0, 1, 2]);
      });
      return [tf.mean(tf.stack(moments.map((m) => m.mean)), 0), tf.mean(tf.stack(moments.map((m) => m.variance)), 0)];
    });
    const [movingMean, movingVariance] = norm.getWeights().slice(2);
    expect(Array.from(movingMean.dataSync())).toEqual(Array.from(expected[0].dataSync()).map((v) => expect.closeTo(v, 4)));
    expect(Array.from(movingVariance.dataSync())).toEqual(Array.from(expected[1].dataSync()).map((v) => expect.closeTo(v, 4)));
    // The layer's own momentum is back for training.
    expect((norm as unknown as { momentum: number }).momentum).toBe(0.9);
    model.dispose();
  });

  it('stops at the sample budget and skips a short last batch', () => {
    const { model, norm } = convWithBatchNorm();
    const source: BatchSource = () => randomBatches(3, 5, 2);
    expect(recalibrateBatchNorm(model, source, SHAPE, { samples: 8, batchSize: 5, seed: 1, epoch: 1 })).toBe(10);
    const afterTwo = Array.from(norm.getWeights()[2].dataSync());
    expect(recalibrateBatchNorm(model, source, SHAPE, { samples: 100, batchSize: 5, seed: 1, epoch: 1 })).toBe(10);
    // Same two full batches, same statistics: the 2-sample batch did not enter the mean.
    Array.from(norm.getWeights()[2].dataSync()).forEach((v, i) => expect(v).toBeCloseTo(afterTwo[i], 5));
    model.dispose();
  });
});
