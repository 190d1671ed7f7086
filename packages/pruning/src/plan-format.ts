import { z } from 'zod';
import { planeSelectionSchema, writeJsonAtomicSync, readJsonFile } from '@cbnn/core';

/** `plan.json` (docs/contracts.md). Budgets and drops in percentage points. */
export const PLAN_FILE = 'plan.json';
export const PLAN_POLICIES = ['lsb-first', 'greedy'] as const;
export type PlanPolicy = (typeof PLAN_POLICIES)[number];
/** Splits a decision may be taken on: validation, or (the authors' variant, by name) test. */
export const DECISION_SPLITS = ['validation', 'test'] as const;
export type DecisionSplit = (typeof DECISION_SPLITS)[number];

export const planStepSchema = z.object({
  /** The plane this step tried to add to the dropped set, e.g. 'grey:b2'. */
  drop: z.string(),
  /** Accuracy with every accepted plane so far plus this one perturbed. */
  accuracy: z.number().min(0).max(1),
  dropPoints: z.number(),
  accepted: z.boolean(),
  /** 'table' when read from sensitivity.json, 'measured' when re-measured with the engine. */
  source: z.enum(['table', 'measured']).optional(),
});
export type PlanStep = z.infer<typeof planStepSchema>;

/** `droppedPlanes` may be empty (nothing could be dropped): an empty record, no empty lists. */
export const planSchema = z.object({
  format: z.literal('cbnn.plan'),
  version: z.literal(2),
  policy: z.enum(PLAN_POLICIES),
  /** The split the decision was taken on (the sensitivity table's), and how many of its records. */
  split: z.enum(DECISION_SPLITS),
  records: z.number().int().positive(),
  mode: z.enum(['randomize', 'zero']),
  budgetPoints: z.number().min(0),
  baselineAccuracy: z.number().min(0).max(1),
  keptPlanes: planeSelectionSchema,
  droppedPlanes: z.record(z.string(), z.array(z.number().int().min(0).max(7)).min(1)),
  steps: z.array(planStepSchema),
  /**
   * An addition to the contract: the kept-plane sets next to the plan's, for the search's
   * `dropExtra` (1 = `fewer`, -1 = `more`); train.bnn reads them so it needs no pruning logic.
   */
  alternatives: z
    .object({
      fewer: z.object({ planes: planeSelectionSchema, changedPlane: z.string() }).optional(),
      more: z.object({ planes: planeSelectionSchema, changedPlane: z.string() }).optional(),
    })
    .optional(),
});
export type Plan = z.infer<typeof planSchema>;

export function readPlan(file: string): Plan {
  return readJsonFile(file, planSchema, 'pruning plan', 'is this a pruning.plan output?');
}

export function writePlan(file: string, plan: Plan): void {
  writeJsonAtomicSync(file, planSchema.parse(plan));
}
