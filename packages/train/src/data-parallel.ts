import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import type { BackendName, GradientKernels } from './backend';
import type { WorkerInit, WorkerReply, WorkerRequest } from './gradient-worker';
import { flattenGradients, readFlat, shardGradients, writeFlat, type ReplicaSpec, type ShardResult } from './replica';

/**
 * Training steps as a fixed number of gradient shards, on one or more threads.
 *
 * Every batch is split into `shards` contiguous shards, whatever the thread count, and each
 * shard's gradient is computed on its own (forward and backward with the shard's own batch norm
 * statistics, as unsynchronized data-parallel BN does). The gradient of the whole batch's mean
 * loss is the count-weighted mean of the shards' gradients, summed in shard order by the main
 * thread, whose optimizer applies it. Which thread computed a shard does not change its numbers
 * (same backend, same kernels, same weights), so the trained model depends on the shard count
 * (a training param) and never on the thread count: `threads` only says how many shards run at
 * once. The main thread computes its shards on its own model; each worker thread (its own tfjs
 * and wasm backend, a replica of the model) gets the step's weights and state with every shard
 * request. The moving statistics become the count-weighted mean of the shards' updates, each
 * starting from the step's state; for the moving mean that equals the whole-batch update.
 */
export interface DataParallelOptions {
  /** Threads computing shards at once, main thread included (>= 1; capped at `shards`). */
  threads: number;
  /** Gradient shards per batch (>= 1): fixes the numbers, whatever `threads` is. */
  shards: number;
  inputShape: [number, number, number];
  classes: number;
  /** How a worker builds the model: needed with more than one thread. */
  replica?: ReplicaSpec;
  /** Backend every worker activates (the main thread's). */
  backend: BackendName;
  /** Conv gradient kernels every worker installs (the main thread's; default 'wasm'). */
  gradientKernels?: GradientKernels;
}

/** Gradient shards per batch when a caller does not say (two cores on the reference machine). */
export const DEFAULT_GRADIENT_SHARDS = 2;
/**
 * The default keeps shards at >= 64 samples: smaller ones make each shard's batch norm
 * statistics noisy (a batch of 32 trains as one shard).
 */
export const MIN_DEFAULT_SHARD = 64;

/** Shards per batch for `batchSize` when the params do not say. */
export function defaultGradientShards(batchSize: number): number {
  return Math.max(1, Math.min(DEFAULT_GRADIENT_SHARDS, Math.floor(batchSize / MIN_DEFAULT_SHARD)));
}

interface Pending {
  resolve: (r: ShardResult) => void;
  reject: (e: Error) => void;
}

/** A worker thread whose replies answer requests in order. */
class GradientWorker {
  private readonly worker: Worker;
  private readonly queue: Pending[] = [];
  private failure: Error | null = null;
  readonly ready: Promise<string>;

  constructor(init: WorkerInit) {
    this.worker = spawnWorker(init);
    this.ready = new Promise((resolve, reject) => {
      const onReady = (msg: WorkerReply) => {
        this.worker.off('message', onReady);
        if (msg.type === 'ready') {
          resolve(msg.backend);
          this.worker.on('message', (m: WorkerReply) => this.onMessage(m));
        } else reject(new Error(`gradient worker failed to start: ${msg.type === 'error' ? msg.message : msg.type}`));
      };
      this.worker.on('message', onReady);
      this.worker.once('error', (e) => {
        reject(e);
        this.fail(e);
      });
    });
    this.worker.on('exit', (code) => this.fail(new Error(`gradient worker exited (code ${code})`)));
  }

  private fail(e: Error): void {
    this.failure ??= e;
    for (const p of this.queue.splice(0)) p.reject(e);
  }

  private onMessage(msg: WorkerReply): void {
    const pending = this.queue.shift();
    if (!pending) return;
    if (msg.type === 'result') pending.resolve(msg);
    else pending.reject(new Error(`gradient worker: ${msg.type === 'error' ? msg.message : msg.type}`));
  }

  request(req: WorkerRequest): Promise<ShardResult> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.queue.push({ resolve, reject });
      this.worker.postMessage(req, [req.weights.buffer, req.state.buffer, req.x.buffer, req.labels.buffer] as ArrayBuffer[]);
    });
  }

  async terminate(): Promise<void> {
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }
}

/**
 * The worker script. Built package: the compiled gradient-worker.js beside this file. From the
 * TypeScript sources (jest maps @cbnn/train to src/): a bootstrap that compiles the .ts files with
 * swc as they are required (workspace packages resolve to their built dist/).
 */
function spawnWorker(init: WorkerInit): Worker {
  const compiled = path.join(__dirname, 'gradient-worker.js');
  if (fs.existsSync(compiled)) return new Worker(compiled, { workerData: init });
  const source = path.join(__dirname, 'gradient-worker.ts');
  const swc = require.resolve('@swc/core');
  const bootstrap = `
    const fs = require('node:fs');
    const { transformSync } = require(${JSON.stringify(swc)});
    require.extensions['.ts'] = (module, filename) => {
      const { code } = transformSync(fs.readFileSync(filename, 'utf8'), {
        filename, jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' },
      });
      module._compile(code, filename);
    };
    require(${JSON.stringify(source)});
  `;
  return new Worker(bootstrap, { eval: true, workerData: init });
}

/** Split `count` into at most `parts` contiguous shards of near-equal size, none below `min`. */
export function shardSizes(count: number, parts: number, min = 2): number[] {
  const n = Math.max(1, Math.min(parts, Math.floor(count / min)));
  const base = Math.floor(count / n);
  return Array.from({ length: n }, (_, i) => base + (i < count % n ? 1 : 0));
}

export interface ParallelBatch {
  x: Float32Array;
  labels: Uint8Array;
  count: number;
}

export class DataParallelTrainer {
  private constructor(
    private readonly workers: GradientWorker[],
    private readonly options: DataParallelOptions,
    /** Backend description each worker reported. */
    readonly workerBackends: string[],
  ) {}

  /** The worker-thread setup of a pool for `options`: one worker per thread beyond the main one. */
  private static workerInit(options: DataParallelOptions): WorkerInit {
    return { replica: options.replica!, backend: options.backend, gradientKernels: options.gradientKernels ?? 'wasm' };
  }

  /**
   * Grow or shrink the pool to `threads` (capped at the shard count), between steps: the shards
   * and their order stay, so the numbers do not change. A worker that fails to start leaves the
   * pool as it was. Returns the threads in use afterwards.
   */
  async resize(threads: number): Promise<number> {
    const count = Math.min(Math.max(1, Math.floor(threads)), this.options.shards) - 1;
    if (count > this.workers.length && this.options.replica) {
      const init = DataParallelTrainer.workerInit(this.options);
      const added = Array.from({ length: count - this.workers.length }, () => new GradientWorker(init));
      try {
        const backends = await Promise.all(added.map((w) => w.ready));
        this.workers.push(...added);
        this.workerBackends.push(...backends);
      } catch {
        await Promise.all(added.map((w) => w.terminate()));
      }
    }
    while (this.workers.length > count) {
      this.workerBackends.pop();
      await this.workers.pop()!.terminate();
    }
    return this.threads;
  }

  /** Threads that compute shards (main thread included). */
  get threads(): number {
    return this.workers.length + 1;
  }

  static async start(options: DataParallelOptions): Promise<DataParallelTrainer> {
    if (!(options.shards >= 1) || !(options.threads >= 1))
      throw new Error(`sharded training needs >= 1 shard and thread (got ${options.shards} shards, ${options.threads} threads)`);
    const count = Math.min(options.threads, options.shards) - 1;
    if (count > 0 && !options.replica) throw new Error('training on more than one thread needs a replica spec (how a worker builds the model)');
    const init = DataParallelTrainer.workerInit(options);
    const workers = Array.from({ length: count }, () => new GradientWorker(init));
    try {
      const backends = await Promise.all(workers.map((w) => w.ready));
      return new DataParallelTrainer(workers, options, backends);
    } catch (e) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw e;
    }
  }

  /**
   * One training step on `batch`: the shards' gradients (on all threads), their weighted mean
   * applied by `optimizer` to `model`, moving statistics averaged. Returns the batch's loss sum
   * and hits.
   */
  async step(model: tf.LayersModel, optimizer: tf.Optimizer, batch: ParallelBatch): Promise<{ lossSum: number; hits: number; waitSeconds: number }> {
    const { inputShape, classes } = this.options;
    const pixels = inputShape[0] * inputShape[1] * inputShape[2];
    const trainable = model.trainableWeights;
    const nonTrainable = model.nonTrainableWeights;
    const sizes = shardSizes(batch.count, this.options.shards);
    const weights = readFlat(trainable);
    const state = readFlat(nonTrainable);
    const offsets = sizes.map((_, i) => sizes.slice(0, i).reduce((a, b) => a + b, 0));
    // Contiguous blocks of shards per thread; thread 0 is this one.
    const owner = (i: number): number => Math.floor((i * this.threads) / sizes.length);
    const results: (ShardResult | Promise<ShardResult>)[] = sizes.map((count, i) => {
      if (owner(i) === 0) return null as unknown as ShardResult;
      const start = offsets[i];
      return this.workers[owner(i) - 1].request({
        type: 'step',
        weights: weights.slice(),
        state: state.slice(),
        x: batch.x.slice(start * pixels, (start + count) * pixels),
        labels: batch.labels.slice(start, start + count),
        count,
      });
    });
    // This thread's shards run while the workers compute theirs, each from the step's state.
    let first = true;
    sizes.forEach((count, i) => {
      if (owner(i) !== 0) return;
      if (!first) writeFlat(nonTrainable, state);
      first = false;
      const start = offsets[i];
      const own = shardGradients(
        model,
        optimizer,
        batch.x.subarray(start * pixels, (start + count) * pixels),
        batch.labels.subarray(start, start + count),
        count,
        inputShape,
        classes,
      );
      const grads = flattenGradients(trainable, own.grads);
      tf.dispose(Object.values(own.grads));
      results[i] = { grads, state: readFlat(nonTrainable), lossSum: own.lossSum, hits: own.hits, count };
    });
    // Time the main thread idles for the workers (load balance, in benchmarks).
    const waitStarted = performance.now();
    const shards = await Promise.all(results);
    const waitSeconds = (performance.now() - waitStarted) / 1000;

    const total = batch.count;
    const grads = new Float32Array(weights.length);
    const newState = new Float32Array(state.length);
    let lossSum = 0;
    let hits = 0;
    shards.forEach((r, i) => {
      addScaled(grads, r.grads, sizes[i] / total);
      addScaled(newState, r.state, sizes[i] / total);
      lossSum += r.lossSum;
      hits += r.hits;
    });
    writeFlat(nonTrainable, newState);
    tf.tidy(() => {
      const named: tf.NamedTensorMap = {};
      let offset = 0;
      for (const v of trainable) {
        const n = v.shape.reduce((a: number, b) => a * (b as number), 1);
        named[(v.read() as tf.Variable).name] = tf.tensor(grads.subarray(offset, offset + n), v.shape as number[], 'float32');
        offset += n;
      }
      optimizer.applyGradients(named);
    });
    return { lossSum, hits, waitSeconds };
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

function addScaled(acc: Float32Array, a: Float32Array, s: number): void {
  if (a.length !== acc.length) throw new Error(`shard result has ${a.length} values, expected ${acc.length}`);
  for (let i = 0; i < a.length; i++) acc[i] += a[i] * s;
}
