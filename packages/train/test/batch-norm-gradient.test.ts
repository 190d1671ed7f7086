import * as tf from '@tensorflow/tfjs';
import { createRng } from '@cbnn/core';
import { selectBackend } from '../src';

function random(shape: number[], seed: number, offset = 0): tf.Tensor {
  const rng = createRng(seed);
  return tf.tensor(
    Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal() + offset),
    shape,
  );
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.max(tf.abs(tf.sub(a, b))).dataSync()[0];
}

describe('FusedBatchNorm gradient', () => {
  it.each([
    ['4D (conv)', [3, 4, 5, 6]],
    ['2D (dense)', [7, 5]],
  ])('%s matches the gradient of the same formula in plain ops', async (_name, shape) => {
    await selectBackend({ prefer: 'wasm' });
    const c = shape[shape.length - 1];
    const x = random(shape, 1);
    const mean = random([c], 2);
    const variance = tf.abs(random([c], 3, 1));
    const scale = random([c], 4);
    const offset = random([c], 5);
    const upstream = random(shape, 6);
    const eps = 1e-3;
    const viaKernel = (a: tf.Tensor, m: tf.Tensor, v: tf.Tensor, s: tf.Tensor, o: tf.Tensor) => tf.sum(tf.mul(tf.batchNorm(a, m, v, o, s, eps), upstream));
    const viaOps = (a: tf.Tensor, m: tf.Tensor, v: tf.Tensor, s: tf.Tensor, o: tf.Tensor) =>
      tf.sum(tf.mul(tf.add(tf.mul(tf.mul(tf.sub(a, m), tf.rsqrt(tf.add(v, eps))), s), o), upstream));
    const inputs = [x, mean, variance, scale, offset];
    const fast = tf.grads(viaKernel)(inputs);
    const reference = tf.grads(viaOps)(inputs);
    fast.forEach((g, i) => {
      expect(g.shape).toEqual(inputs[i].shape);
      expect(maxAbsDiff(g, reference[i])).toBeLessThan(1e-3);
    });
  });
});
