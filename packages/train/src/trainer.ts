import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { CancelledError, noProgress, silentLogger, type Logger, type ProgressReporter, type SplitName } from '@cbnn/core';
import { batchInputTensor } from './batch-input';
import { recalibrateBatchNorm } from './batch-norm-recalibration';
import { DEFAULT_GRADIENT_SHARDS, DataParallelTrainer } from './data-parallel';
import { clipLatentWeights } from './quant-layers';
import type { BackendName } from './backend';
import type { ReplicaSpec } from './replica';
import { learningRateAt, type Schedule } from './schedule';

/** One batch from a streaming iterator (the @cbnn/bitslice `Batch` shape; buffers may be reused). */
export interface TrainBatch {
  x: Float32Array;
  labels: Uint8Array;
  count: number;
}

export interface BatchRequest {
  split: SplitName;
  batchSize: number;
  shuffle: boolean;
  seed: number;
  epoch: number;
  limit?: number;
}

/** Streams batches of one split; never a whole-dataset tensor. */
export type BatchSource = (request: BatchRequest) => Iterable<TrainBatch>;

export interface TrainOptions {
  model: tf.LayersModel;
  /** H, W, features of one input. */
  inputShape: [number, number, number];
  classes: number;
  batches: BatchSource;
  epochs: number;
  batchSize: number;
  learningRate: number;
  schedule: Schedule;
  /** Stop after this many epochs without a validation improvement (0: never). */
  patience: number;
  /** Train on the first `limit` training records only. */
  limit?: number;
  seed: number;
  /** Count of training records (for the schedule's step count and progress totals). */
  trainCount: number;
  /** Clip latent weights after every step (binary models). */
  clipLatent: boolean;
  /**
   * Before each validation, re-estimate the batch norm moving statistics on this many training
   * samples (batch-norm-recalibration.ts). 0 keeps the running averages of training.
   */
  recalibrationSamples?: number;
  /** Per-epoch metrics are appended here as JSON lines. */
  epochsFile?: string;
  logger?: Logger;
  progress?: ProgressReporter;
  signal?: AbortSignal;
  /**
   * Gradient shards per batch (data-parallel.ts; default 2). The trained model depends on it, not
   * on `threads`.
   */
  shards?: number;
  /**
   * CPU threads to train on (the stage's budget). Above 1, on the wasm or CPU backend, up to
   * `shards` shards run at once on worker threads, which needs `replica` (how to build the model
   * in a worker). tfjs-node parallelizes inside its kernels instead. Default 1.
   */
  threads?: number;
  replica?: ReplicaSpec;
}

export interface EpochMetrics {
  epoch: number;
  loss: number;
  trainAccuracy: number;
  validationAccuracy: number;
  learningRate: number;
  seconds: number;
  samplesPerSecond: number;
}

export interface TrainResult {
  epochs: EpochMetrics[];
  /** 1-based epoch whose weights the model holds at the end (best validation accuracy). */
  bestEpoch: number;
  validationAccuracy: number;
  /** Training samples per second over all epochs (forward + backward + update). */
  samplesPerSecond: number;
  stoppedEarly: boolean;
  /** Threads the training steps ran on (1: single-thread steps). */
  threads: number;
  /** Gradient shards per batch (what the numbers depend on). */
  shards: number;
}

/**
 * Threads the steps will use: more than one needs a replica spec and a single-threaded backend,
 * and more than `shards` would idle.
 */
export function trainingThreads(options: Pick<TrainOptions, 'threads' | 'replica' | 'shards'>): number {
  const threads = Math.min(Math.max(1, Math.floor(options.threads ?? 1)), options.shards ?? DEFAULT_GRADIENT_SHARDS);
  const backend = tf.getBackend();
  return threads > 1 && options.replica && (backend === 'wasm' || backend === 'cpu') ? threads : 1;
}

/** Predicted classes of a split (streamed in batches). */
export function predictSplit(
  model: tf.LayersModel,
  batches: BatchSource,
  inputShape: [number, number, number],
  split: SplitName,
  options: { batchSize?: number; limit?: number; seed?: number } = {},
): { predicted: Int32Array; labels: Uint8Array; accuracy: number } {
  const predicted: number[] = [];
  const labels: number[] = [];
  for (const batch of batches({ split, batchSize: options.batchSize ?? 256, shuffle: false, seed: options.seed ?? 0, epoch: 0, limit: options.limit })) {
    const classes = tf.tidy(() => {
      const xs = batchInputTensor(batch.x, batch.count, inputShape);
      return tf.argMax(model.predict(xs) as tf.Tensor, -1);
    });
    predicted.push(...(classes.dataSync() as Int32Array));
    classes.dispose();
    labels.push(...batch.labels.subarray(0, batch.count));
  }
  let correct = 0;
  for (let i = 0; i < labels.length; i++) if (predicted[i] === labels[i]) correct++;
  return { predicted: Int32Array.from(predicted), labels: Uint8Array.from(labels), accuracy: labels.length ? correct / labels.length : 0 };
}

/**
 * Train with Adam and a learning-rate schedule, streaming batches; validate every epoch, keep the
 * weights of the best validation epoch (never chosen on test), stop early after `patience` epochs
 * without improvement. Deterministic for a seed on one backend: seeded initializers (builders),
 * seeded shuffling, no other randomness.
 */
export async function trainModel(options: TrainOptions): Promise<TrainResult> {
  const { model, inputShape, classes, batches } = options;
  const logger = options.logger ?? silentLogger();
  const progress = options.progress ?? noProgress;
  const trainCount = options.limit === undefined ? options.trainCount : Math.min(options.trainCount, options.limit);
  const stepsPerEpoch = Math.ceil(trainCount / options.batchSize);
  const totalSteps = stepsPerEpoch * options.epochs;
  const optimizer = tf.train.adam(options.learningRate);
  // tfjs-layers's Adam reads `learningRate` on every step; it is a protected field in the typings.
  const setLearningRate = (lr: number) => ((optimizer as unknown as { learningRate: number }).learningRate = lr);

  const history: EpochMetrics[] = [];
  let best: { epoch: number; accuracy: number; weights: tf.Tensor[] } | null = null;
  let step = 0;
  let trainedSamples = 0;
  let trainingSeconds = 0;
  let stoppedEarly = false;
  if (options.epochsFile) fs.writeFileSync(options.epochsFile, '');
  const threads = trainingThreads(options);
  const shards = options.shards ?? DEFAULT_GRADIENT_SHARDS;
  const parallel = await DataParallelTrainer.start({ threads, shards, inputShape, classes, replica: options.replica, backend: tf.getBackend() as BackendName });
  logger.info(`${shards} gradient shards per batch on ${threads} thread(s)${threads > 1 ? ` (workers: ${parallel.workerBackends.join('; ')})` : ''}`);
  try {
  for (let epoch = 1; epoch <= options.epochs; epoch++) {
    const started = performance.now();
    let lossSum = 0;
    let correct = 0;
    let seen = 0;
    let batchIndex = 0;
    let lastReport = 0;
    let lr = options.learningRate;
    for (const batch of batches({ split: 'train', batchSize: options.batchSize, shuffle: true, seed: options.seed, epoch, limit: options.limit })) {
      if (options.signal?.aborted) throw new CancelledError('training cancelled');
      lr = learningRateAt(options.schedule, options.learningRate, step, totalSteps);
      setLearningRate(lr);
      const r = await parallel.step(model, optimizer, batch);
      lossSum += r.lossSum;
      correct += r.hits;
      if (options.clipLatent) clipLatentWeights(model);
      seen += batch.count;
      step++;
      batchIndex++;
      const now = performance.now();
      if (now - lastReport > 1000 || batchIndex === stepsPerEpoch) {
        lastReport = now;
        const rate = seen / ((now - started) / 1000);
        progress.update({
          current: batchIndex,
          total: stepsPerEpoch,
          unit: 'batch',
          message: `epoch ${epoch}/${options.epochs} batch ${batchIndex}/${stepsPerEpoch} loss ${(lossSum / seen).toFixed(4)} acc ${(correct / seen).toFixed(4)} ${rate.toFixed(0)} samples/s`,
        });
      }
    }
    const seconds = (performance.now() - started) / 1000;
    trainedSamples += seen;
    trainingSeconds += seconds;
    if (options.recalibrationSamples) {
      const recalibrationStarted = performance.now();
      const used = recalibrateBatchNorm(model, batches, inputShape, { samples: options.recalibrationSamples, batchSize: options.batchSize, seed: options.seed, epoch, limit: options.limit });
      logger.debug(`batch norm statistics re-estimated on ${used} training samples in ${((performance.now() - recalibrationStarted) / 1000).toFixed(1)} s`);
    }
    const validation = predictSplit(model, batches, inputShape, 'validation', { batchSize: Math.max(options.batchSize, 256) });
    const metrics: EpochMetrics = {
      epoch,
      loss: seen ? lossSum / seen : NaN,
      trainAccuracy: seen ? correct / seen : 0,
      validationAccuracy: validation.accuracy,
      learningRate: lr,
      seconds,
      samplesPerSecond: seen / seconds,
    };
    history.push(metrics);
    if (options.epochsFile) fs.appendFileSync(options.epochsFile, JSON.stringify(metrics) + '\n');
    logger.info(metrics, `epoch ${epoch}/${options.epochs}: loss ${metrics.loss.toFixed(4)} train ${metrics.trainAccuracy.toFixed(4)} validation ${metrics.validationAccuracy.toFixed(4)} (${metrics.samplesPerSecond.toFixed(0)} samples/s)`);
    if (!best || validation.accuracy > best.accuracy) {
      if (best) tf.dispose(best.weights);
      best = { epoch, accuracy: validation.accuracy, weights: model.getWeights().map((w) => tf.clone(w)) };
    } else if (options.patience > 0 && epoch - best.epoch >= options.patience) {
      logger.info(`early stop: no validation improvement for ${options.patience} epochs (best epoch ${best.epoch})`);
      stoppedEarly = true;
      break;
    }
  }
  } finally {
    await parallel.close();
  }
  optimizer.dispose();
  if (!best) throw new Error('training ran no epoch');
  model.setWeights(best.weights);
  tf.dispose(best.weights);
  return {
    epochs: history,
    bestEpoch: best.epoch,
    validationAccuracy: best.accuracy,
    samplesPerSecond: trainingSeconds > 0 ? trainedSamples / trainingSeconds : 0,
    stoppedEarly,
    threads,
    shards,
  };
}
