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
 * `alternatives.more` (-1). A plan has no `fewer` when it keeps one plane or rejected no drop,
 * and no `more` when it dropped nothing: the candidate then trains `keptPlanes`, the same planes
 * as dropExtra 0, and `fallback` says so, so that the duplicate is not taken for another plane set.
 */
export function readPlanPlanes(dir: string, dropExtra: -1 | 0 | 1): { planes: PlaneSelection; source: string; fallback?: string } {
  const file = path.join(dir, PLAN_FILE);
  const plan = readJsonFile(file, planFileSchema, 'plan', 'is the plan input a pruning.plan output?');
  if (dropExtra === 0) return { planes: plan.keptPlanes, source: 'keptPlanes' };
  const wanted = dropExtra === 1 ? 'fewer' : 'more';
  const alternative = plan.alternatives?.[wanted];
  if (alternative) return { planes: alternative.planes, source: `alternatives.${wanted}` };
  return {
    planes: plan.keptPlanes,
    source: `keptPlanes (dropExtra ${dropExtra}: the plan has no alternatives.${wanted})`,
    fallback:
      `dropExtra ${dropExtra} asks for one plane ${wanted} than the plan keeps, but ${file} has no alternatives.${wanted} ` +
      `(${dropExtra === 1 ? 'it keeps one plane, or no drop was rejected' : 'it dropped no plane'}): ` +
      "this candidate trains the plan's kept planes, the same planes as dropExtra 0",
  };
}
