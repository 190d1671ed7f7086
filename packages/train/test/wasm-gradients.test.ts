import * as tf from '@tensorflow/tfjs';
import { createRng } from '@cbnn/core';
import { selectBackend } from '../src/backend';

/** Random tensor data from the project's seeded RNG (same numbers on every backend). */
function randomData(shape: number[], seed: number): Float32Array {
  const rng = createRng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return Float32Array.from({ length: n }, () => rng.normal());
}

async function convGradients(
  backend: 'cpu' | 'wasm',
  xShape: number[],
  wShape: number[],
  pad: 'same' | 'valid',
): Promise<{ y: Float32Array; dx: Float32Array; dw: Float32Array }> {
  await selectBackend({ prefer: backend, strict: true });
  const x = tf.tensor4d(randomData(xShape, 1), xShape as [number, number, number, number]);
  const w = tf.tensor4d(randomData(wShape, 2), wShape as [number, number, number, number]);
  const y = tf.conv2d(x, w, 1, pad);
  const upstream = tf.tensor(randomData(y.shape, 3), y.shape);
  const grads = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, pad), upstream)));
  const [dx, dw] = grads([x, w]);
  const out = { y: y.dataSync() as Float32Array, dx: dx.dataSync() as Float32Array, dw: dw.dataSync() as Float32Array };
  tf.dispose([x, w, y, upstream, dx, dw]);
  return out;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('wasm gradient kernels match the CPU backend', () => {
  const cases: [string, number[], number[], 'same' | 'valid'][] = [
    ['3x3 same', [2, 6, 5, 3], [3, 3, 3, 4], 'same'],
    ['3x3 valid', [3, 7, 6, 2], [3, 3, 2, 5], 'valid'],
    ['2x2 same (asymmetric padding)', [2, 5, 5, 3], [2, 2, 3, 2], 'same'],
    ['1x4 valid', [1, 4, 9, 2], [1, 4, 2, 3], 'valid'],
  ];
  it.each(cases)('%s', async (_name, xShape, wShape, pad) => {
    const cpu = await convGradients('cpu', xShape, wShape, pad);
    const wasm = await convGradients('wasm', xShape, wShape, pad);
    expect(maxAbsDiff(cpu.y, wasm.y)).toBeLessThan(1e-4);
    expect(maxAbsDiff(cpu.dx, wasm.dx)).toBeLessThan(1e-4);
    expect(maxAbsDiff(cpu.dw, wasm.dw)).toBeLessThan(1e-4);
    // The gradients are not trivially zero.
    expect(Math.max(...cpu.dw.map(Math.abs))).toBeGreaterThan(0.1);
  });

  it('matMul gradients with transposed operands', async () => {
    const run = async (backend: 'cpu' | 'wasm') => {
      await selectBackend({ prefer: backend, strict: true });
      const a = tf.tensor2d(randomData([5, 7], 4), [5, 7]);
      const b = tf.tensor2d(randomData([7, 3], 5), [7, 3]);
      const [da, db] = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.square(tf.matMul(p as tf.Tensor2D, q as tf.Tensor2D))))([a, b]);
      const t = tf.matMul(b, a, true, true);
      const out = [da.dataSync(), db.dataSync(), t.dataSync()] as Float32Array[];
      tf.dispose([a, b, da, db, t]);
      return out;
    };
    const cpu = await run('cpu');
    const wasm = await run('wasm');
    for (let i = 0; i < cpu.length; i++) expect(maxAbsDiff(cpu[i], wasm[i])).toBeLessThan(1e-3);
  });
});
