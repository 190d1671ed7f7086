import { z } from 'zod';
import { defineStageDescriptor } from '@cbnn/core';
import { PLAN_POLICIES } from './plan-format';

// The light half of the pruning stages (`@cbnn/pruning/stage-descriptors`).

export const pruningPlanParams = z.object({
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
  version: 1,
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
  version: 1,
  description: 'Pick the smallest retrained candidate (bytes of model.cbnn) within the validation-accuracy budget of the baseline BNN',
  params: pruningSelectParams,
  inputs: {
    baseline: { kind: 'model.bnn', description: 'the BNN on all planes at full width' },
    candidates: { kind: 'model.bnn', description: 'a matrix of retrained candidates: one model.bnn subfolder each' },
    fp: { kind: 'model.fp', optional: true, description: 'the full-precision counterpart, for the size comparison' },
  },
  output: 'search',
});
