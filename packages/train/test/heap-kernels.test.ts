import * as tf from '@tensorflow/tfjs';
import { createRng } from '@cbnn/core';
import { TrainingBatchNorm, heapKernelsActive, selectBackend, signPlusOne, steSign } from '../src';

/** Seeded data: normals, or small integers (ties, as binary conv outputs have). */
function data(n: number, seed: number, kind: 'normal' | 'integer' = 'normal'): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: n }, () => (kind === 'normal' ? rng.normal() * 1.5 : rng.int(5) - 2));
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

async function on<T>(backend: 'cpu' | 'wasm', fn: () => T): Promise<T> {
  await selectBackend({ prefer: backend, strict: true });
  return tf.tidy(fn);
}

describe('single-pass wasm kernels match the CPU backend', () => {
  it('sign (0 -> +1) and the straight-through gradient (|x| <= 1, edges included)', async () => {
    const values = [-2, -1, -0.5, 0, 0.25, 1, 1.5, ...data(40, 1)];
    const run = () => {
      const x = tf.tensor1d(values);
      const upstream = tf.tensor1d(data(values.length, 2));
      const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(steSign(t), upstream)))(x);
      // + 0: the CPU path multiplies by a 0/1 mask (-x * 0 = -0); compare values, not zero signs.
      return [Array.from(signPlusOne(x).dataSync()), Array.from(g.dataSync(), (v) => v + 0)];
    };
    const cpu = await on('cpu', run);
    const wasm = await on('wasm', run);
    expect(wasm[0]).toEqual(cpu[0]);
    expect(wasm[1]).toEqual(cpu[1]);
    expect(wasm[0].slice(0, 7)).toEqual([-1, -1, -1, 1, 1, 1, 1]);
  });

  it.each([
    ['4D (conv)', [3, 4, 5, 6]],
    ['2D (dense)', [9, 5]],
  ])('training batch norm %s: output, gradients (x, gamma, beta) and moving statistics', async (_name, shape) => {
    const c = shape[shape.length - 1];
    const n = shape.reduce((a, b) => a * b, 1);
    const run = () => {
      const layer = new TrainingBatchNorm({ momentum: 0.9, epsilon: 1e-3, axis: -1 });
      const x = tf.tensor(data(n, 3), shape);
      layer.build(x.shape);
      const gamma = tf.tensor1d(data(c, 4));
      const beta = tf.tensor1d(data(c, 5));
      layer.setWeights([gamma, beta, tf.tensor1d(data(c, 6)), tf.abs(tf.tensor1d(data(c, 7)))]);
      const upstream = tf.tensor(data(n, 8), shape);
      const variables = layer.trainableWeights.map((w) => w.read() as tf.Variable);
      const y = layer.apply(x, { training: true }) as tf.Tensor;
      const { grads } = tf.variableGrads(() => tf.sum(tf.mul(layer.apply(x, { training: true }) as tf.Tensor, upstream)) as tf.Scalar, variables);
      const dx = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(layer.apply(t, { training: true }) as tf.Tensor, upstream)))(x);
      return {
        y: y.dataSync().slice(),
        dx: dx.dataSync().slice(),
        dGamma: grads[variables[0].name].dataSync().slice(),
        dBeta: grads[variables[1].name].dataSync().slice(),
        // Three training calls so far: the moving averages moved three times.
        moving: layer
          .getWeights()
          .slice(2)
          .map((w) => w.dataSync().slice()),
        inference: (layer.apply(x, { training: false }) as tf.Tensor).dataSync().slice(),
      };
    };
    const cpu = await on('cpu', run);
    const wasm = await on('wasm', run);
    expect(heapKernelsActive()).toBe(true);
    expect(maxAbsDiff(wasm.y, cpu.y)).toBeLessThan(1e-4);
    expect(maxAbsDiff(wasm.dx, cpu.dx)).toBeLessThan(1e-3);
    expect(maxAbsDiff(wasm.dGamma, cpu.dGamma)).toBeLessThan(1e-3);
    expect(maxAbsDiff(wasm.dBeta, cpu.dBeta)).toBeLessThan(1e-3);
    for (let i = 0; i < 2; i++) expect(maxAbsDiff(wasm.moving[i], cpu.moving[i])).toBeLessThan(1e-4);
    expect(maxAbsDiff(wasm.inference, cpu.inference)).toBeLessThan(1e-4);
    // Not trivially zero: the gradient through the batch statistics is exercised.
    expect(Math.max(...Array.from(cpu.dx, Math.abs))).toBeGreaterThan(0.1);
  });

  it.each([
    ['ties (integers)', 'integer' as const],
    ['no ties', 'normal' as const],
  ])('MaxPoolGrad 2x2 stride 2 with %s; other pool shapes fall back', async (_name, kind) => {
    const run = () => {
      const out: Float32Array[] = [];
      for (const [shape, size, stride] of [
        [[2, 6, 8, 3], 2, 2],
        [[1, 5, 7, 2], 2, 2], // odd sizes: the last row/column is outside every window
        [[1, 6, 6, 2], 3, 2], // not 2x2: the original kernel
      ] as [number[], number, number][]) {
        const x = tf.tensor4d(
          data(
            shape.reduce((a, b) => a * b, 1),
            9,
            kind,
          ),
          shape as [number, number, number, number],
        );
        const y = tf.maxPool(x, size, stride, 'valid');
        const upstream = tf.tensor(data(y.size, 10), y.shape);
        out.push(
          tf
            .grad((t: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(t as tf.Tensor4D, size, stride, 'valid'), upstream)))(x)
            .dataSync() as Float32Array,
        );
      }
      return out;
    };
    const cpu = await on('cpu', run);
    const wasm = await on('wasm', run);
    // The fallback (case 2) is tfjs-wasm's own kernel, which breaks ties differently from the CPU
    // backend: compared on tie-free data only.
    const compared = kind === 'integer' ? 2 : 3;
    for (let i = 0; i < compared; i++) expect([i, Array.from(wasm[i])]).toEqual([i, Array.from(cpu[i])]);
    expect(cpu[0].some((v) => v !== 0)).toBe(true);
  });
});
