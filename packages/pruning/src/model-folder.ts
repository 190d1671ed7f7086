import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { InvalidInputError, planeSelectionSchema, type PlaneSelection, readJsonFile } from '@cbnn/core';
import { readEngineModel, summary } from '@cbnn/kernels';

/**
 * What pruning.select reads from a `model.bnn` / `model.fp` folder (docs/contracts.md, "Model
 * artifact folders"): `model-info.json` for the metrics and parameter counts, and the real size
 * of `model.cbnn` on disk. The schema checks only the fields used here and lets the rest pass,
 * so the trainer can add fields without breaking selection.
 */
export const MODEL_INFO_FILE = 'model-info.json';
export const ENGINE_MODEL_FILE_NAME = 'model.cbnn';
export const ONNX_FILE_NAME = 'model.onnx';

const accuracy = z.number().min(0).max(1);

export const modelInfoSchema = z.looseObject({
  kind: z.enum(['bnn', 'fp']),
  width: z.number().positive(),
  planes: z.looseObject({ selection: planeSelectionSchema }),
  params: z.looseObject({ binary: z.number().int().min(0), float: z.number().int().min(0) }),
  bytes: z.looseObject({ float32: z.number().min(0).optional() }).optional(),
  seed: z.number().int().optional(),
  inputShape: z.array(z.number().int().positive()).optional(),
  metrics: z.looseObject({
    validationAccuracy: accuracy,
    testAccuracy: accuracy,
    bestEpoch: z.number().int().optional(),
    epochs: z.number().int().optional(),
    stoppedEarly: z.boolean().optional(),
    validationRecords: z.number().int().positive().optional(),
    testRecords: z.number().int().positive().optional(),
  }),
  training: z.record(z.string(), z.unknown()).optional(),
});
export type ModelInfo = z.infer<typeof modelInfoSchema>;

export interface ModelFolderSummary {
  dir: string;
  info: ModelInfo;
  planes: PlaneSelection;
  planeCount: number;
  width: number;
  binaryParams: number;
  floatParams: number;
  /** Bytes of model.cbnn on disk (bnn) — real, header included. */
  packedBytes?: number;
  /** Every parameter as a float32. */
  float32Bytes: number;
  /** Bytes of model.onnx on disk, when present (fp). */
  onnxBytes?: number;
  validationAccuracy: number;
  testAccuracy: number;
  /** The training seed (model-info `seed`). */
  seed?: number;
  /** MACs of the first layer on one image (binary or float), from model.cbnn. */
  firstLayerMacs?: number;
  /** Input bits the network reads per image: height x width x planes (bnn). */
  inputBitsPerImage?: number;
}

export function readModelInfo(dir: string): ModelInfo {
  return readJsonFile(path.join(dir, MODEL_INFO_FILE), modelInfoSchema, 'model summary', 'is this folder a train.bnn / train.fp output?');
}

export function readModelFolder(dir: string, expectedKind: 'bnn' | 'fp'): ModelFolderSummary {
  const info = readModelInfo(dir);
  if (info.kind !== expectedKind) {
    throw new InvalidInputError(`expected a '${expectedKind}' model, found kind '${info.kind}'`, { file: path.join(dir, MODEL_INFO_FILE), field: 'kind' });
  }
  let packedBytes: number | undefined;
  let firstLayerMacs: number | undefined;
  let inputBitsPerImage: number | undefined;
  if (expectedKind === 'bnn') {
    const file = path.join(dir, ENGINE_MODEL_FILE_NAME);
    if (!fs.existsSync(file)) throw new InvalidInputError('the binary model has no engine model file', { file }, 'train.bnn exports model.cbnn; was the export skipped?');
    packedBytes = fs.statSync(file).size;
    const engineModel = readEngineModel(file);
    const first = summary(engineModel).layers[0];
    firstLayerMacs = first.binaryMacs + first.floatMacs;
    inputBitsPerImage = engineModel.input.height * engineModel.input.width * engineModel.input.layout.planes.length;
  }
  const onnx = path.join(dir, ONNX_FILE_NAME);
  const binaryParams = info.params.binary;
  const floatParams = info.params.float;
  return {
    dir,
    info,
    planes: info.planes.selection,
    planeCount: Object.values(info.planes.selection).reduce((n, bits) => n + bits.length, 0),
    width: info.width,
    binaryParams,
    floatParams,
    packedBytes,
    float32Bytes: info.bytes?.float32 ?? (binaryParams + floatParams) * 4,
    onnxBytes: fs.existsSync(onnx) ? fs.statSync(onnx).size : undefined,
    validationAccuracy: info.metrics.validationAccuracy,
    testAccuracy: info.metrics.testAccuracy,
    seed: info.seed,
    firstLayerMacs,
    inputBitsPerImage,
  };
}
