import * as tf from '@tensorflow/tfjs';

/**
 * A leaner gradient for tfjs's `FusedBatchNorm` kernel (all backends).
 *
 * tfjs-core's own gradient tiles 1/sqrt(var + eps) to the full activation shape and builds a
 * separate full-size product for each of dmean, dvariance and dscale: on tfjs-wasm, `Tile` alone
 * took ~40% of a VGG-small training step. Here every full-size op is shared and per-channel
 * factors broadcast:
 *   dx = dy * scale / sqrt(var + eps)
 *   S1 = sum(dy), S2 = sum(dy * (x - mean))            (over all axes but the channel axis)
 *   dmean = -S1 * scale / sqrt(var + eps)
 *   dvariance = -0.5 * S2 * scale / (var + eps)^1.5
 *   dscale = S2 / sqrt(var + eps),  doffset = S1
 */
let registered = false;

export function registerBatchNormGradient(): void {
  if (registered) return;
  tf.registerGradient({
    kernelName: 'FusedBatchNorm',
    inputsToSave: ['x', 'mean', 'variance', 'scale'],
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
      const grad = dy as tf.Tensor;
      const epsilon = attrs.varianceEpsilon as number;
      const [x, mean, variance, scaleOrNull] = saved;
      const scale = scaleOrNull ?? tf.scalar(1);
      const axes = mean.rank === 1 ? [...Array(x.rank - 1).keys()] : [];
      const reduce = (t: tf.Tensor) => (axes.length ? tf.sum(t, axes) : t);
      const rstd = tf.rsqrt(tf.add(variance, epsilon));
      // The per-channel sums are shared by four gradients; computed once, here, because each lazy
      // gradient below runs in its own scope (a tensor cached by one would be freed for the next).
      // Only the small [C] results outlive this tidy.
      const [s1, s2] = tf.tidy(() => [reduce(grad), reduce(tf.mul(grad, tf.sub(x, mean)))]);
      const sumDy = () => s1;
      const sumDyCentered = () => s2;
      return {
        x: () => tf.mul(grad, tf.mul(scale, rstd)),
        mean: () => tf.reshape(tf.neg(tf.mul(sumDy(), tf.mul(scale, rstd))), mean.shape),
        variance: () => tf.reshape(tf.mul(sumDyCentered(), tf.mul(tf.mul(scale, tf.pow(rstd, 3)), -0.5)), mean.shape),
        scale: () => tf.reshape(tf.mul(sumDyCentered(), rstd), mean.shape),
        offset: () => tf.reshape(sumDy(), mean.shape),
      };
    },
  });
  registered = true;
}
