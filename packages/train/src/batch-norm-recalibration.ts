import * as tf from '@tensorflow/tfjs';
import { batchInputTensor } from './batch-input';
import type { BatchSource, TrainBatch } from './trainer';

export interface RecalibrationOptions {
  samples: number;
  batchSize: number;
  seed: number;
  epoch: number;
  limit?: number;
}

interface BatchNormFields {
  momentum: number;
}

/** The training batches a recalibration reads: full batches only, up to the sample budget. */
function* recalibrationBatches(batches: BatchSource, options: RecalibrationOptions): Generator<TrainBatch> {
  let used = 0;
  let index = 0;
  // A seed of its own: the training order of this epoch is not replayed.
  for (const batch of batches({
    split: 'train',
    batchSize: options.batchSize,
    shuffle: true,
    seed: options.seed + 0x5eed,
    epoch: options.epoch,
    limit: options.limit,
  })) {
    // A short last batch would weigh as much as a full one in the mean; skip it.
    if (batch.count < options.batchSize && index > 0) return;
    index++;
    yield batch;
    used += batch.count;
    if (used >= options.samples) return;
  }
}

/**
 * Re-estimate every batch norm layer's moving statistics for the weights the model has now
 * ("precise BN"): forward training batches in training mode and set each moving mean and variance
 * to the average of the batch statistics, instead of the exponential average collected while the
 * weights were still moving.
 *
 * Why a BNN needs it: a sign follows every batch norm, so a small error in a moving mean flips
 * activations near zero, and at a high learning rate many latent weights change sign each step,
 * so the running averages mix statistics of many different networks. Measured on MNIST
 * (VGG-small w=0.22, one-cycle lr 0.01), validation accuracy swung between 38% and 96% from one
 * epoch to the next while training accuracy rose steadily; choosing the best epoch and stopping
 * early on such numbers picks noise. With the statistics re-estimated the same run's curve was
 * smooth (85% to 96%), and on the finished models test accuracy rose 0.2-0.8 points (four MNIST
 * models, 2,000 test images). Each layer's statistics are those of its input while the layers
 * before it normalize with batch statistics, as in training; re-estimating layer by layer in
 * inference mode instead measured no better and 1.5-6x slower. Returns the samples used.
 */
export function recalibrateBatchNorm(model: tf.LayersModel, batches: BatchSource, inputShape: [number, number, number], options: RecalibrationOptions): number {
  const layers = model.layers.filter((layer) => layer.getClassName() === 'BatchNormalization') as unknown as BatchNormFields[];
  if (layers.length === 0 || options.samples <= 0) return 0;
  const momenta = layers.map((layer) => layer.momentum);
  let used = 0;
  let batchIndex = 0;
  try {
    for (const batch of recalibrationBatches(batches, options)) {
      batchIndex++;
      // The layers' own update rule does the averaging: with momentum 1 - 1/i for the i-th
      // batch, the moving value after n batches is the plain mean of the n batch values.
      for (const layer of layers) layer.momentum = 1 - 1 / batchIndex;
      tf.tidy(() => {
        model.apply(batchInputTensor(batch.x, batch.count, inputShape), { training: true });
      });
      used += batch.count;
    }
  } finally {
    layers.forEach((layer, i) => (layer.momentum = momenta[i]));
  }
  return used;
}
