import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { planeBatches, scaledPixelBatches } from '@cbnn/bitslice';
import {
  InvalidInputError,
  allPlanes,
  defineStage,
  planeSelectionSchema,
  readDataset,
  resolvePlanes,
  selectionOfLayout,
  writeFileAtomicSync,
  writeJsonAtomicSync,
  type StageContext,
} from '@cbnn/core';
import { ENGINE_MODEL_FILE, writeEngineModel } from '@cbnn/kernels';
import { archSchema, firstLayerSchema, type ModelSpec } from './architecture';
import { BACKEND_ORDER, GRADIENT_KERNELS, selectBackend, useGradientKernels, type BackendName, type GradientKernels } from './backend';
import { buildBinaryModel, buildFullPrecisionModel } from './builders';
import { defaultGradientShards } from './data-parallel';
import { exportEngineModel } from './engine-export';
import { EPOCHS_FILE, MODEL_INFO_FILE, ONNX_FILE, TFJS_DIR, type ModelInfo } from './model-info';
import { exportOnnxModel } from './onnx-export';
import { formatSummary, summarizeModel } from './model-summary';
import { budgetStopRule, earlyStopSchema, readReferenceCurve } from './early-stop';
import { readPlanPlanes } from './plan-file';
import { scheduleSchema } from './schedule';
import { saveTfjsModel } from './tfjs-files';
import { predictSplit, trainModel, type BatchSource } from './trainer';

const commonParams = {
  arch: archSchema.default('vgg-small'),
  /** Width multiplier of every hidden layer. */
  width: z.number().positive().max(8).default(1),
  /** MLP hidden sizes before the width multiplier. */
  hidden: z.array(z.number().int().positive()).min(1).optional(),
  epochs: z.number().int().positive().default(20),
  batchSize: z.number().int().positive().max(4096).default(128),
  learningRate: z.number().positive().optional(),
  schedule: scheduleSchema.default('cosine'),
  /** Stop after this many epochs without a validation improvement (0: never). */
  patience: z.number().int().min(0).default(5),
  /** Training samples on which batch norm statistics are re-estimated before each validation (0: off). */
  recalibrationSamples: z.number().int().min(0).default(2048),
  /** Train on the first `limit` training records only (smoke runs). */
  limit: z.number().int().positive().optional(),
  /**
   * Gradient shards per batch, computed separately (own batch norm statistics) and averaged in a
   * fixed order. The model depends on this, never on the thread count: up to this many threads
   * are used at once. Default: 2, or 1 for batches under 128 (data-parallel.ts).
   */
  gradientShards: z.number().int().min(1).max(64).optional(),
  /**
   * Where the conv gradients run on the wasm backend: onnxruntime's CPU kernels (faster; fails
   * when onnxruntime-node cannot load) or tfjs-wasm's own (the reference).
   */
  gradientKernels: z.enum(GRADIENT_KERNELS as [GradientKernels, ...GradientKernels[]]).default('onnxruntime'),
  /**
   * Training seed (initial weights, shuffling). Default: derived from the stage's cache key. A
   * pipeline's seed axis sets it (`matrix: { seed: [1, 2, 3] }`), so the seeds of one
   * configuration are named and the selection can pool them.
   */
  seed: z.number().int().min(0).max(0xffffffff).optional(),
  /** First backend to try (then the fallbacks): tfjs-node ('tensorflow'), 'wasm', 'cpu'. */
  backend: z.enum(BACKEND_ORDER as [BackendName, ...BackendName[]]).default('tensorflow'),
};

export const trainBnnParamsSchema = z
  .object({
    ...commonParams,
    /** Planes to train on; default all 8 of every channel. Not together with a plan input. */
    planes: planeSelectionSchema.optional(),
    /** With a plan input: 0 its keptPlanes, 1 one plane fewer, -1 one more (alternatives). */
    dropExtra: z.union([z.literal(-1), z.literal(0), z.literal(1)]).default(0),
    firstLayer: firstLayerSchema.default('binary'),
    /** With a `reference` input: stop a candidate that cannot reach the budget (early-stop.ts). */
    earlyStop: earlyStopSchema.optional(),
  })
  .strict();
export type TrainBnnParams = z.output<typeof trainBnnParamsSchema>;

export const trainFpParamsSchema = z.object(commonParams).strict();
export type TrainFpParams = z.output<typeof trainFpParamsSchema>;

const DEFAULT_LR = { bnn: 0.005, fp: 0.001 };

async function runTraining(ctx: StageContext<TrainBnnParams | TrainFpParams>, kind: 'bnn' | 'fp'): Promise<{ metrics: Record<string, number | string | boolean> }> {
  const params = ctx.params;
  const bnnParams = kind === 'bnn' ? (params as TrainBnnParams) : undefined;
  const seed = params.seed ?? ctx.seed;
  const gradientShards = params.gradientShards ?? defaultGradientShards(params.batchSize);
  const backend = await selectBackend({ prefer: params.backend, logger: ctx.logger });
  const kernels = useGradientKernels(params.gradientKernels);
  if (kernels) ctx.logger.info(`training kernels: ${kernels.slice(2)}`);
  const dataset = readDataset(ctx.inputs.dataset);
  const { height, width, channels } = dataset.manifest.shape;
  const channelNames = dataset.manifest.channelNames;
  const classNames = dataset.manifest.classNames;

  let selection = allPlanes(channelNames);
  let planesSource = 'all planes';
  if (bnnParams?.planes && ctx.inputs.plan) {
    throw new InvalidInputError('give train.bnn either a plan input or a planes param, not both', { field: 'planes' });
  }
  if (bnnParams?.planes) {
    selection = bnnParams.planes;
    planesSource = 'params.planes';
  } else if (ctx.inputs.plan && bnnParams) {
    const fromPlan = readPlanPlanes(ctx.inputs.plan, bnnParams.dropExtra);
    selection = fromPlan.planes;
    planesSource = `plan ${fromPlan.source}`;
  }
  const layout = resolvePlanes(selection, channelNames);
  const inputShape: [number, number, number] = kind === 'bnn' ? [height, width, layout.planes.length] : [height, width, channels];
  const firstLayer = bnnParams?.firstLayer ?? 'real';
  if (kind === 'bnn' && params.arch === 'mlp' && firstLayer === 'real') {
    throw new InvalidInputError("the engine has no real-valued dense layer: an 'mlp' needs firstLayer 'binary'", { field: 'firstLayer' });
  }
  const spec: ModelSpec = { arch: params.arch, width: params.width, inputShape, classes: classNames.length, firstLayer, hidden: params.hidden, seed };
  const model = kind === 'bnn' ? buildBinaryModel(spec) : buildFullPrecisionModel(spec);
  const summary = summarizeModel(model);
  ctx.logger.info({ planes: selectionOfLayout(layout), planesSource, params: summary.params }, `${kind} model ${params.arch} w=${params.width}\n${formatSummary(summary)}`);

  const batches: BatchSource =
    kind === 'bnn' ? (r) => planeBatches(dataset, { ...r, layout }) : (r) => scaledPixelBatches(dataset, r);
  const learningRate = params.learningRate ?? DEFAULT_LR[kind];
  if (bnnParams?.earlyStop && !ctx.inputs.reference) {
    throw new InvalidInputError("earlyStop needs a 'reference' input: the baseline whose validation curve bounds the candidate", { field: 'earlyStop' }, 'add `reference: baseline` to the stage\'s needs');
  }
  const stopRule = bnnParams?.earlyStop && ctx.inputs.reference ? budgetStopRule(readReferenceCurve(ctx.inputs.reference, EPOCHS_FILE), bnnParams.earlyStop) : undefined;
  try {
    const result = await trainModel({
      model,
      inputShape,
      classes: classNames.length,
      batches,
      epochs: params.epochs,
      batchSize: params.batchSize,
      learningRate,
      schedule: params.schedule,
      patience: params.patience,
      limit: params.limit,
      seed,
      trainCount: dataset.manifest.splits.train.count,
      clipLatent: kind === 'bnn',
      recalibrationSamples: params.recalibrationSamples,
      epochsFile: path.join(ctx.outDir, EPOCHS_FILE),
      logger: ctx.logger,
      progress: ctx.progress,
      signal: ctx.signal,
      threads: ctx.threads,
      shards: gradientShards,
      checkpointDir: ctx.checkpointDir,
      gradientKernels: params.gradientKernels,
      replica: { kind, spec },
      stopRule,
    });
    const test = predictSplit(model, batches, inputShape, 'test');
    ctx.logger.info(`best epoch ${result.bestEpoch}: validation ${result.validationAccuracy.toFixed(4)}, test ${test.accuracy.toFixed(4)} (${backend.name})`);

    await saveTfjsModel(model, path.join(ctx.outDir, TFJS_DIR));
    if (kind === 'fp') {
      // The full-precision counterpart also as ONNX: onnxruntime is the strongest float baseline the benchmark runs.
      writeFileAtomicSync(path.join(ctx.outDir, ONNX_FILE), exportOnnxModel(model));
    }
    if (kind === 'bnn') {
      const engine = exportEngineModel(model, { height, width, layout }, classNames, { producer: '@cbnn/train', arch: params.arch, width: params.width, firstLayer });
      writeEngineModel(path.join(ctx.outDir, ENGINE_MODEL_FILE), engine);
    }
    const info: ModelInfo = {
      kind,
      arch: params.arch,
      width: params.width,
      planes: { selection: selectionOfLayout(layout), layout },
      firstLayer,
      classNames,
      inputShape,
      // No thread count here: the file is the same on any number of threads (shards fix the numbers).
      backend: `${backend.description}${kernels}, ${result.shards} gradient shard${result.shards === 1 ? '' : 's'} per batch`,
      seed,
      params: summary.params,
      bytes: summary.bytes,
      metrics: {
        validationAccuracy: result.validationAccuracy,
        testAccuracy: test.accuracy,
        validationRecords: dataset.manifest.splits.validation.count,
        testRecords: test.labels.length,
        bestEpoch: result.bestEpoch,
        epochs: result.epochs.length,
        samplesPerSecond: result.samplesPerSecond,
        stoppedEarly: result.stoppedEarly,
        ...(result.stopReason ? { stopReason: result.stopReason } : {}),
      },
      training: { epochs: params.epochs, batchSize: params.batchSize, learningRate, schedule: params.schedule, patience: params.patience, recalibrationSamples: params.recalibrationSamples, gradientShards: gradientShards, gradientKernels: params.gradientKernels, limit: params.limit ?? null, planesSource, hidden: params.hidden ?? null },
    };
    writeJsonAtomicSync(path.join(ctx.outDir, MODEL_INFO_FILE), info);
    if (!fs.existsSync(path.join(ctx.outDir, EPOCHS_FILE))) throw new Error('epochs.jsonl was not written');
    return {
      metrics: {
        validationAccuracy: result.validationAccuracy,
        testAccuracy: test.accuracy,
        bestEpoch: result.bestEpoch,
        backend: backend.name,
        threads: result.threads,
        ...(result.resumedAtEpoch ? { resumedAtEpoch: result.resumedAtEpoch } : {}),
        samplesPerSecond: Math.round(result.samplesPerSecond),
        binaryParams: summary.params.binary,
        floatParams: summary.params.float,
      },
    };
  } finally {
    model.dispose();
  }
}

export const trainBnnStage = defineStage({
  name: 'train.bnn',
  // 4: model.cbnn format v2 (dense weight bit streams: fewer planes, smaller file)
  // 5: fixed gradient shards (thread-count invariance), conv kernels on onnxruntime
  version: 5,
  description: 'Train a binary network (VGG-small or MLP) on bit planes; export the engine model and the TensorFlow.js model',
  params: trainBnnParamsSchema,
  inputs: {
    dataset: { kind: 'dataset' },
    plan: { kind: 'plan', optional: true, description: 'planes to keep (plan.json keptPlanes or an alternative)' },
    reference: { kind: 'model.bnn', optional: true, description: "the baseline, for the earlyStop rule (its epochs.jsonl validation curve)" },
  },
  output: 'model.bnn',
  run: (ctx) => runTraining(ctx, 'bnn'),
});

export const trainFpStage = defineStage({
  name: 'train.fp',
  version: 5,
  description: 'Train the full-precision counterpart (float weights, ReLU, 8-bit pixels scaled to [-1, 1])',
  params: trainFpParamsSchema,
  inputs: { dataset: { kind: 'dataset' } },
  output: 'model.fp',
  run: (ctx) => runTraining(ctx, 'fp'),
});
