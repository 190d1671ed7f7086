import * as tf from '@tensorflow/tfjs';
import { createRng } from '@cbnn/core';
import { BINARY_CONV_KERNEL, binaryConv2d, binaryConvActive, selectBackend } from '../src';

function plusMinusOne(shape: number[], seed: number): tf.Tensor4D {
  const rng = createRng(seed);
  return tf.tensor4d(
    Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => (rng.nextFloat() < 0.5 ? -1 : 1)),
    shape as [number, number, number, number],
  );
}

function normal(shape: number[], seed: number): tf.Tensor {
  const rng = createRng(seed);
  return tf.tensor(
    Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()),
    shape,
  );
}

const cases: [string, number[], number[], 'same' | 'valid'][] = [
  ['3x3 same, 32 channels (word-aligned)', [2, 6, 5, 32], [3, 3, 32, 7], 'same'],
  ['3x3 same, 5 channels (padding bits)', [3, 7, 6, 5], [3, 3, 5, 4], 'same'],
  ['3x3 valid, 40 channels (two words)', [2, 6, 6, 40], [3, 3, 40, 3], 'valid'],
  ['2x2 same (asymmetric zero padding)', [2, 5, 4, 3], [2, 2, 3, 6], 'same'],
];

describe('popcount binary conv (forward on @cbnn/kernels gemmDots)', () => {
  beforeAll(async () => {
    await selectBackend({ prefer: 'wasm', strict: true });
  });

  it.each(cases)('%s: equals the float conv exactly', (_name, xShape, wShape, pad) => {
    expect(binaryConvActive()).toBe(true);
    const x = plusMinusOne(xShape, 1);
    const w = plusMinusOne(wShape, 2);
    const expected = tf.conv2d(x, w, 1, pad).dataSync();
    const actual = (tf.engine().runKernel(BINARY_CONV_KERNEL, { x, filter: w }, { pad }) as tf.Tensor).dataSync();
    expect(Array.from(actual)).toEqual(Array.from(expected));
    // Border outputs differ from interior ones only through the zero padding: exercised.
    expect(new Set(Array.from(expected)).size).toBeGreaterThan(3);
  });

  it.each(cases)('%s: gradients equal the CPU backend float conv gradients', async (_name, xShape, wShape, pad) => {
    const run = async (backend: 'cpu' | 'wasm') => {
      await selectBackend({ prefer: backend, strict: true });
      return tf.tidy(() => {
        const x = plusMinusOne(xShape, 3);
        const w = plusMinusOne(wShape, 4);
        const y = tf.conv2d(x, w, 1, pad);
        const upstream = normal(y.shape, 5);
        const conv =
          backend === 'wasm'
            ? (a: tf.Tensor, b: tf.Tensor) => binaryConv2d(a as tf.Tensor4D, b as tf.Tensor4D, pad)
            : (a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, pad);
        const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(conv(a, b), upstream)))([x, w]);
        return [dx.dataSync().slice(), dw.dataSync().slice()] as Float32Array[];
      });
    };
    const cpu = await run('cpu');
    const wasm = await run('wasm');
    for (let i = 0; i < 2; i++) {
      let m = 0;
      for (let j = 0; j < cpu[i].length; j++) m = Math.max(m, Math.abs(cpu[i][j] - wasm[i][j]));
      expect(m).toBeLessThan(1e-3);
    }
  });
});
