import * as tf from '@tensorflow/tfjs';
import { SIGN_KERNEL, STE_GRAD_KERNEL, heapKernelsActive } from './heap-kernels';

/**
 * Quantizers: pure functions from a float tensor to ±1 with a surrogate gradient.
 * `sign(0) = +1` everywhere in cbnn (bit 1), so these never use `tf.sign`, whose sign(0) is 0.
 */

/** ±1 with sign(0) = +1, no gradient of its own (callers wrap it in a customGrad). */
export function signPlusOne(x: tf.Tensor): tf.Tensor {
  if (heapKernelsActive() && x.dtype === 'float32') return tf.engine().runKernel(SIGN_KERNEL, { x }) as tf.Tensor;
  return tf.tidy(() => tf.sub(tf.mul(tf.cast(tf.greaterEqual(x, 0), 'float32'), 2), 1));
}

/**
 * Straight-through sign (BinaryNet, Larq `ste_sign`): forward ±1, backward passes the gradient
 * where |x| <= 1 and zeroes it elsewhere (the clipping keeps saturated units from drifting).
 */
export const steSign: (x: tf.Tensor) => tf.Tensor = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x]);
  return {
    value: signPlusOne(x),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
      heapKernelsActive() && dy.dtype === 'float32' && saved[0].dtype === 'float32'
        ? (tf.engine().runKernel(STE_GRAD_KERNEL, { dy, x: saved[0] }) as tf.Tensor)
        : tf.mul(dy, tf.cast(tf.lessEqual(tf.abs(saved[0]), 1), 'float32')),
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor) => tf.Tensor;

/**
 * ApproxSign (Bi-Real Net, Larq `approx_sign`): forward ±1, backward the derivative of the
 * piecewise quadratic approximation of sign, 2 - 2|x| for |x| <= 1 and 0 elsewhere.
 */
export const approxSign: (x: tf.Tensor) => tf.Tensor = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x]);
  return {
    value: signPlusOne(x),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(dy, tf.relu(tf.sub(2, tf.mul(2, tf.abs(saved[0]))))),
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor) => tf.Tensor;

export type QuantizerName = 'ste_sign' | 'approx_sign';
export const QUANTIZERS: Record<QuantizerName, (x: tf.Tensor) => tf.Tensor> = {
  ste_sign: steSign,
  approx_sign: approxSign,
};

/** Apply a named quantizer; `null` is the identity (float input or kernel). */
export function quantize(name: QuantizerName | null, x: tf.Tensor): tf.Tensor {
  if (name === null) return x;
  const fn = QUANTIZERS[name];
  if (!fn) throw new Error(`unknown quantizer '${String(name)}' (known: ${Object.keys(QUANTIZERS).join(', ')})`);
  return fn(x);
}
