import * as tf from '@tensorflow/tfjs';
import { approxSign, selectBackend, signPlusOne, steSign } from '../src';

beforeAll(async () => {
  await selectBackend({ prefer: 'cpu', strict: true });
});

describe('quantizers', () => {
  const x = () => tf.tensor1d([-2, -1, -0.5, 0, 0.25, 1, 1.5]);

  it('sign maps 0 to +1 (unlike tf.sign)', () => {
    expect(Array.from(signPlusOne(x()).dataSync())).toEqual([-1, -1, -1, 1, 1, 1, 1]);
    expect(Array.from(steSign(x()).dataSync())).toEqual([-1, -1, -1, 1, 1, 1, 1]);
    expect(Array.from(approxSign(x()).dataSync())).toEqual([-1, -1, -1, 1, 1, 1, 1]);
  });

  it('steSign passes the gradient where |x| <= 1 only', () => {
    const upstream = tf.tensor1d([1, 2, 3, 4, 5, 6, 7]);
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(steSign(t), upstream)))(x());
    expect(Array.from(g.dataSync())).toEqual([0, 2, 3, 4, 5, 6, 0]);
  });

  it('approxSign gradient is 2 - 2|x| inside [-1, 1]', () => {
    const g = tf.grad((t: tf.Tensor) => tf.sum(approxSign(t)))(x());
    expect(Array.from(g.dataSync())).toEqual([0, 0, 1, 2, 1.5, 0, 0]);
  });
});
