import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { CancelledError, noProgress, silentLogger, type Logger, type ProgressReporter, type SplitName, type ThreadBudget } from '@cbnn/core';
import { batchInputTensor } from './batch-input';
import { CHECKPOINT_FILE, checkpointFingerprint, readCheckpoint, writeCheckpoint, type Checkpoint } from './checkpoint';
import { recalibrateBatchNorm } from './batch-norm-recalibration';
import { DataParallelTrainer, defaultGradientShards } from './data-parallel';
import { clipLatentWeights } from './quant-layers';
import type { BackendName, GradientKernels } from './backend';
import type { StopRule } from './early-stop';
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
   * Gradient shards per batch (data-parallel.ts; default: defaultGradientShards(batchSize)). The
   * trained model depends on it, not on `threads`.
   */
  shards?: number;
  /**
   * CPU threads to train on (the stage's budget). Above 1, on the wasm or CPU backend, up to
   * `shards` shards run at once on worker threads, which needs `replica` (how to build the model
   * in a worker). tfjs-node parallelizes inside its kernels instead. Default 1.
   */
  threads?: number;
  /**
   * The live budget (the runner moves threads to the critical stage): a changed count is adopted
   * at the next epoch boundary, growing or shrinking the worker pool. The numbers do not change
   * (the shards fix them). Absent: `threads` for the whole training.
   */
  threadBudget?: ThreadBudget;
  replica?: ReplicaSpec;
  /**
   * Folder for a checkpoint after every epoch (checkpoint.ts): a run killed mid-training resumes
   * from its last epoch, with the same final weights as an uninterrupted run. Unset: none.
   */
  checkpointDir?: string;
  /** Conv gradient kernels the worker threads install (the caller installed them here). */
  gradientKernels?: GradientKernels;
  /** Checked after each epoch's validation (early-stop.ts); a reason stops the training. */
  stopRule?: StopRule;
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
  /** Epoch a checkpoint resumed the training at (undefined: started at epoch 1). */
  resumedAtEpoch?: number;
  /** Why training stopped before its planned epochs (patience or the stop rule), when it did. */
  stopReason?: string;
  /** Most threads the training steps ran on (1: single-thread steps); the run record has them over time. */
  threads: number;
  /** Gradient shards per batch (what the numbers depend on). */
  shards: number;
}

/**
 * Threads the steps will use: more than one needs a replica spec and a single-threaded backend,
 * and more than `shards` would idle.
 */
export function trainingThreads(options: Pick<TrainOptions, 'threads' | 'replica' | 'shards' | 'batchSize'>): number {
  const threads = Math.min(Math.max(1, Math.floor(options.threads ?? 1)), options.shards ?? defaultGradientShards(options.batchSize));
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

  let threads = trainingThreads(options);
  let mostThreads = threads;
  const budget = options.threadBudget;
  const shards = options.shards ?? defaultGradientShards(options.batchSize);
  let state: TrainerState = { epoch: 0, step: 0, history: [], best: null, trainedSamples: 0, trainingSeconds: 0, stoppedEarly: false };
  const fingerprint = checkpointFingerprint({
    ...pick(options, [
      'inputShape',
      'classes',
      'epochs',
      'batchSize',
      'learningRate',
      'schedule',
      'patience',
      'limit',
      'seed',
      'trainCount',
      'clipLatent',
      'recalibrationSamples',
    ]),
    shards,
    variables: model.weights.map((w) => [w.name, w.shape]),
  });
  let resumedAtEpoch: number | undefined;
  if (options.checkpointDir) {
    const read = readCheckpoint<CheckpointMeta>(options.checkpointDir, fingerprint);
    if (read.status === 'discarded')
      logger.warn(`checkpoint ${path.join(options.checkpointDir, CHECKPOINT_FILE)} discarded: ${read.reason}; training starts at epoch 1`);
    if (read.status === 'ok') {
      state = await restoreCheckpoint(read.checkpoint, model, optimizer);
      resumedAtEpoch = state.epoch + 1;
      const message = `resumed at epoch ${resumedAtEpoch} (checkpoint after epoch ${state.epoch} of ${options.epochs})`;
      logger.info(message);
      progress.update({ message });
    }
  }
  if (options.epochsFile) fs.writeFileSync(options.epochsFile, state.history.map(epochLine).join(''));
  const history = state.history;
  let { best, step, trainedSamples, trainingSeconds, stoppedEarly, stopReason } = state;
  const parallel = await DataParallelTrainer.start({
    threads,
    shards,
    inputShape,
    classes,
    replica: options.replica,
    backend: tf.getBackend() as BackendName,
    gradientKernels: options.gradientKernels,
  });
  logger.info(`${shards} gradient shards per batch on ${threads} thread(s)${threads > 1 ? ` (workers: ${parallel.workerBackends.join('; ')})` : ''}`);
  budget?.canUse(trainingThreads({ ...options, threads: Infinity }));
  budget?.adopted(threads);
  try {
    for (let epoch = state.epoch + 1; epoch <= options.epochs && !stoppedEarly; epoch++) {
      // Epoch boundary: adopt the runner's new count (results are the same on any count). The
      // steps await only promises, so the runner's message waits for the event loop to poll for
      // I/O; two turns make sure one poll phase lies in between.
      if (budget) for (let turn = 0; turn < 2; turn++) await new Promise((resolve) => setImmediate(resolve));
      const wanted = budget ? trainingThreads({ ...options, threads: budget.current() }) : threads;
      if (wanted !== threads) {
        const now = await parallel.resize(wanted);
        logger.info(
          `epoch ${epoch}: ${threads} -> ${now} thread(s)${now !== wanted ? ` (${wanted} given, a worker failed to start)` : ''}, as the run's thread budget moved`,
        );
        threads = now;
        mostThreads = Math.max(mostThreads, threads);
        budget!.adopted(threads);
      }
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
            message: `epoch ${epoch}/${options.epochs} batch ${batchIndex}/${stepsPerEpoch} loss ${(lossSum / seen).toFixed(4)} acc ${(correct / seen).toFixed(4)} ${rate.toFixed(0)} samples/s${resumedAtEpoch ? ` (resumed at epoch ${resumedAtEpoch})` : ''}`,
          });
        }
      }
      const seconds = (performance.now() - started) / 1000;
      trainedSamples += seen;
      trainingSeconds += seconds;
      if (options.recalibrationSamples) {
        const recalibrationStarted = performance.now();
        const used = recalibrateBatchNorm(model, batches, inputShape, {
          samples: options.recalibrationSamples,
          batchSize: options.batchSize,
          seed: options.seed,
          epoch,
          limit: options.limit,
        });
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
      if (options.epochsFile) fs.appendFileSync(options.epochsFile, epochLine(metrics));
      logger.info(
        metrics,
        `epoch ${epoch}/${options.epochs}: loss ${metrics.loss.toFixed(4)} train ${metrics.trainAccuracy.toFixed(4)} validation ${metrics.validationAccuracy.toFixed(4)} (${metrics.samplesPerSecond.toFixed(0)} samples/s)`,
      );
      if (!best || validation.accuracy > best.accuracy) {
        if (best) tf.dispose(best.weights);
        best = { epoch, accuracy: validation.accuracy, weights: model.getWeights().map((w) => tf.clone(w)) };
      } else if (options.patience > 0 && epoch - best.epoch >= options.patience) {
        stopReason = `no validation improvement for ${options.patience} epochs (best epoch ${best.epoch})`;
        logger.info(`early stop: ${stopReason}`);
        stoppedEarly = true;
      }
      const ruled = stoppedEarly ? undefined : options.stopRule?.(epoch, options.epochs, best.accuracy);
      if (ruled) {
        stopReason = ruled;
        logger.info(`early stop: ${ruled}`);
        stoppedEarly = true;
      }
      if (options.checkpointDir) {
        writeCheckpoint(
          options.checkpointDir,
          fingerprint,
          await checkpointOf({ epoch, step, history, best, trainedSamples, trainingSeconds, stoppedEarly, stopReason }, model, optimizer),
        );
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
    resumedAtEpoch,
    stopReason,
    threads: mostThreads,
    shards,
  };
}

/** What the epoch loop carries from one epoch to the next (besides weights and optimizer). */
interface TrainerState {
  /** Epochs done. */
  epoch: number;
  step: number;
  history: EpochMetrics[];
  best: { epoch: number; accuracy: number; weights: tf.Tensor[] } | null;
  trainedSamples: number;
  trainingSeconds: number;
  stoppedEarly: boolean;
  stopReason?: string;
}

type CheckpointMeta = Omit<TrainerState, 'best'> & { best: { epoch: number; accuracy: number } | null; iterations: number; moments: string[] };

/** tfjs-core 4.22's AdamOptimizer fields a checkpoint needs: the bias-correction powers. */
interface AdamInternals {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
}

function adamInternals(optimizer: tf.Optimizer): AdamInternals {
  const o = optimizer as unknown as Partial<AdamInternals>;
  if (!(o.accBeta1 instanceof tf.Variable) || !(o.accBeta2 instanceof tf.Variable)) {
    throw new Error(
      'tfjs Adam has no accBeta1/accBeta2 variables (tfjs-core changed, checkpoints were written for 4.22): pin @tensorflow/tfjs or update checkpoint.ts',
    );
  }
  return o as AdamInternals;
}

function concatTensors(tensors: tf.Tensor[]): Float32Array {
  const out = new Float32Array(tensors.reduce((n, t) => n + t.size, 0));
  let offset = 0;
  for (const t of tensors) {
    out.set(t.dataSync() as Float32Array, offset);
    offset += t.size;
  }
  return out;
}

function splitTensors(flat: Float32Array, shapes: number[][]): tf.Tensor[] {
  let offset = 0;
  return shapes.map((shape) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const t = tf.tensor(flat.slice(offset, offset + n), shape, 'float32');
    offset += n;
    return t;
  });
}

/**
 * Everything the next epoch reads: all model weights (trainable and batch norm statistics), the
 * best epoch's weights, Adam's moments, iteration count and its exact bias-correction powers
 * (tfjs recomputes them as pow() on setWeights, which differs in the last bits from the running
 * product). No RNG state: the shuffle order is a function of (seed, epoch).
 */
async function checkpointOf(state: TrainerState, model: tf.LayersModel, optimizer: tf.Optimizer): Promise<Checkpoint<CheckpointMeta>> {
  const moments = await optimizer.getWeights();
  const [iter, ...rest] = moments;
  const adam = adamInternals(optimizer);
  const { best, ...plain } = state;
  return {
    meta: { ...plain, best: best && { epoch: best.epoch, accuracy: best.accuracy }, iterations: iter.tensor.dataSync()[0], moments: rest.map((m) => m.name) },
    arrays: {
      weights: concatTensors(model.getWeights()),
      best: concatTensors(best?.weights ?? []),
      moments: concatTensors(rest.map((m) => m.tensor)),
      accBeta: Float32Array.of(adam.accBeta1.dataSync()[0], adam.accBeta2.dataSync()[0]),
    },
  };
}

async function restoreCheckpoint(checkpoint: Checkpoint<CheckpointMeta>, model: tf.LayersModel, optimizer: tf.Optimizer): Promise<TrainerState> {
  const { meta, arrays } = checkpoint;
  const shapes = model.getWeights().map((w) => w.shape);
  const weights = splitTensors(arrays.weights, shapes);
  model.setWeights(weights);
  tf.dispose(weights);
  const trainableShapes = model.trainableWeights.map((w) => w.shape as number[]);
  const moments = splitTensors(arrays.moments, [...trainableShapes, ...trainableShapes].slice(0, meta.moments.length));
  // setWeights turns the tensors into the optimizer's variables (it keeps them).
  await optimizer.setWeights([
    { name: 'iter', tensor: tf.scalar(meta.iterations, 'int32') },
    ...moments.map((tensor, i) => ({ name: meta.moments[i], tensor })),
  ]);
  const adam = adamInternals(optimizer);
  adam.accBeta1.assign(tf.scalar(arrays.accBeta[0]));
  adam.accBeta2.assign(tf.scalar(arrays.accBeta[1]));
  const { best, iterations: _iterations, moments: _moments, ...plain } = meta;
  return { ...plain, best: best && { ...best, weights: splitTensors(arrays.best, shapes) } };
}

function pick<T extends object, K extends keyof T>(o: T, keys: readonly K[]): Pick<T, K> {
  return Object.fromEntries(keys.map((k) => [k, o[k]])) as Pick<T, K>;
}

/** One line of epochs.jsonl, part of the artifact (same key, same bytes): wall-clock figures go to the log only. */
function epochLine(metrics: EpochMetrics): string {
  const { seconds: _s, samplesPerSecond: _r, ...reproducible } = metrics;
  return JSON.stringify(reproducible) + '\n';
}
