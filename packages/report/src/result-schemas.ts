import { z } from 'zod';
import { planeSelectionSchema } from '@cbnn/core';
import { modelInfoSchema as producerModelInfo } from '@cbnn/train/model-info';

/**
 * The result files the report reads (docs/contracts.md), all with their producers' schemas;
 * only the pipeline graph and provenance are described here.
 */

// Every analysis result is read with the schema its writer uses, from the producer's schema-only
// entry point (no engine, TensorFlow.js or onnxruntime loaded): a file that drifts from the
// contract fails with the file and field named instead of a broken chart.
export { sensitivityRowSchema, sensitivityReportSchema as sensitivityResultSchema } from '@cbnn/sensitivity/sensitivity-format';
export type { SensitivityRow, SensitivityReport as SensitivityResult } from '@cbnn/sensitivity/sensitivity-format';
export { planSchema as planResultSchema } from '@cbnn/pruning/plan-format';
export type { Plan as PlanResult } from '@cbnn/pruning/plan-format';
export { searchCandidateSchema as candidateSchema, searchResultSchema, ablationRowSchema } from '@cbnn/pruning/search-format';
export type { SearchCandidate as Candidate, SearchResult, AblationRow } from '@cbnn/pruning/search-format';

// bench.json is read with the schema its writer uses: a schema-only entry point of @cbnn/bench,
// so the report does not load TensorFlow.js or onnxruntime.
export { benchModelSchema, benchRowSchema, benchResultSchema } from '@cbnn/bench/bench-format';
export type { BenchModel, BenchRow, BenchSide, BenchResult } from '@cbnn/bench/bench-format';

/**
 * `model-info.json` of a model folder: train's schema, with what the report can do without made
 * optional. The contract leaves the shape of `planes` open ("selection + resolved layout"), so the
 * report accepts any value there and only reads a selection out of it when it finds one.
 */
const mi = producerModelInfo.shape;
export const modelInfoSchema = z.looseObject({
  kind: mi.kind,
  arch: mi.arch,
  width: mi.width,
  planes: z.unknown().optional(),
  firstLayer: mi.firstLayer.optional(),
  classNames: mi.classNames.optional(),
  backend: mi.backend,
  seed: mi.seed,
  params: mi.params.loose(),
  bytes: mi.bytes.partial({ packed: true }).loose(),
  metrics: mi.metrics
    .pick({ validationAccuracy: true, testAccuracy: true, bestEpoch: true, epochs: true })
    .partial({ validationAccuracy: true, bestEpoch: true, epochs: true })
    .loose(),
});
export type ModelInfo = z.infer<typeof modelInfoSchema>;

/** Count planes in a model-info `planes` value, whichever documented shape it has. */
export function planeCountOf(planes: unknown): number | undefined {
  const selection = selectionOf(planes);
  return selection ? Object.values(selection).reduce((n, bits) => n + bits.length, 0) : undefined;
}

export function selectionOf(planes: unknown): Record<string, number[]> | undefined {
  const direct = planeSelectionSchema.safeParse(planes);
  if (direct.success) return direct.data;
  if (planes && typeof planes === 'object' && 'selection' in planes) {
    const nested = planeSelectionSchema.safeParse((planes as { selection: unknown }).selection);
    if (nested.success) return nested.data;
  }
  return undefined;
}

/** The pipeline DAG: stages and edges (drawn as SVG), or a text rendering (mermaid, ASCII) shown as is. */
export const pipelineDagSchema = z.union([
  z.string(),
  z.object({
    stages: z.array(z.object({ name: z.string().min(1), handler: z.string().optional(), status: z.string().optional() })),
    edges: z.array(z.object({ from: z.string(), to: z.string(), input: z.string().optional() })),
  }),
]);
export type PipelineDag = z.infer<typeof pipelineDagSchema>;

export const provenanceSchema = z.object({
  /** The recorded run these results come from (`cbnn exp show ID`, `cbnn report --run ID`). */
  run: z.object({ id: z.string(), name: z.string().optional(), startedAt: z.string().optional(), status: z.string().optional() }).optional(),
  gitCommit: z.string().optional(),
  gitDirty: z.boolean().optional(),
  command: z.string().optional(),
  pipeline: z.string().optional(),
  packageVersions: z.record(z.string(), z.string()).optional(),
  backend: z.string().optional(),
  seeds: z.record(z.string(), z.number()).optional(),
  machine: z.object({ cpu: z.string().optional(), cores: z.number().optional(), node: z.string().optional(), os: z.string().optional() }).optional(),
});
export type Provenance = z.infer<typeof provenanceSchema>;
