import { z } from 'zod';
import { defineStageDescriptor, planeSelectionSchema } from '@cbnn/core';
import { archSchema, firstLayerSchema } from './architecture';
import { BACKEND_ORDER, GRADIENT_KERNELS, type BackendName, type GradientKernels } from './backend-names';
import { scheduleSchema } from './schedule';
import { earlyStopSchema } from './early-stop';

// The light half of the train stages (`@cbnn/train/stage-descriptors`): what `status`, `dag` and
// the pipeline loader need, without TensorFlow.js. train-stages.ts adds `run`.

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

export const trainBnnDescriptor = defineStageDescriptor({
  name: 'train.bnn',
  // 4: model.cbnn format v2 (dense weight bit streams: fewer planes, smaller file)
  // 5: fixed gradient shards (thread-count invariance), conv kernels on onnxruntime
  version: 5,
  description: 'Train a binary network (VGG-small or MLP) on bit planes; export the engine model and the TensorFlow.js model',
  params: trainBnnParamsSchema,
  inputs: {
    dataset: { kind: 'dataset' },
    plan: { kind: 'plan', optional: true, description: 'planes to keep (plan.json keptPlanes or an alternative)' },
    reference: { kind: 'model.bnn', optional: true, description: 'the baseline, for the earlyStop rule (its epochs.jsonl validation curve)' },
  },
  output: 'model.bnn',
});

export const trainFpDescriptor = defineStageDescriptor({
  name: 'train.fp',
  version: 5,
  description: 'Train the full-precision counterpart (float weights, ReLU, 8-bit pixels scaled to [-1, 1])',
  params: trainFpParamsSchema,
  inputs: { dataset: { kind: 'dataset' } },
  output: 'model.fp',
});

export const trainStageDescriptors = [trainBnnDescriptor, trainFpDescriptor];
