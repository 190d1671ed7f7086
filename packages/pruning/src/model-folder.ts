import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { InvalidInputError, type PlaneSelection, readJsonFile } from '@cbnn/core';
import { readEngineModel, summary } from '@cbnn/kernels';
import { ENGINE_MODEL_FILE, MODEL_INFO_FILE, ONNX_FILE, modelInfoSchema as producerSchema } from '@cbnn/train/model-info';

export { MODEL_INFO_FILE } from '@cbnn/train/model-info';

/**
 * What pruning.select reads from a `model.bnn` / `model.fp` folder (docs/contracts.md, "Model
 * artifact folders"): `model-info.json` for the metrics and parameter counts, and the real size
 * of `model.cbnn` on disk. The schema is train's (the producer's), picked down to the fields used
 * here, the rest passing, so the trainer can add fields without breaking selection.
 */
const m = producerSchema.shape;
export const modelInfoSchema = z.looseObject({
  kind: m.kind,
  width: m.width,
  planes: m.planes.pick({ selection: true }).loose(),
  params: m.params.loose(),
  bytes: m.bytes.pick({ float32: true }).partial().loose().optional(),
  seed: m.seed.optional(),
  inputShape: m.inputShape.optional(),
  metrics: m.metrics
    .pick({ validationAccuracy: true, testAccuracy: true, bestEpoch: true, epochs: true, stoppedEarly: true, validationRecords: true, testRecords: true })
    .partial({ bestEpoch: true, epochs: true, stoppedEarly: true, validationRecords: true, testRecords: true })
    .loose(),
  training: m.training.optional(),
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
    const file = path.join(dir, ENGINE_MODEL_FILE);
    if (!fs.existsSync(file))
      throw new InvalidInputError('the binary model has no engine model file', { file }, 'train.bnn exports model.cbnn; was the export skipped?');
    packedBytes = fs.statSync(file).size;
    const engineModel = readEngineModel(file);
    const first = summary(engineModel).layers[0];
    firstLayerMacs = first.binaryMacs + first.floatMacs;
    inputBitsPerImage = engineModel.input.height * engineModel.input.width * engineModel.input.layout.planes.length;
  }
  const onnx = path.join(dir, ONNX_FILE);
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
