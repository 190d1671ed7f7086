import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { InvalidInputError } from '@cbnn/core';

/**
 * The search's early stop: a candidate whose validation accuracy cannot reach the budget is
 * stopped at a rung, on a bound taken from the reference (baseline) model's own learning curve.
 *
 * At a rung (a fraction f of the candidate's planned epochs) the bound on what the candidate can
 * still reach is
 *
 *     best validation so far + slack x (gain the reference made after the same fraction f) + margin
 *
 * and the candidate stops when that bound is below the budget's floor (the reference's best
 * validation accuracy minus the budget). The reference's gain after f is the largest validation
 * accuracy it reached from epoch ceil(f x its epochs) on, minus its accuracy at that epoch. A
 * narrow network learns more slowly than the reference, hence the slack (default 2x) and a fixed
 * margin. Rungs come early (default 25% and 50%): later, full training is cheap next to the
 * risk of stopping a winner. Only validation accuracies are read.
 */
export const earlyStopSchema = z
  .object({
    /** Budget in points below the reference's best validation accuracy (the search's budget). */
    budgetPoints: z.number().min(0),
    /** Fractions of the planned epochs at which the rule is checked. */
    rungs: z.array(z.number().gt(0).lt(1)).min(1).default([0.25, 0.5]),
    /** Multiplier on the reference's remaining gain. */
    slack: z.number().min(1).default(2),
    /** Extra points granted on top of the bound. */
    marginPoints: z.number().min(0).default(0.5),
  })
  .strict();
export type EarlyStopParams = z.output<typeof earlyStopSchema>;

export interface ReferenceCurve {
  /** Validation accuracy by epoch, epoch 1 first. */
  validation: number[];
  best: number;
}

/** The reference model's validation curve, from its `epochs.jsonl`. */
export function readReferenceCurve(modelDir: string, epochsFile: string): ReferenceCurve {
  const file = path.join(modelDir, epochsFile);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new InvalidInputError(
      'the reference model has no per-epoch validation record',
      { file },
      "give 'reference' a train.bnn output (it writes epochs.jsonl)",
    );
  }
  const validation: number[] = [];
  text
    .split('\n')
    .filter((l) => l.trim())
    .forEach((line, i) => {
      let v: unknown;
      try {
        v = (JSON.parse(line) as { validationAccuracy?: unknown }).validationAccuracy;
      } catch {
        throw new InvalidInputError(`line ${i + 1} is not valid JSON`, { file, line: i + 1 });
      }
      if (typeof v !== 'number' || !(v >= 0 && v <= 1))
        throw new InvalidInputError('validationAccuracy is not a fraction in [0, 1]', { file, line: i + 1, field: 'validationAccuracy' });
      validation.push(v);
    });
  if (validation.length === 0) throw new InvalidInputError('the reference model recorded no epoch', { file });
  return { validation, best: Math.max(...validation) };
}

/**
 * A stop rule for the trainer: called after each epoch's validation with the epoch (1-based),
 * the planned epoch count and the best validation accuracy so far; returns why to stop, or
 * undefined to go on.
 */
export type StopRule = (epoch: number, plannedEpochs: number, bestValidation: number) => string | undefined;

export function budgetStopRule(reference: ReferenceCurve, params: EarlyStopParams): StopRule {
  const floor = reference.best - params.budgetPoints / 100;
  const rungEpochs = new Map<number, number>();
  return (epoch, planned, bestValidation) => {
    if (rungEpochs.size === 0) for (const f of params.rungs) rungEpochs.set(Math.max(1, Math.round(f * planned)), f);
    const f = rungEpochs.get(epoch);
    if (f === undefined || epoch >= planned) return undefined;
    const from = Math.min(reference.validation.length, Math.max(1, Math.ceil(f * reference.validation.length)));
    const remainingGain = Math.max(0, Math.max(...reference.validation.slice(from - 1)) - reference.validation[from - 1]);
    const bound = bestValidation + params.slack * remainingGain + params.marginPoints / 100;
    if (bound >= floor) return undefined;
    const pts = (x: number) => (x * 100).toFixed(2);
    return (
      `stopped at epoch ${epoch}/${planned} (rung ${Math.round(f * 100)}%): best validation ${pts(bestValidation)}% + ${params.slack} x ${pts(remainingGain)} pts ` +
      `(the reference's gain after ${Math.round(f * 100)}% of its training) + ${params.marginPoints} pts = ${pts(bound)}% < ${pts(floor)}% ` +
      `(reference ${pts(reference.best)}% - ${params.budgetPoints} pts budget)`
    );
  };
}
