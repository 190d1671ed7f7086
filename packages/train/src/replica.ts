import * as tf from '@tensorflow/tfjs';
import { batchInputTensor } from './batch-input';
import type { ModelSpec } from './architecture';
import { buildBinaryModel, buildFullPrecisionModel } from './builders';

/**
 * A model replica's state as flat float32 arrays, in a fixed variable order that every replica
 * of the same spec shares: trainable weights (what gradients are for) and non-trainable ones
 * (batch norm moving statistics).
 */
export type ModelKind = 'bnn' | 'fp';

export interface ReplicaSpec {
  kind: ModelKind;
  spec: ModelSpec;
}

export function buildReplica(replica: ReplicaSpec): tf.LayersModel {
  return replica.kind === 'bnn' ? buildBinaryModel(replica.spec) : buildFullPrecisionModel(replica.spec);
}

function totalSize(variables: tf.LayerVariable[]): number {
  return variables.reduce((n, v) => n + v.shape.reduce((a: number, b) => a * (b as number), 1), 0);
}

/** Concatenate the variables' values into one array. */
export function readFlat(variables: tf.LayerVariable[]): Float32Array {
  const out = new Float32Array(totalSize(variables));
  let offset = 0;
  for (const v of variables) {
    const values = v.read().dataSync() as Float32Array;
    out.set(values, offset);
    offset += values.length;
  }
  return out;
}

/** Write one concatenated array back into the variables. */
export function writeFlat(variables: tf.LayerVariable[], flat: Float32Array): void {
  if (flat.length !== totalSize(variables)) throw new Error(`replica state has ${flat.length} values, the model ${totalSize(variables)}`);
  let offset = 0;
  tf.tidy(() => {
    for (const v of variables) {
      const n = v.shape.reduce((a: number, b) => a * (b as number), 1);
      v.write(tf.tensor(flat.subarray(offset, offset + n), v.shape as number[], 'float32'));
      offset += n;
    }
  });
}

/** Concatenate named gradients in the variables' order. */
export function flattenGradients(variables: tf.LayerVariable[], grads: tf.NamedTensorMap): Float32Array {
  const out = new Float32Array(totalSize(variables));
  let offset = 0;
  for (const v of variables) {
    const g = grads[(v.read() as tf.Variable).name];
    if (!g) throw new Error(`no gradient for ${v.name}`);
    const values = g.dataSync() as Float32Array;
    out.set(values, offset);
    offset += values.length;
  }
  return out;
}

export interface ShardResult {
  /** Gradient of the shard's mean loss, trainable variables concatenated. */
  grads: Float32Array;
  /** Non-trainable variables after the step (moving statistics updated with this shard). */
  state: Float32Array;
  /** Sum of the per-sample losses of the shard. */
  lossSum: number;
  /** Correct predictions in the shard. */
  hits: number;
  count: number;
}

/**
 * One forward + backward pass on a shard: gradients of its mean softmax cross-entropy. Tensors
 * are freed before returning; only flat arrays leave.
 */
export function shardGradients(
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  x: Float32Array,
  labels: ArrayLike<number>,
  count: number,
  inputShape: [number, number, number],
  classes: number,
): { grads: tf.NamedTensorMap; lossSum: number; hits: number } {
  const xs = batchInputTensor(x, count, inputShape);
  const ys = tf.tidy(() =>
    tf.oneHot(
      tf.tensor1d(
        Int32Array.from({ length: count }, (_, i) => labels[i]),
        'int32',
      ),
      classes,
    ),
  );
  let hits: tf.Tensor | null = null;
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const { value, grads } = optimizer.computeGradients(() => {
    const logits = model.apply(xs, { training: true }) as tf.Tensor;
    hits = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(logits, -1), tf.argMax(ys, -1)), 'int32')));
    return tf.losses.softmaxCrossEntropy(ys, logits) as tf.Scalar;
  }, variables);
  const lossSum = value.dataSync()[0] * count;
  const hitCount = hits!.dataSync()[0];
  tf.dispose([xs, ys, value, hits!]);
  return { grads, lossSum, hits: hitCount };
}
