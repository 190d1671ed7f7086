import * as tf from '@tensorflow/tfjs';
import { createRng } from '@cbnn/core';
import { MLP_BASE_HIDDEN, VGG_SMALL_BASE, scaledWidth, type ModelSpec } from './architecture';
import { TrainingBatchNorm } from './batch-norm-layer';
import { QuantConv2D, QuantDense } from './quant-layers';

/**
 * Model builders. Binary (Larq style: every binary layer signs its own input, so a layer's sign is
 * the previous layer's activation) and full-precision (float weights, ReLU, input = 8-bit pixels
 * scaled to [-1, 1]) variants of the same topology.
 *
 * VGG-small: conv3x3(64w) BN | conv3x3(64w) BN maxpool2 | conv3x3(128w) BN | conv3x3(128w) BN
 * maxpool2 | flatten | dense(512w) BN | dense(classes) BN -> scores.
 */
const BN_MOMENTUM = 0.9;
const BN_EPSILON = 1e-3;

function batchNorm(name: string): tf.layers.Layer {
  return new TrainingBatchNorm({ name, momentum: BN_MOMENTUM, epsilon: BN_EPSILON, axis: -1 });
}

/** Layer seeds derived from the model seed, one stream per layer name. */
function seeder(seed: number): (name: string) => number {
  const rng = createRng(seed);
  return (name) => rng.fork(name).nextU32() % 2147483647;
}

export function buildBinaryModel(spec: ModelSpec): tf.Sequential {
  const seedOf = seeder(spec.seed);
  const model = tf.sequential({ name: `bnn_${spec.arch.replace('-', '_')}` });
  // The first layer reads the ±1 planes directly: identity input quantizer. A real-valued first
  // layer (the paper's choice) keeps a float kernel.
  const firstKernel = spec.firstLayer === 'real' ? null : 'ste_sign';
  if (spec.arch === 'vgg-small') {
    const c1 = scaledWidth(VGG_SMALL_BASE.conv1, spec.width);
    const c2 = scaledWidth(VGG_SMALL_BASE.conv2, spec.width);
    const d = scaledWidth(VGG_SMALL_BASE.dense, spec.width);
    const conv = (name: string, filters: number, first = false) =>
      new QuantConv2D({
        name,
        filters,
        kernelSize: 3,
        padding: 'same',
        inputQuantizer: first ? null : 'ste_sign',
        kernelQuantizer: first ? firstKernel : 'ste_sign',
        seed: seedOf(name),
        ...(first ? { inputShape: spec.inputShape } : {}),
      });
    model.add(conv('conv1', c1, true));
    model.add(batchNorm('bn1'));
    model.add(conv('conv2', c1));
    model.add(batchNorm('bn2'));
    model.add(tf.layers.maxPooling2d({ name: 'pool2', poolSize: 2, strides: 2 }));
    model.add(conv('conv3', c2));
    model.add(batchNorm('bn3'));
    model.add(conv('conv4', c2));
    model.add(batchNorm('bn4'));
    model.add(tf.layers.maxPooling2d({ name: 'pool4', poolSize: 2, strides: 2 }));
    model.add(tf.layers.flatten({ name: 'flatten' }));
    model.add(new QuantDense({ name: 'dense5', units: d, seed: seedOf('dense5') }));
    model.add(batchNorm('bn5'));
    model.add(new QuantDense({ name: 'dense6', units: spec.classes, seed: seedOf('dense6') }));
    model.add(batchNorm('bn6'));
    return model;
  }
  model.add(tf.layers.flatten({ name: 'flatten', inputShape: spec.inputShape }));
  const hidden = (spec.hidden ?? MLP_BASE_HIDDEN).map((h) => scaledWidth(h, spec.width));
  hidden.forEach((units, i) => {
    const name = `dense${i + 1}`;
    const first = i === 0;
    model.add(
      new QuantDense({
        name,
        units,
        inputQuantizer: first ? null : 'ste_sign',
        kernelQuantizer: first ? firstKernel : 'ste_sign',
        seed: seedOf(name),
      }),
    );
    model.add(batchNorm(`bn${i + 1}`));
  });
  const last = `dense${hidden.length + 1}`;
  model.add(new QuantDense({ name: last, units: spec.classes, seed: seedOf(last) }));
  model.add(batchNorm(`bn${hidden.length + 1}`));
  return model;
}

/** The full-precision counterpart: float kernels, BN then ReLU, same topology and widths. */
export function buildFullPrecisionModel(spec: ModelSpec): tf.Sequential {
  const seedOf = seeder(spec.seed);
  const model = tf.sequential({ name: `fp_${spec.arch.replace('-', '_')}` });
  const relu = (name: string) => tf.layers.reLU({ name });
  if (spec.arch === 'vgg-small') {
    const c1 = scaledWidth(VGG_SMALL_BASE.conv1, spec.width);
    const c2 = scaledWidth(VGG_SMALL_BASE.conv2, spec.width);
    const d = scaledWidth(VGG_SMALL_BASE.dense, spec.width);
    const conv = (name: string, filters: number, first = false) =>
      tf.layers.conv2d({
        name,
        filters,
        kernelSize: 3,
        padding: 'same',
        useBias: false,
        kernelInitializer: tf.initializers.heNormal({ seed: seedOf(name) }),
        ...(first ? { inputShape: spec.inputShape } : {}),
      });
    model.add(conv('conv1', c1, true));
    model.add(batchNorm('bn1'));
    model.add(relu('relu1'));
    model.add(conv('conv2', c1));
    model.add(batchNorm('bn2'));
    model.add(relu('relu2'));
    model.add(tf.layers.maxPooling2d({ name: 'pool2', poolSize: 2, strides: 2 }));
    model.add(conv('conv3', c2));
    model.add(batchNorm('bn3'));
    model.add(relu('relu3'));
    model.add(conv('conv4', c2));
    model.add(batchNorm('bn4'));
    model.add(relu('relu4'));
    model.add(tf.layers.maxPooling2d({ name: 'pool4', poolSize: 2, strides: 2 }));
    model.add(tf.layers.flatten({ name: 'flatten' }));
    model.add(dense('dense5', d, seedOf));
    model.add(batchNorm('bn5'));
    model.add(relu('relu5'));
    model.add(dense('dense6', spec.classes, seedOf));
    model.add(batchNorm('bn6'));
    return model;
  }
  model.add(tf.layers.flatten({ name: 'flatten', inputShape: spec.inputShape }));
  const hidden = (spec.hidden ?? MLP_BASE_HIDDEN).map((h) => scaledWidth(h, spec.width));
  hidden.forEach((units, i) => {
    model.add(dense(`dense${i + 1}`, units, seedOf));
    model.add(batchNorm(`bn${i + 1}`));
    model.add(relu(`relu${i + 1}`));
  });
  model.add(dense(`dense${hidden.length + 1}`, spec.classes, seedOf));
  model.add(batchNorm(`bn${hidden.length + 1}`));
  return model;
}

function dense(name: string, units: number, seedOf: (name: string) => number): tf.layers.Layer {
  return tf.layers.dense({ name, units, useBias: false, kernelInitializer: tf.initializers.glorotUniform({ seed: seedOf(name) }) });
}
