import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { InvalidInputError, readJsonFile } from '@cbnn/core';

/**
 * The model folders the benchmark reads (docs/contracts.md, "Model artifact folders"):
 * `model-info.json`, `model.cbnn` (bnn), `tfjs/` and `model.onnx` (fp, optional here: the
 * benchmark exports one when it is missing). A `search` folder (pruning.select) holds the chosen
 * compact model in `chosen/`.
 */
export const MODEL_INFO_FILE = 'model-info.json';
export const ENGINE_MODEL_FILE_NAME = 'model.cbnn';
export const TFJS_DIR = 'tfjs';
export const ONNX_FILE_NAME = 'model.onnx';
export const SEARCH_CHOSEN_DIR = 'chosen';

/** Only the fields the benchmark uses; the trainer may add others. */
const modelInfoSchema = z.looseObject({
  kind: z.enum(['bnn', 'fp']),
  width: z.number().positive().optional(),
  backend: z.string().optional(),
  metrics: z.looseObject({ testAccuracy: z.number().min(0).max(1).optional() }).optional(),
  /** Written by @cbnn/bench's untrained stand-ins. */
  standIn: z.boolean().optional(),
});
export type BenchModelInfo = z.infer<typeof modelInfoSchema>;

export interface ModelFolder {
  dir: string;
  info: BenchModelInfo;
}

export function readModelFolder(dir: string, kind: 'bnn' | 'fp', role: string): ModelFolder {
  const file = path.join(dir, MODEL_INFO_FILE);
  const info = readJsonFile(file, modelInfoSchema, `${role} model summary`, `is '${dir}' a train.${kind} output?`);
  if (info.kind !== kind) throw new InvalidInputError(`the ${role} model must be a '${kind}' model, found kind '${info.kind}'`, { file, field: 'kind' });
  const need = kind === 'bnn' ? ENGINE_MODEL_FILE_NAME : path.join(TFJS_DIR, 'model.json');
  if (!fs.existsSync(path.join(dir, need))) {
    throw new InvalidInputError(`the ${role} model folder has no ${need}`, { file: path.join(dir, need) }, `train.${kind} writes it; is the folder complete?`);
  }
  return { dir, info };
}

/** The compact model: a model.bnn folder, or a search folder whose `chosen/` is the model. */
export function resolveCompactFolder(dir: string): string {
  if (fs.existsSync(path.join(dir, MODEL_INFO_FILE))) return dir;
  const chosen = path.join(dir, SEARCH_CHOSEN_DIR);
  if (fs.existsSync(path.join(chosen, MODEL_INFO_FILE))) return chosen;
  throw new InvalidInputError(
    `the compact model folder holds neither ${MODEL_INFO_FILE} nor ${SEARCH_CHOSEN_DIR}/${MODEL_INFO_FILE}`,
    { file: dir },
    'give bench.runtime a train.bnn output or a pruning.select output',
  );
}

/** Total bytes of the regular files directly in `dir` (a tfjs model: model.json + weights). */
export function folderBytes(dir: string): number {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile())
    .reduce((n, e) => n + fs.statSync(path.join(dir, e.name)).size, 0);
}
