import * as fs from 'node:fs';
import * as path from 'node:path';
import { InvalidInputError, sha256FileSync } from '@cbnn/core';
import { ENGINE_MODEL_FILE, readEngineModel, type EngineModel } from '@cbnn/kernels';

/** Where pruning.select keeps the chosen compact model inside a search folder. */
const SEARCH_CHOSEN_DIR = 'chosen';

/**
 * The model.cbnn an export reads: the file itself, a train.bnn output folder, or a
 * pruning.select output folder (its chosen/ model).
 */
export function resolveModelFile(target: string): string {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(target);
  } catch {
    throw new InvalidInputError(
      'model not found',
      { file: target },
      `give a ${ENGINE_MODEL_FILE} file, a train.bnn output folder or a pruning.select output folder`,
    );
  }
  if (stat.isFile()) return target;
  for (const candidate of [path.join(target, ENGINE_MODEL_FILE), path.join(target, SEARCH_CHOSEN_DIR, ENGINE_MODEL_FILE)]) {
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new InvalidInputError(
    `the folder holds neither ${ENGINE_MODEL_FILE} nor ${SEARCH_CHOSEN_DIR}/${ENGINE_MODEL_FILE}`,
    { file: target },
    'give a train.bnn output (binary model) or a pruning.select output',
  );
}

export interface LoadedModel {
  file: string;
  model: EngineModel;
  ref: { file: string; bytes: number; sha256: string };
}

export function loadModel(target: string): LoadedModel {
  const file = resolveModelFile(target);
  const model = readEngineModel(file);
  return { file, model, ref: { file: path.basename(file), bytes: fs.statSync(file).size, sha256: sha256FileSync(file) } };
}
