import * as path from 'node:path';
import { InvalidInputError, readDataset, wordsForChannels, type Dataset, type SplitName } from '@cbnn/core';
import { z } from 'zod';
import { buildPlan, type EnginePlan } from './engine-plan';
import { createReferenceRunner, createWasmRunner, type PlanRunner } from './engine-runners';
import { profileRunner, type EngineProfile, type ProfileOptions } from './engine-profile';
import type { KernelImpl } from './kernel-set';
import type { EngineModel } from './model-format';
import { createPlanePacker, type PlanePacker } from './plane-packer';

export const engineOptionsSchema = z.object({
  impl: z.enum(['wasm', 'reference']).default('wasm'),
  /** Largest batch run at once; memory for it is allocated up front. */
  maxBatch: z.number().int().positive().max(65536).default(128),
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
  readonly plan: EnginePlan;
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
}

export function createEngine(model: EngineModel, options: EngineOptions = {}): Engine {
  const opts = engineOptionsSchema.parse(options);
  const plan = buildPlan(model);
  const runner: PlanRunner = opts.impl === 'wasm' ? createWasmRunner(plan, opts.maxBatch) : createReferenceRunner(plan, opts.maxBatch);
  const classes = plan.classes;
  const features = model.input.features;
  const pixels = model.input.height * model.input.width;
  const wordsF = wordsForChannels(features);
  // Core's packing says padding bits are 0; mask them anyway so a sloppy caller cannot change
  // results. Conv kernels read only the first `inC` bits of a pixel, so they need no mask.
  const firstOp = plan.steps[0]?.op;
  const maskInput = features % 32 !== 0 && firstOp !== 'conv' && firstOp !== 'conv_real';
  const lastWordMask = (1 << features % 32) - 1;
  let packer: PlanePacker | undefined;

  function runChunk(packed: Uint32Array, start: number, n: number): Float32Array {
    const input = runner.input;
    const base = start * plan.inputWords;
    const len = n * plan.inputWords;
    input.set(packed.subarray(base, base + len));
    if (maskInput) for (let i = wordsF - 1; i < len; i += wordsF) input[i] &= lastWordMask;
    return runner.run(n);
  }

  function checkCount(packed: Uint32Array, count: number): void {
    if (!Number.isInteger(count) || count < 0) throw new InvalidInputError(`count must be a non-negative integer, got ${count}`, { field: 'count' });
    if (packed.length < count * plan.inputWords) {
      throw new InvalidInputError(
        `packed input has ${packed.length} words, fewer than ${count} images x ${plan.inputWords} words (${model.input.height}x${model.input.width}x${features} planes)`,
        { field: 'packedInput' },
      );
    }
  }

  const engine: Engine = {
    model,
    impl: opts.impl,
    maxBatch: opts.maxBatch,
    plan,
    inputWords: plan.inputWords,
    predict(packedInput, count, out) {
      checkCount(packedInput, count);
      const result = out ?? new Float32Array(count * classes);
      if (result.length < count * classes) throw new InvalidInputError(`out has ${result.length} values, needs ${count * classes}`, { field: 'out' });
      for (let start = 0; start < count; start += opts.maxBatch) {
        const n = Math.min(opts.maxBatch, count - start);
        const scores = runChunk(packedInput, start, n);
        result.set(scores.subarray(0, n * classes), start * classes);
      }
      return result;
    },
    classify(packedInput, count, out) {
      checkCount(packedInput, count);
      const result = out ?? new Int32Array(count);
      for (let start = 0; start < count; start += opts.maxBatch) {
        const n = Math.min(opts.maxBatch, count - start);
        argmaxRows(runChunk(packedInput, start, n), n, classes, result, start);
      }
      return result;
    },
    profile(packedInput, count, profileOptions) {
      checkCount(packedInput, count);
      if (count < 1 || count > opts.maxBatch) throw new InvalidInputError(`profile needs 1 to maxBatch (${opts.maxBatch}) images, got ${count}`, { field: 'count' });
      runChunk(packedInput, 0, count);
      return profileRunner(runner, model, count, profileOptions);
    },
    evaluate(dataset, split = 'test', evalOptions = {}) {
      const ds = typeof dataset === 'string' ? readDataset(dataset) : dataset;
      checkDatasetMatchesModel(model, ds);
      const batchSize = Math.min(evalOptions.batchSize ?? opts.maxBatch, opts.maxBatch);
      if (!Number.isInteger(batchSize) || batchSize < 1) throw new InvalidInputError(`batchSize must be a positive integer, got ${batchSize}`, { field: 'batchSize' });
      packer ??= createPlanePacker(model.input.layout, pixels, ds.manifest.shape.channels);
      const data = ds.split(split);
      const count = Math.min(data.count, evalOptions.limit ?? data.count);
      const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
      const predicted = new Int32Array(batchSize);
      let correct = 0;
      const t0 = process.hrtime.bigint();
      for (let start = 0; start < count; start += batchSize) {
        const n = Math.min(batchSize, count - start);
        packer.pack(data.images, start, n, runner.input);
        argmaxRows(runner.run(n), n, classes, predicted, 0);
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
    throw new InvalidInputError(
      `the model reads planes of channels [${layout.channels.join(', ')}], the dataset has channels [${channelNames.join(', ')}]`,
      { file, field: 'channelNames' },
    );
  }
  if (classNames.length !== model.classNames.length) {
    throw new InvalidInputError(`the model scores ${model.classNames.length} classes, the dataset has ${classNames.length}`, { file, field: 'classNames' });
  }
}
