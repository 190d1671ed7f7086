import * as path from 'node:path';
import { pruningPlanDescriptor } from './stage-descriptors';
import { InvalidInputError, defineStage } from '@cbnn/core';
import { SENSITIVITY_FILE, loadModelEvaluation, perturbedAccuracy, readSensitivityReport, type PlaneGroup } from '@cbnn/sensitivity';
import { PLAN_FILE, writePlan } from './plan-format';
import { planPruning, type MeasureDropped } from './plan-policies';

export { pruningPlanParams } from './stage-descriptors';

/**
 * `pruning.plan`: the planes to keep, from the sensitivity table, under an accuracy budget.
 * Sets the table does not hold (greedy after its first drop; several colour channels dropped
 * together) are re-measured on the packed engine with the table's split, records, seed and
 * repeats, so every number in the plan is comparable with the table's baseline.
 */
export const pruningPlanStage = defineStage({
  ...pruningPlanDescriptor,
  async run(ctx) {
    const p = ctx.params;
    const tableFile = path.join(ctx.inputs.sensitivity, SENSITIVITY_FILE);
    const table = readSensitivityReport(tableFile);
    if (table.split !== p.split) {
      throw new InvalidInputError(
        `stage '${ctx.stage}' (pruning.plan) decides on the ${p.split} split, but the sensitivity table was measured on the ${table.split} split`,
        { file: tableFile, field: 'split' },
        table.split === 'test'
          ? "measure sensitivity on 'validation' (sensitivity.planes split: validation), or set this stage's split: test to run the authors' variant on purpose"
          : `set sensitivity.planes split: ${p.split}, or this stage's split: ${table.split}`,
      );
    }
    if (!table.rows.some((r) => r.mode === p.mode)) {
      throw new InvalidInputError(
        `the sensitivity table has no '${p.mode}' rows (modes: ${[...new Set(table.rows.map((r) => r.mode))].join(', ')})`,
        { file: tableFile, field: 'rows' },
        `set 'mode' to one the table holds`,
      );
    }
    let measure: MeasureDropped | undefined;
    let layout = layoutFromTable(table.rows);
    if (ctx.inputs.model && ctx.inputs.dataset) {
      const ev = loadModelEvaluation(ctx.inputs.model, ctx.inputs.dataset, { split: table.split, limit: table.records, impl: p.impl, batchSize: p.batchSize });
      if (ev.data.labels.length !== table.records) {
        throw new InvalidInputError(
          `the table was measured on ${table.records} ${table.split} records, the dataset has ${ev.data.labels.length}`,
          { file: tableFile, field: 'records' },
          'give pruning.plan the dataset the sensitivity stage used',
        );
      }
      layout = ev.input.layout;
      let measured = 0;
      measure = (groups: PlaneGroup[]) => {
        ctx.signal.throwIfAborted();
        const m = perturbedAccuracy(ev.classify, ev.input, ev.data, groups, {
          mode: p.mode,
          repeats: table.repeats,
          seed: table.seed,
          batchSize: p.batchSize,
          signal: ctx.signal,
        });
        ctx.progress.update({
          current: ++measured,
          unit: 'measurement',
          message: `${groups.map((g) => `${g.channel}:${g.bits.join(',')}`).join(' ')} -> ${(m.accuracy * 100).toFixed(2)}%`,
        });
        return m.accuracy;
      };
    } else if (ctx.inputs.model || ctx.inputs.dataset) {
      throw new InvalidInputError(`pruning.plan needs both 'model' and 'dataset' to re-measure, or neither`, {
        field: ctx.inputs.model ? 'needs.dataset' : 'needs.model',
      });
    }
    const plan = await planPruning(table, {
      policy: p.policy,
      mode: p.mode,
      budgetPoints: p.budgetPoints,
      layout,
      measure,
      onStep: (step) => ctx.logger.info(step, step.accepted ? 'plane dropped' : 'plane kept (over budget)'),
    });
    writePlan(path.join(ctx.outDir, PLAN_FILE), plan);
    const kept = Object.values(plan.keptPlanes).reduce((n, b) => n + b.length, 0);
    const dropped = Object.values(plan.droppedPlanes).reduce((n, b) => n + b.length, 0);
    ctx.logger.info({ keptPlanes: plan.keptPlanes, droppedPlanes: plan.droppedPlanes }, 'plan written');
    return { metrics: { policy: p.policy, keptPlanes: kept, droppedPlanes: dropped, budgetPoints: p.budgetPoints } };
  },
});

/**
 * Without the model, the planes come from the table's single-plane rows (every plane the model
 * reads has one), channels in order of first appearance: enough for lsb-first on one channel.
 */
function layoutFromTable(rows: ReadonlyArray<{ scope: string; channel: string; bits: number[] }>) {
  const channels: string[] = [];
  const planes: Array<{ channel: string; channelIndex: number; bit: number }> = [];
  for (const r of rows) {
    if (r.scope !== 'single') continue;
    if (!channels.includes(r.channel)) channels.push(r.channel);
    const bit = r.bits[0];
    if (!planes.some((q) => q.channel === r.channel && q.bit === bit)) planes.push({ channel: r.channel, channelIndex: channels.indexOf(r.channel), bit });
  }
  planes.sort((a, b) => a.channelIndex - b.channelIndex || b.bit - a.bit);
  return { channels, planes };
}
