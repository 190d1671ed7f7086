import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { InvalidInputError } from '@cbnn/core';
import type { ConvKernel } from './conv-binding';
import type { KernelImpl } from './kernel-set';
import type { EngineModel } from './model-format';

/**
 * Worker threads for a batch split: each worker runs its own engine (its own wasm instance and
 * memory) on a share of the batch. `predict` stays synchronous: the main thread hands out the
 * shares through shared memory, computes the first share itself and blocks in Atomics.wait until
 * the workers are done. No message passing per batch, no copies of the model per batch.
 */

/** Int32 slots per worker in the control block. */
const SLOTS = 8;
export const CTRL = { seq: 0, start: 1, count: 2, done: 3, status: 4, ready: 5, errorLength: 6 } as const;
/** seq value that tells a worker to exit its loop. */
export const STOP = -1;
const ERROR_BYTES = 2048;
const START_TIMEOUT_MS = 60_000;

/** Built by tsc next to this file's compiled form; jest runs src/, so always take dist/. */
export const ENGINE_WORKER_PATH = path.join(__dirname, '..', 'dist', 'engine-worker.js');

/** What a worker receives at start (structured clone: the model's typed arrays are copied once). */
export interface EngineWorkerData {
  model: EngineModel;
  impl: KernelImpl;
  /** The calling thread's conv kernels, so that every thread runs the same ones. */
  convKernels: ConvKernel[];
  maxBatch: number;
  index: number;
  input: SharedArrayBuffer;
  scores: SharedArrayBuffer;
  control: SharedArrayBuffer;
  errors: SharedArrayBuffer;
}

export function availableCores(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

/** threads must be an integer in [1, cores]: no silent clamp, a clear message otherwise. */
export function checkThreads(threads: number): void {
  const cores = availableCores();
  if (!Number.isInteger(threads) || threads < 1 || threads > cores) {
    throw new InvalidInputError(
      `threads must be an integer from 1 to ${cores} (the cores of this machine), got ${threads}`,
      { field: 'threads' },
      'each thread runs a share of the batch on its own core; more threads than cores only adds contention',
    );
  }
}

export interface ThreadPool {
  readonly workers: number;
  /** Shared input of the whole batch: maxBatch * inputWords words (the main thread's share is unused). */
  readonly input: Uint32Array;
  /** Shared scores of the whole batch: maxBatch * classes. */
  readonly scores: Float32Array;
  /** Start worker w on images [start, start + count) of `input`; its scores go to the same rows of `scores`. */
  start(w: number, start: number, count: number): void;
  /** Block until worker w has finished what it was started on; throws what it threw. */
  wait(w: number): void;
  close(): Promise<void>;
}

export function createThreadPool(
  model: EngineModel,
  impl: KernelImpl,
  convKernels: readonly ConvKernel[],
  workers: number,
  perWorkerBatch: number,
  maxBatch: number,
  inputWords: number,
  classes: number,
): ThreadPool {
  if (!fs.existsSync(ENGINE_WORKER_PATH)) {
    throw new InvalidInputError(
      `engine worker script ${ENGINE_WORKER_PATH} is missing`,
      { file: ENGINE_WORKER_PATH },
      'build the kernels package (npm run build), or use threads: 1',
    );
  }
  const inputSab = new SharedArrayBuffer(maxBatch * inputWords * 4);
  const scoresSab = new SharedArrayBuffer(maxBatch * classes * 4);
  const controlSab = new SharedArrayBuffer(workers * SLOTS * 4);
  const errorsSab = new SharedArrayBuffer(workers * ERROR_BYTES);
  const ctrl = new Int32Array(controlSab);
  const errors = new Uint8Array(errorsSab);
  const seqs = new Int32Array(workers);
  const threads: Worker[] = [];
  const at = (w: number, slot: number): number => w * SLOTS + slot;
  const errorOf = (w: number): string => {
    const len = Atomics.load(ctrl, at(w, CTRL.errorLength));
    return Buffer.from(errors.subarray(w * ERROR_BYTES, w * ERROR_BYTES + len)).toString('utf8');
  };
  for (let w = 0; w < workers; w++) {
    const data: EngineWorkerData = {
      model,
      impl,
      convKernels: [...convKernels],
      maxBatch: perWorkerBatch,
      index: w,
      input: inputSab,
      scores: scoresSab,
      control: controlSab,
      errors: errorsSab,
    };
    const worker = new Worker(ENGINE_WORKER_PATH, { workerData: data });
    // an idle pool must not keep the process alive
    worker.unref();
    threads.push(worker);
  }
  for (let w = 0; w < workers; w++) {
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Atomics.load(ctrl, at(w, CTRL.ready)) === 0) {
      const left = deadline - Date.now();
      if (left <= 0 || Atomics.wait(ctrl, at(w, CTRL.ready), 0, left) === 'timed-out') {
        void Promise.all(threads.map((t) => t.terminate()));
        throw new Error(`engine worker ${w + 1} of ${workers} did not start within ${START_TIMEOUT_MS / 1000} s`);
      }
    }
    if (Atomics.load(ctrl, at(w, CTRL.ready)) < 0) {
      const message = errorOf(w);
      void Promise.all(threads.map((t) => t.terminate()));
      throw new Error(`engine worker ${w + 1} of ${workers} failed to start: ${message}`);
    }
  }
  return {
    workers,
    input: new Uint32Array(inputSab),
    scores: new Float32Array(scoresSab),
    start(w, start, count) {
      Atomics.store(ctrl, at(w, CTRL.start), start);
      Atomics.store(ctrl, at(w, CTRL.count), count);
      seqs[w] = (seqs[w] + 1) & 0x3fffffff;
      Atomics.store(ctrl, at(w, CTRL.seq), seqs[w]);
      Atomics.notify(ctrl, at(w, CTRL.seq));
    },
    wait(w) {
      const slot = at(w, CTRL.done);
      for (let done = Atomics.load(ctrl, slot); done !== seqs[w]; done = Atomics.load(ctrl, slot)) Atomics.wait(ctrl, slot, done);
      if (Atomics.load(ctrl, at(w, CTRL.status)) !== 0) throw new Error(`engine worker ${w + 1} failed: ${errorOf(w)}`);
    },
    async close() {
      for (let w = 0; w < workers; w++) {
        Atomics.store(ctrl, at(w, CTRL.seq), STOP);
        Atomics.notify(ctrl, at(w, CTRL.seq));
      }
      await Promise.all(threads.map((t) => t.terminate()));
    },
  };
}

/** The worker side of the control block (used by engine-worker.ts). */
export function workerControl(data: EngineWorkerData): {
  ready(): void;
  failedToStart(message: string): void;
  next(seen: number): { seq: number; start: number; count: number };
  finish(seq: number, error?: string): void;
} {
  const ctrl = new Int32Array(data.control);
  const errors = new Uint8Array(data.errors);
  const at = (slot: number): number => data.index * SLOTS + slot;
  const writeError = (message: string): void => {
    const bytes = Buffer.from(message, 'utf8').subarray(0, ERROR_BYTES);
    errors.set(bytes, data.index * ERROR_BYTES);
    Atomics.store(ctrl, at(CTRL.errorLength), bytes.length);
  };
  return {
    ready() {
      Atomics.store(ctrl, at(CTRL.ready), 1);
      Atomics.notify(ctrl, at(CTRL.ready));
    },
    failedToStart(message) {
      writeError(message);
      Atomics.store(ctrl, at(CTRL.ready), -1);
      Atomics.notify(ctrl, at(CTRL.ready));
    },
    next(seen) {
      for (;;) {
        const seq = Atomics.load(ctrl, at(CTRL.seq));
        if (seq !== seen) return { seq, start: Atomics.load(ctrl, at(CTRL.start)), count: Atomics.load(ctrl, at(CTRL.count)) };
        Atomics.wait(ctrl, at(CTRL.seq), seen);
      }
    },
    finish(seq, error) {
      if (error !== undefined) writeError(error);
      Atomics.store(ctrl, at(CTRL.status), error === undefined ? 0 : 1);
      Atomics.store(ctrl, at(CTRL.done), seq);
      Atomics.notify(ctrl, at(CTRL.done));
    },
  };
}
