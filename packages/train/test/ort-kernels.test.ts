import * as tf from '@tensorflow/tfjs';
import { createRng } from '@cbnn/core';
import { ORT_PINNED_VERSION, ortGradientKernelsActive, selectBackend, useGradientKernels } from '../src';

/** Seeded random data (same numbers on every backend). */
function randomData(shape: number[], rng: ReturnType<typeof createRng>): Float32Array {
  return Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal());
}

async function convGradients(
  backend: 'cpu' | 'wasm',
  x: Float32Array,
  xShape: number[],
  w: Float32Array,
  wShape: number[],
  up: Float32Array,
  pad: 'same' | 'valid',
) {
  await selectBackend({ prefer: backend, strict: true });
  const kernels = useGradientKernels('onnxruntime');
  const xt = tf.tensor4d(x, xShape as [number, number, number, number]);
  const wt = tf.tensor4d(w, wShape as [number, number, number, number]);
  const f = (a: tf.Tensor, b: tf.Tensor) =>
    tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, pad), tf.tensor(up, tf.conv2d(xt, wt, 1, pad).shape)));
  const [dx, dw] = tf.grads(f)([xt, wt]);
  const y = tf.conv2d(xt, wt, 1, pad);
  const out = { y: y.dataSync() as Float32Array, dx: dx.dataSync() as Float32Array, dw: dw.dataSync() as Float32Array, kernels };
  tf.dispose([xt, wt, dx, dw, y]);
  return out;
}

function relativeError(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}

describe('onnxruntime conv kernels (forward, dX, dW)', () => {
  afterAll(async () => {
    await selectBackend({ prefer: 'wasm', strict: true });
    useGradientKernels('wasm');
  });

  it('match the CPU backend on random shapes (dX and dW)', async () => {
    const rng = createRng(11);
    for (let trial = 0; trial < 6; trial++) {
      const k = [1, 2, 3, 3, 5][rng.int(5)];
      const kw = trial === 5 ? 1 : k;
      const [n, h, w, ci, co] = [1 + rng.int(4), k + rng.int(9), kw + rng.int(9), 1 + rng.int(9), 1 + rng.int(9)];
      const pad = rng.nextFloat() < 0.5 ? 'same' : 'valid';
      const xShape = [n, h, w, ci];
      const wShape = [k, kw, ci, co];
      const x = randomData(xShape, rng);
      const wv = randomData(wShape, rng);
      const yShape = pad === 'same' ? [n, h, w, co] : [n, h - k + 1, w - kw + 1, co];
      const up = randomData(yShape, rng);
      const cpu = await convGradients('cpu', x, xShape, wv, wShape, up, pad);
      const ort = await convGradients('wasm', x, xShape, wv, wShape, up, pad);
      expect(ort.kernels).toContain(`onnxruntime-node ${ORT_PINNED_VERSION}`);
      expect(ortGradientKernelsActive()).toBe(true);
      expect(relativeError(ort.y, cpu.y)).toBeLessThan(1e-5);
      expect(relativeError(ort.dx, cpu.dx)).toBeLessThan(1e-5);
      expect(relativeError(ort.dw, cpu.dw)).toBeLessThan(1e-5);
      expect(Math.max(...cpu.dw.map(Math.abs))).toBeGreaterThan(0.1);
    }
  });

  it('are replaced by tfjs-wasm kernels with gradientKernels wasm', async () => {
    await selectBackend({ prefer: 'wasm', strict: true });
    expect(useGradientKernels('onnxruntime')).toMatch(/onnxruntime-node/);
    expect(useGradientKernels('wasm')).toBe('');
    expect(ortGradientKernelsActive()).toBe(false);
  });
});
