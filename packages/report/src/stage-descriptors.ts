import { z } from 'zod';
import { defineStageDescriptor } from '@cbnn/core';
import { pipelineDagSchema, provenanceSchema } from './result-schemas';

// The light half of the report stage (`@cbnn/report/stage-descriptors`).

export const reportHtmlParamsSchema = z
  .object({
    title: z.string().min(1).optional(),
    /** The pipeline DAG (stages + edges, or a mermaid/ASCII text); the runner may pass it in. */
    dag: pipelineDagSchema.optional(),
    /** Provenance the runner knows (command, pipeline, versions); completed from this process. */
    provenance: provenanceSchema.optional(),
    /** Record this process's git commit, package versions and machine (default true). */
    collectProvenance: z.boolean().default(true),
  })
  .strict();
export type ReportHtmlParams = z.output<typeof reportHtmlParamsSchema>;

export const reportHtmlDescriptor = defineStageDescriptor({
  name: 'report.html',
  // v2: the summary shows a ratio matrix and a headline against the strongest float runtime.
  version: 2,
  description: 'A self-contained HTML report (results table, Vega-Lite charts, DAG, provenance) and a markdown summary',
  params: reportHtmlParamsSchema,
  inputs: {
    sensitivity: { kind: 'sensitivity', optional: true, description: 'sensitivity.json of sensitivity.planes' },
    plan: { kind: 'plan', optional: true, description: 'plan.json of pruning.plan' },
    search: { kind: 'search', optional: true, description: 'search.json of pruning.select (and chosen/model-info.json)' },
    bench: { kind: 'bench', optional: true, description: 'bench.json of bench.runtime' },
    baseline: { kind: 'model.bnn', optional: true, description: 'the baseline BNN folder (model-info.json)' },
    fp: { kind: 'model.fp', optional: true, description: 'the full-precision model folder (model-info.json)' },
    compact: { kind: 'model.bnn', optional: true, description: 'the compact BNN folder, when not taken from search/chosen' },
    dataset: { kind: 'dataset', optional: true, description: 'dataset.json, for the dataset summary' },
  },
  output: 'report',
});
