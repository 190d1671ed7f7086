import { z } from 'zod';
import { defineStageDescriptor } from '@cbnn/core';
import { DECISION_SPLITS, PLAN_POLICIES } from './plan-format';

// The light half of the pruning stages (`@cbnn/pruning/stage-descriptors`).

export const pruningPlanParams = z.object({
  /**
   * The split the sensitivity table must have been measured on. 'validation' keeps the test set
   * out of the decision; 'test' is the authors' variant, allowed only when asked for by name.
   */
  split: z.enum(DECISION_SPLITS).default('validation'),
  policy: z.enum(PLAN_POLICIES).default('lsb-first'),
  /** Which perturbation's numbers judge a drop. */
  mode: z.enum(['randomize', 'zero']).default('randomize'),
  /** Largest accuracy drop below the unperturbed baseline allowed, in percentage points. */
  budgetPoints: z.number().min(0).default(1),
  /** Re-measurements only (the table was measured with its own). */
  batchSize: z.number().int().positive().max(65536).default(256),
  impl: z.enum(['wasm', 'reference']).default('wasm'),
});

export const pruningPlanDescriptor = defineStageDescriptor({
  name: 'pruning.plan',
  version: 2,
  description: 'Choose the input planes to keep under an accuracy budget (lsb-first or greedy)',
  params: pruningPlanParams,
  inputs: {
    sensitivity: { kind: 'sensitivity' },
    model: { kind: 'model.bnn', optional: true, description: 'to re-measure sets the table lacks (greedy, RGB)' },
    dataset: { kind: 'dataset', optional: true, description: 'to re-measure sets the table lacks (greedy, RGB)' },
  },
  output: 'plan',
});

export const pruningSelectParams = z.object({
  /** Largest validation-accuracy drop below the baseline BNN allowed, in percentage points. */
  budgetPoints: z.number().min(0).default(1),
});

export const pruningSelectDescriptor = defineStageDescriptor({
  name: 'pruning.select',
  version: 2,
  description:
    'Pick the smallest retrained configuration (bytes of model.cbnn) within the validation-accuracy budget of the baseline BNN, over seeds, with the all-plane ablation',
  params: pruningSelectParams,
  inputs: {
    baseline: { kind: 'model.bnn', description: 'the BNN on all planes at the reference width: one model folder, or a matrix of seeds' },
    baselineSeeds: { kind: 'model.bnn', optional: true, description: 'more seeds of the baseline (a matrix), pooled with `baseline`' },
    candidates: { kind: 'model.bnn', description: 'a matrix of retrained candidates (planes x width x seeds): one model.bnn subfolder each' },
    controls: { kind: 'model.bnn', optional: true, description: "the ablation: all-plane models at the candidates' widths (a matrix, widths x seeds)" },
    fp: { kind: 'model.fp', optional: true, description: 'the full-precision counterpart, for the size comparison' },
  },
  output: 'search',
});
