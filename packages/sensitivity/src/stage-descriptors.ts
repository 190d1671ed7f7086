import { z } from 'zod';
import { SPLIT_NAMES, defineStageDescriptor } from '@cbnn/core';
import { PERTURBATION_MODES } from './perturbation';

// The light half of the sensitivity stage (`@cbnn/sensitivity/stage-descriptors`).

export const sensitivityPlanesParams = z.object({
  /**
   * The split perturbed. 'validation' (the default) keeps the test set out of every decision;
   * 'test' is the authors' variant (their code measures sensitivity on the test set), kept for
   * comparison: the plan stage refuses such a table unless told `split: test`, and the report
   * labels it.
   */
  split: z.enum(SPLIT_NAMES).default('validation'),
  modes: z.array(z.enum(PERTURBATION_MODES)).min(1).default(['randomize', 'zero']),
  /** Randomize repeats (mean and standard deviation are reported). */
  repeats: z.number().int().min(1).max(100).default(5),
  /** Evaluate only the first `limit` records of the split (quick runs). */
  limit: z.number().int().positive().optional(),
  batchSize: z.number().int().positive().max(65536).default(256),
  impl: z.enum(['wasm', 'reference']).default('wasm'),
});
export type SensitivityPlanesParams = z.output<typeof sensitivityPlanesParams>;

export const sensitivityPlanesDescriptor = defineStageDescriptor({
  name: 'sensitivity.planes',
  version: 2,
  description: 'Accuracy of a trained BNN with input bit planes perturbed (each alone and cumulatively from the LSB), on the packed engine',
  params: sensitivityPlanesParams,
  inputs: {
    dataset: { kind: 'dataset' },
    model: { kind: 'model.bnn' },
  },
  output: 'sensitivity',
});
