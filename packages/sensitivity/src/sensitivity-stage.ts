import * as path from 'node:path';
import { defineStage } from '@cbnn/core';
import { analyseSensitivity } from './analysis';
import { loadModelEvaluation } from './model-evaluation';
import { sensitivityPlanesDescriptor } from './stage-descriptors';
import { SENSITIVITY_CSV, SENSITIVITY_FILE, writeSensitivityCsv, writeSensitivityReport } from './sensitivity-format';

export { sensitivityPlanesParams, type SensitivityPlanesParams } from './stage-descriptors';

/** `sensitivity.planes`: post-training bit-level sensitivity of a trained BNN, no retraining. */
export const sensitivityPlanesStage = defineStage({
  ...sensitivityPlanesDescriptor,
  async run(ctx) {
    const p = ctx.params;
    const { classify, input, data, engine } = loadModelEvaluation(ctx.inputs.model, ctx.inputs.dataset, p);
    ctx.logger.info(
      { split: p.split, records: data.labels.length, planes: input.layout.planes.length, impl: engine.impl, modes: p.modes, repeats: p.repeats },
      'sensitivity analysis',
    );
    const t0 = Date.now();
    const report = analyseSensitivity(classify, input, data, {
      modes: p.modes,
      repeats: p.repeats,
      seed: ctx.seed,
      batchSize: p.batchSize,
      signal: ctx.signal,
      onRow: (row, done, total) => {
        ctx.progress.update({ current: done, total, unit: 'row', message: `${row.mode} ${row.scope} ${row.label}: ${(row.accuracy * 100).toFixed(2)}%` });
        ctx.logger.debug({ row }, 'sensitivity row');
      },
    });
    writeSensitivityReport(path.join(ctx.outDir, SENSITIVITY_FILE), report);
    writeSensitivityCsv(path.join(ctx.outDir, SENSITIVITY_CSV), report);
    const seconds = (Date.now() - t0) / 1000;
    ctx.logger.info({ baselineAccuracy: report.baselineAccuracy, rows: report.rows.length, seconds }, 'sensitivity table written');
    return { metrics: { baselineAccuracy: report.baselineAccuracy, rows: report.rows.length, records: report.records, seconds } };
  },
});
