import * as path from 'node:path';
import { InvalidInputError, readDataset, wordsForChannels, type Dataset, type SplitName } from '@cbnn/core';
import { z } from 'zod';
import { CONV_KERNELS } from './conv-binding';
import { buildPlan, type EnginePlan } from './engine-plan';
import { createReferenceRunner, createWasmRunner, type PlanRunner } from './engine-runners';
import { checkThreads, createThreadPool, type ThreadPool } from './engine-threads';
import { profileRunner, type EngineProfile, type ProfileOptions } from './engine-profile';
import type { KernelImpl } from './kernel-set';
import type { EngineModel } from './model-format';
import { createPlanePacker, type PlanePacker } from './plane-packer';

/**
 * Default smallest batch that is split across threads. A guess from the costs (a hand-off is tens
 * of µs, a compact image ~50 µs): on the shared 2-core machine it was developed on, a second
 * thread bought nothing measurable below batch 64, so the crossover is still to be measured idle.
 */
export const DEFAULT_SPLIT_FROM = 16;

export const engineOptionsSchema = z.object({
  impl: z.enum(['wasm', 'reference']).default('wasm'),
  /** Largest batch run at once; memory for it is allocated up front. A larger batch is refused. */
  maxBatch: z.number().int().positive().max(65536).default(128),
  /**
   * Threads a batch is split across: the calling thread and threads-1 worker threads, each with
   * its own engine. From 1 to the machine's cores (checked, never clamped).
   */
  threads: z.number().default(1),
  /** Batches smaller than this run on the calling thread alone (splitting a small batch costs more than it saves). */
  splitFrom: z.number().int().min(1).default(DEFAULT_SPLIT_FROM),
  /**
   * The kernel of each binary conv call (wasm), in order. By default each is the faster one on
   * its shape, timed when the engine is created (chooseConvKernel); worker threads are given
   * the calling thread's choice.
   */
  convKernels: z.array(z.enum(CONV_KERNELS)).optional(),
});
export type EngineOptions = z.input<typeof engineOptionsSchema>;

export interface EvaluateOptions {
  batchSize?: number;
  /** Evaluate only the first `limit` records of the split. */
  limit?: number;
}

export interface EvaluationResult {
  split: SplitName;
  impl: KernelImpl;
  count: number;
  correct: number;
  accuracy: number;
  /** confusion[label][predicted] */
  confusion: number[][];
  seconds: number;
  imagesPerSecond: number;
}

export interface Engine {
  readonly model: EngineModel;
  readonly impl: KernelImpl;
  readonly maxBatch: number;
  /** Threads a batch of at least `splitFrom` images is split across (1 = the calling thread only). */
  readonly threads: number;
  readonly plan: EnginePlan;
  /** Kernel variant of each call a forward pass makes, in order (e.g. 'b-conv3x3-lut9-2xall'). */
  readonly kernels: readonly string[];
  /** Packed input words per image: H*W*words(features). */
  readonly inputWords: number;
  /**
   * Class scores (count x classes, row-major) of `count` packed images (core's packing of the
   * model's planes). Pass `out` to avoid allocating.
   */
  predict(packedInput: Uint32Array, count: number, out?: Float32Array): Float32Array;
  /** Index of the highest score per image (first on ties). */
  classify(packedInput: Uint32Array, count: number, out?: Int32Array): Int32Array;
  /** Accuracy on a dataset artifact's split, packing the model's planes itself. */
  evaluate(dataset: Dataset | string, split?: SplitName, options?: EvaluateOptions): EvaluationResult;
  /**
   * Per-layer (per call) times of one forward pass of `count` <= maxBatch packed images, with
   * the kernel variant of each call and its separable phases (im2col of a conv).
   */
  profile(packedInput: Uint32Array, count: number, options?: ProfileOptions): EngineProfile;
  /** Stop the worker threads (idle workers never keep the process alive, so this is optional). */
  close(): Promise<void>;
}

export function createEngine(model: EngineModel, options: EngineOptions = {}): Engine {
  const opts = engineOptionsSchema.parse(options);
  checkThreads(opts.threads);
  const plan = buildPlan(model);
  const threads = opts.threads;
  // The calling thread runs the first share of a split batch, or a whole batch below splitFrom.
  const share = Math.ceil(opts.maxBatch / threads);
  const mainBatch = threads === 1 ? opts.maxBatch : Math.max(share, Math.min(opts.maxBatch, opts.splitFrom - 1));
  const runner: PlanRunner = opts.impl === 'wasm' ? createWasmRunner(plan, mainBatch, opts.convKernels) : createReferenceRunner(plan, mainBatch);
  const classes = plan.classes;
  const features = model.input.features;
  const pixels = model.input.height * model.input.width;
  const wordsF = wordsForChannels(features);
  // Core's packing says padding bits are 0; mask them anyway so a sloppy caller cannot change
  // results. Conv kernels read only the first `inC` bits of a pixel, so they need no mask.
  const firstOp = plan.steps[0]?.op;
  const maskInput = features % 32 !== 0 && firstOp !== 'conv' && firstOp !== 'conv_real';
  const lastWordMask = (1 << (features % 32)) - 1;
  const pool: ThreadPool | undefined =
    threads > 1 ? createThreadPool(model, opts.impl, runner.convKernels, threads - 1, share, opts.maxBatch, plan.inputWords, classes) : undefined;
  const scratchScores = new Float32Array(opts.maxBatch * classes);
  let packer: PlanePacker | undefined;
  let packed: Uint32Array | undefined;

  function runChunk(input: Uint32Array, start: number, n: number): Float32Array {
    const dst = runner.input;
    const base = start * plan.inputWords;
    const len = n * plan.inputWords;
    dst.set(input.subarray(base, base + len));
    if (maskInput) for (let i = wordsF - 1; i < len; i += wordsF) dst[i] &= lastWordMask;
    return runner.run(n);
  }

  /** Scores of `count` <= maxBatch images into result[0, count*classes). */
  function runBatch(input: Uint32Array, count: number, result: Float32Array): void {
    if (!pool || count < opts.splitFrom) {
      result.set(runChunk(input, 0, count).subarray(0, count * classes));
      return;
    }
    const per = Math.ceil(count / threads);
    const started: Array<{ w: number; start: number; n: number }> = [];
    for (let w = 0; w < pool.workers; w++) {
      const start = (w + 1) * per;
      const n = Math.min(per, count - start);
      if (n <= 0) break;
      pool.input.set(input.subarray(start * plan.inputWords, (start + n) * plan.inputWords), start * plan.inputWords);
      pool.start(w, start, n);
      started.push({ w, start, n });
    }
    const first = Math.min(per, count);
    let failure: unknown;
    try {
      result.set(runChunk(input, 0, first).subarray(0, first * classes));
    } catch (e) {
      failure = e;
    }
    for (const { w, start, n } of started) {
      try {
        pool.wait(w);
        result.set(pool.scores.subarray(start * classes, (start + n) * classes), start * classes);
      } catch (e) {
        failure ??= e;
      }
    }
    if (failure) throw failure;
  }

  function checkCount(packedInput: Uint32Array, count: number): void {
    if (!Number.isInteger(count) || count < 0) throw new InvalidInputError(`count must be a non-negative integer, got ${count}`, { field: 'count' });
    if (count > opts.maxBatch) {
      throw new InvalidInputError(
        `${count} images exceed the engine's maxBatch of ${opts.maxBatch} (its memory is sized for that at createEngine)`,
        { field: 'count' },
        `pass at most ${opts.maxBatch} images per call, or create the engine with { maxBatch: ${count} }`,
      );
    }
    if (packedInput.length < count * plan.inputWords) {
      throw new InvalidInputError(
        `packed input has ${packedInput.length} words, fewer than ${count} images x ${plan.inputWords} words (${model.input.height}x${model.input.width}x${features} planes)`,
        { field: 'packedInput' },
      );
    }
  }

  const engine: Engine = {
    model,
    impl: opts.impl,
    maxBatch: opts.maxBatch,
    threads,
    plan,
    kernels: runner.steps.map((s) => s.variant),
    inputWords: plan.inputWords,
    predict(packedInput, count, out) {
      checkCount(packedInput, count);
      const result = out ?? new Float32Array(count * classes);
      if (result.length < count * classes) throw new InvalidInputError(`out has ${result.length} values, needs ${count * classes}`, { field: 'out' });
      runBatch(packedInput, count, result);
      return result;
    },
    classify(packedInput, count, out) {
      checkCount(packedInput, count);
      const result = out ?? new Int32Array(count);
      runBatch(packedInput, count, scratchScores);
      argmaxRows(scratchScores, count, classes, result, 0);
      return result;
    },
    profile(packedInput, count, profileOptions) {
      checkCount(packedInput, count);
      if (count < 1 || count > mainBatch)
        throw new InvalidInputError(`profile runs on the calling thread: it needs 1 to ${mainBatch} images, got ${count}`, { field: 'count' });
      runChunk(packedInput, 0, count);
      return profileRunner(runner, model, count, profileOptions);
    },
    evaluate(dataset, split = 'test', evalOptions = {}) {
      const ds = typeof dataset === 'string' ? readDataset(dataset) : dataset;
      checkDatasetMatchesModel(model, ds);
      const batchSize = evalOptions.batchSize ?? opts.maxBatch;
      if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > opts.maxBatch) {
        throw new InvalidInputError(`batchSize must be an integer from 1 to the engine's maxBatch (${opts.maxBatch}), got ${batchSize}`, {
          field: 'batchSize',
        });
      }
      packer ??= createPlanePacker(model.input.layout, pixels, ds.manifest.shape.channels);
      packed ??= new Uint32Array(opts.maxBatch * plan.inputWords);
      const data = ds.split(split);
      const count = Math.min(data.count, evalOptions.limit ?? data.count);
      const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
      const predicted = new Int32Array(batchSize);
      let correct = 0;
      const t0 = process.hrtime.bigint();
      for (let start = 0; start < count; start += batchSize) {
        const n = Math.min(batchSize, count - start);
        packer.pack(data.images, start, n, packed);
        runBatch(packed, n, scratchScores);
        argmaxRows(scratchScores, n, classes, predicted, 0);
        for (let i = 0; i < n; i++) {
          const label = data.labels[start + i];
          if (label === predicted[i]) correct++;
          if (label < classes) confusion[label][predicted[i]]++;
        }
      }
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      return {
        split,
        impl: opts.impl,
        count,
        correct,
        accuracy: count === 0 ? 0 : correct / count,
        confusion,
        seconds,
        imagesPerSecond: seconds > 0 ? count / seconds : 0,
      };
    },
    async close() {
      await pool?.close();
    },
  };
  return engine;
}

function argmaxRows(scores: Float32Array, n: number, classes: number, out: Int32Array, at: number): void {
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bestScore = scores[i * classes];
    for (let c = 1; c < classes; c++) {
      const s = scores[i * classes + c];
      if (s > bestScore) {
        bestScore = s;
        best = c;
      }
    }
    out[at + i] = best;
  }
}

/** The dataset must have the model's image size, channels (same names, same order) and classes. */
export function checkDatasetMatchesModel(model: EngineModel, dataset: Dataset): void {
  const file = path.join(dataset.dir, 'dataset.json');
  const { shape, channelNames, classNames } = dataset.manifest;
  const { height, width, layout } = model.input;
  if (shape.height !== height || shape.width !== width) {
    throw new InvalidInputError(`the model expects ${height}x${width} images, the dataset has ${shape.height}x${shape.width}`, { file, field: 'shape' });
  }
  if (channelNames.length !== layout.channels.length || channelNames.some((c, i) => c !== layout.channels[i])) {
    throw new InvalidInputError(`the model reads planes of channels [${layout.channels.join(', ')}], the dataset has channels [${channelNames.join(', ')}]`, {
      file,
      field: 'channelNames',
    });
  }
  if (classNames.length !== model.classNames.length) {
    throw new InvalidInputError(`the model scores ${model.classNames.length} classes, the dataset has ${classNames.length}`, { file, field: 'classNames' });
  }
}
