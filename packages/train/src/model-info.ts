import { z } from 'zod';
import { planeSelectionSchema } from '@cbnn/core';
import { archSchema, firstLayerSchema } from './architecture';

/**
 * The contract of `model.bnn` / `model.fp` folders (docs/contracts.md "Model artifact folders"),
 * owned here, by their producer, and exported from the light subpath `@cbnn/train/model-info`
 * (zod and core only): readers (pruning, bench, report) take the file names and the schema from
 * here, `.pick()`ing the fields they use and `.loose()` where they tolerate more.
 */
export const MODEL_INFO_FILE = 'model-info.json';
export const EPOCHS_FILE = 'epochs.jsonl';
export const TFJS_DIR = 'tfjs';
export const TFJS_MODEL_FILE = 'model.json';
export const ONNX_FILE = 'model.onnx';
/** The engine model, whose format @cbnn/kernels owns. */
export { ENGINE_MODEL_FILE } from '@cbnn/kernels/model-format';

const fraction = z.number().min(0).max(1);

export const modelInfoSchema = z.object({
  kind: z.enum(['bnn', 'fp']),
  arch: archSchema,
  width: z.number().positive(),
  planes: z.object({
    selection: planeSelectionSchema,
    layout: z.object({
      channels: z.array(z.string()),
      planes: z.array(z.object({ channel: z.string(), channelIndex: z.number().int().min(0), bit: z.number().int().min(0).max(7) })),
    }),
  }),
  firstLayer: firstLayerSchema,
  classNames: z.array(z.string()),
  inputShape: z.tuple([z.number().int().positive(), z.number().int().positive(), z.number().int().positive()]),
  backend: z.string(),
  seed: z.number().int(),
  params: z.object({ binary: z.number().int().min(0), float: z.number().int().min(0) }),
  bytes: z.object({ packed: z.number().int().min(0), float32: z.number().int().min(0) }),
  metrics: z.object({
    validationAccuracy: fraction,
    testAccuracy: fraction,
    /** How many images the accuracies were measured on. */
    validationRecords: z.number().int().min(0),
    testRecords: z.number().int().min(0),
    bestEpoch: z.number().int().min(1),
    epochs: z.number().int().min(1),
    /** Written by older versions only: wall-clock figures are not part of an artifact (the run record and log hold them). */
    samplesPerSecond: z.number().min(0).optional(),
    stoppedEarly: z.boolean(),
    stopReason: z.string().optional(),
  }),
  training: z.record(z.string(), z.unknown()),
});
export type ModelInfo = z.infer<typeof modelInfoSchema>;
