import * as path from 'node:path';
import { InvalidInputError, readDataset, type SplitName } from '@cbnn/core';
import { ENGINE_MODEL_FILE, checkDatasetMatchesModel, createEngine, readEngineModel, type Engine } from '@cbnn/kernels';
import type { ClassifierInput, PackedClassifier } from './classifier';
import type { EvaluationSet } from './analysis';

export interface ModelEvaluationOptions {
  split: SplitName;
  /** Evaluate only the first `limit` records of the split. */
  limit?: number;
  impl?: 'wasm' | 'reference';
  batchSize?: number;
}

export interface ModelEvaluation {
  engine: Engine;
  classify: PackedClassifier;
  input: ClassifierInput;
  data: EvaluationSet;
}

/**
 * A `model.bnn` folder's engine model on the packed kernels engine, with the dataset split it is
 * evaluated on: everything sensitivity analysis and pruning.plan's re-measurements need.
 */
export function loadModelEvaluation(modelDir: string, datasetDir: string, options: ModelEvaluationOptions): ModelEvaluation {
  const model = readEngineModel(path.join(modelDir, ENGINE_MODEL_FILE));
  const dataset = readDataset(datasetDir);
  checkDatasetMatchesModel(model, dataset);
  const split = dataset.split(options.split);
  const count = Math.min(split.count, options.limit ?? split.count);
  if (count === 0) {
    throw new InvalidInputError(`the dataset's ${options.split} split is empty`, {
      file: path.join(datasetDir, 'dataset.json'),
      field: `splits.${options.split}`,
    });
  }
  const engine = createEngine(model, { impl: options.impl ?? 'wasm', maxBatch: options.batchSize ?? 256 });
  return {
    engine,
    classify: (packed, n) => engine.classify(packed, n),
    input: { height: model.input.height, width: model.input.width, channelNames: dataset.manifest.channelNames, layout: model.input.layout },
    data: { split: options.split, images: split.images.subarray(0, count * dataset.imageSize), labels: split.labels.subarray(0, count) },
  };
}
