import * as path from 'node:path';
import { z } from 'zod';
import { planeSelectionSchema, type PlaneSelection, readJsonFile } from '@cbnn/core';

/** The part of `plan.json` (`pruning.plan`) that `train.bnn` reads. */
export const PLAN_FILE = 'plan.json';

const planFileSchema = z.looseObject({
  format: z.literal('cbnn.plan'),
  keptPlanes: planeSelectionSchema,
  alternatives: z
    .looseObject({
      fewer: z.looseObject({ planes: planeSelectionSchema }).optional(),
      more: z.looseObject({ planes: planeSelectionSchema }).optional(),
    })
    .optional(),
});

/**
 * The planes a plan keeps: `keptPlanes` (dropExtra 0), `alternatives.fewer` (1) or
 * `alternatives.more` (-1); an absent alternative falls back to `keptPlanes`.
 */
export function readPlanPlanes(dir: string, dropExtra: -1 | 0 | 1): { planes: PlaneSelection; source: string } {
  const file = path.join(dir, PLAN_FILE);
  const plan = readJsonFile(file, planFileSchema, 'plan', 'is the plan input a pruning.plan output?');
  if (dropExtra === 1 && plan.alternatives?.fewer) return { planes: plan.alternatives.fewer.planes, source: 'alternatives.fewer' };
  if (dropExtra === -1 && plan.alternatives?.more) return { planes: plan.alternatives.more.planes, source: 'alternatives.more' };
  return { planes: plan.keptPlanes, source: 'keptPlanes' };
}
