import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import type { BackendName } from './backend';
import type { WorkerInit, WorkerReply, WorkerRequest } from './gradient-worker';
import { flattenGradients, readFlat, shardGradients, writeFlat, type ReplicaSpec, type ShardResult } from './replica';

/**
 * Data-parallel training steps on several cores.
 *
 * tfjs-backend-wasm runs on one thread in Node. With `threads` > 1 the batch is split into that
 * many shards: the main thread computes the first shard's gradients on its own model while each
 * worker thread (its own tfjs and wasm backend, a replica of the model) computes one other shard's.
 * The gradient of the whole batch's mean loss is the count-weighted mean of the shards' gradients,
 * summed in shard order (deterministic for a seed and a thread count); the main thread's optimizer
 * applies it, and the next step sends every worker the updated weights. Batch norm normalizes each
 * shard with its own statistics (as unsynchronized data-parallel BN does); the moving statistics
 * become the count-weighted mean of the shards' updates, which for the moving mean equals the
 * whole-batch update.
 */
export interface DataParallelOptions {
  /** Shards per step, main thread included (>= 2). */
  threads: number;
  replica: ReplicaSpec;
  /** Backend every worker activates (the main thread's). */
  backend: BackendName;
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

  static async start(options: DataParallelOptions): Promise<DataParallelTrainer> {
    if (options.threads < 2) throw new Error(`data-parallel training needs >= 2 threads (got ${options.threads})`);
    const init: WorkerInit = { replica: options.replica, backend: options.backend };
    const workers = Array.from({ length: options.threads - 1 }, () => new GradientWorker(init));
    try {
      const backends = await Promise.all(workers.map((w) => w.ready));
      return new DataParallelTrainer(workers, options, backends);
    } catch (e) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw e;
    }
  }

  /**
   * One training step on `batch`: shard gradients on all threads, their weighted mean applied by
   * `optimizer` to `model`, moving statistics averaged. Returns the batch's loss sum and hits.
   */
  async step(model: tf.LayersModel, optimizer: tf.Optimizer, batch: ParallelBatch): Promise<{ lossSum: number; hits: number; waitSeconds: number }> {
    const { inputShape, classes } = this.options.replica.spec;
    const pixels = inputShape[0] * inputShape[1] * inputShape[2];
    const trainable = model.trainableWeights;
    const nonTrainable = model.nonTrainableWeights;
    const sizes = shardSizes(batch.count, this.workers.length + 1);
    const weights = readFlat(trainable);
    const state = readFlat(nonTrainable);
    const offsets = sizes.map((_, i) => sizes.slice(0, i).reduce((a, b) => a + b, 0));
    const remote = sizes.slice(1).map((count, i) => {
      const start = offsets[i + 1];
      return this.workers[i].request({
        type: 'step',
        weights: weights.slice(),
        state: state.slice(),
        x: batch.x.slice(start * pixels, (start + count) * pixels),
        labels: batch.labels.slice(start, start + count),
        count,
      });
    });
    // The main thread's shard runs while the workers compute theirs.
    const own = shardGradients(model, optimizer, batch.x, batch.labels, sizes[0], inputShape, classes);
    const ownGrads = flattenGradients(trainable, own.grads);
    tf.dispose(Object.values(own.grads));
    const ownState = readFlat(nonTrainable);
    // Time the main thread idles for the workers (load balance, in benchmarks).
    const waitStarted = performance.now();
    const results = await Promise.all(remote);
    const waitSeconds = (performance.now() - waitStarted) / 1000;

    const total = batch.count;
    const grads = scaled(ownGrads, sizes[0] / total);
    const newState = scaled(ownState, sizes[0] / total);
    let lossSum = own.lossSum;
    let hits = own.hits;
    results.forEach((r, i) => {
      addScaled(grads, r.grads, sizes[i + 1] / total);
      addScaled(newState, r.state, sizes[i + 1] / total);
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

function scaled(a: Float32Array, s: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] * s;
  return out;
}

function addScaled(acc: Float32Array, a: Float32Array, s: number): void {
  if (a.length !== acc.length) throw new Error(`shard result has ${a.length} values, expected ${acc.length}`);
  for (let i = 0; i < a.length; i++) acc[i] += a[i] * s;
}
