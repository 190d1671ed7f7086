import * as tf from '@tensorflow/tfjs';
import { BATCH_NORM_GRAD_KERNEL, MOMENTS_KERNEL, heapKernelsActive } from './heap-kernels';

/**
 * tfjs-layers' BatchNormalization with a fused training path on tfjs-wasm.
 *
 * The stock layer normalizes a training batch through `tf.moments` and `tf.batchNorm`, so the
 * tape differentiates a chain of Mean, SquaredDifference, Sum and broadcasts (~0.5 s of a
 * VGG-small step on tfjs-wasm). Here, on wasm, one kernel computes the per-channel mean and
 * variance in one pass, the normalization is the backend's FusedBatchNorm, and the backward pass
 * is one closed-form kernel (two passes) through the batch statistics:
 *   dx = gamma r (dy - mean(dy) - xhat mean(dy xhat)),  dgamma = sum(dy xhat),  dbeta = sum(dy),
 * with r = 1/sqrt(var + eps), xhat = (x - mean) r. Moving averages update as in the stock layer.
 * Inference, other backends and non-last-axis layouts use the stock code.
 *
 * Its class name stays 'BatchNormalization': saved models (model.json) are the stock layer's, and
 * the engine exporter recognises it as such.
 */
const StockBatchNorm = tf.layers.batchNormalization({}).constructor as new (args: BatchNormArgs) => tf.layers.Layer;
type BatchNormArgs = Parameters<typeof tf.layers.batchNormalization>[0];

interface StockBatchNormFields {
  axis: number;
  momentum: number;
  epsilon: number;
  center: boolean;
  scale: boolean;
  gamma: tf.LayerVariable;
  beta: tf.LayerVariable;
  movingMean: tf.LayerVariable;
  movingVariance: tf.LayerVariable;
}

type TrainingBatchNormFn = (x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor) => tf.Tensor;

/**
 * Batch norm over all axes but the last, in training: returns the normalized tensor and hands the
 * batch mean and variance (kept tensors, the caller disposes them) to `stats`.
 */
export function batchNormTraining(epsilon: number, stats: (mean: tf.Tensor, variance: tf.Tensor) => void): TrainingBatchNormFn {
  return tf.customGrad(((x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, save: tf.GradSaveFunc) => {
    const [mean, variance] = tf.engine().runKernel(MOMENTS_KERNEL, { x }) as tf.Tensor[];
    const y = tf.batchNorm(x, mean, variance, beta, gamma, epsilon);
    save([x, mean, variance, gamma]);
    stats(tf.keep(mean), tf.keep(variance));
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sMean, sVariance, sGamma] = saved;
        return tf.engine().runKernel(BATCH_NORM_GRAD_KERNEL, { dy, x: sx, mean: sMean, variance: sVariance, scale: sGamma }, { epsilon }) as tf.Tensor[];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as TrainingBatchNormFn;
}

export class TrainingBatchNorm extends StockBatchNorm {
  static className = 'BatchNormalization';

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[] {
    const input = Array.isArray(inputs) ? inputs[0] : inputs;
    const f = this as unknown as StockBatchNormFields;
    const lastAxis = f.axis === -1 || f.axis === input.rank - 1;
    if (!kwargs.training || !heapKernelsActive() || !lastAxis || !f.center || !f.scale || input.dtype !== 'float32') {
      return super.call(inputs, kwargs);
    }
    return tf.tidy(() => {
      let batchMean: tf.Tensor | null = null;
      let batchVariance: tf.Tensor | null = null;
      const y = batchNormTraining(f.epsilon, (m, v) => {
        batchMean = m;
        batchVariance = v;
      })(input, f.gamma.read(), f.beta.read());
      const decay = 1 - f.momentum;
      for (const [variable, value] of [
        [f.movingMean, batchMean!],
        [f.movingVariance, batchVariance!],
      ] as const) {
        tf.tidy(() => {
          const old = variable.read();
          variable.write(tf.sub(old, tf.mul(tf.sub(old, value), decay)));
        });
      }
      tf.dispose([batchMean!, batchVariance!]);
      return y;
    });
  }
}
