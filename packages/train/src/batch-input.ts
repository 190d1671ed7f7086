import * as tf from '@tensorflow/tfjs';

/**
 * The first `count` images of a batch buffer as an NHWC tensor. Batch iterators reuse their
 * buffers and a last batch may be short, so the view is cut to `count` images first.
 */
export function batchInputTensor(x: Float32Array, count: number, inputShape: [number, number, number]): tf.Tensor4D {
  return tf.tensor4d(x.subarray(0, count * inputShape[0] * inputShape[1] * inputShape[2]), [count, ...inputShape]);
}
