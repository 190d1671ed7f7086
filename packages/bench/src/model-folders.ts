import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { InvalidInputError, readJsonFile } from '@cbnn/core';
import { CHOSEN_DIR } from '@cbnn/pruning/search-format';
import { ENGINE_MODEL_FILE, MODEL_INFO_FILE, TFJS_DIR, TFJS_MODEL_FILE, modelInfoSchema as producerSchema } from '@cbnn/train/model-info';

/**
 * The model folders the benchmark reads (docs/contracts.md, "Model artifact folders"):
 * `model-info.json`, `model.cbnn` (bnn), `tfjs/` and `model.onnx` (fp, optional here: the
 * benchmark exports one when it is missing). A `search` folder (pruning.select) holds the chosen
 * compact model in `chosen/`.
 */
// The file names are the producers' (train's model folders, pruning's search folder).

/** train's schema, picked down to the fields the benchmark uses; the trainer may add others. */
const m = producerSchema.shape;
const modelInfoSchema = z.looseObject({
  kind: m.kind,
  width: m.width.optional(),
  backend: m.backend.optional(),
  metrics: m.metrics.pick({ testAccuracy: true }).partial().loose().optional(),
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
  const need = kind === 'bnn' ? ENGINE_MODEL_FILE : path.join(TFJS_DIR, TFJS_MODEL_FILE);
  if (!fs.existsSync(path.join(dir, need))) {
    throw new InvalidInputError(`the ${role} model folder has no ${need}`, { file: path.join(dir, need) }, `train.${kind} writes it; is the folder complete?`);
  }
  return { dir, info };
}

/** The compact model: a model.bnn folder, or a search folder whose `chosen/` is the model. */
export function resolveCompactFolder(dir: string): string {
  if (fs.existsSync(path.join(dir, MODEL_INFO_FILE))) return dir;
  const chosen = path.join(dir, CHOSEN_DIR);
  if (fs.existsSync(path.join(chosen, MODEL_INFO_FILE))) return chosen;
  throw new InvalidInputError(
    `the compact model folder holds neither ${MODEL_INFO_FILE} nor ${CHOSEN_DIR}/${MODEL_INFO_FILE}`,
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
