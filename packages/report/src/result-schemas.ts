import { z } from 'zod';
import { planeSelectionSchema } from '@cbnn/core';

/**
 * The result files the report reads (docs/contracts.md). Only model-info.json and the pipeline
 * graph are described here; the rest come from their producers.
 */

const fraction = z.number().min(0).max(1);
const nonNegativeInt = z.number().int().min(0);

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
 * `model-info.json` of a model folder. The contract leaves the shape of `planes` open
 * ("selection + resolved layout"), so the report accepts any value there and only reads a
 * selection out of it when it finds one.
 */
export const modelInfoSchema = z.object({
  kind: z.enum(['bnn', 'fp']),
  arch: z.string(),
  width: z.number().positive(),
  planes: z.unknown().optional(),
  firstLayer: z.string().optional(),
  classNames: z.array(z.string()).optional(),
  backend: z.string(),
  seed: z.number().int(),
  params: z.object({ binary: nonNegativeInt, float: nonNegativeInt }),
  bytes: z.object({ packed: nonNegativeInt.optional(), float32: nonNegativeInt }),
  metrics: z.object({
    validationAccuracy: fraction.optional(),
    testAccuracy: fraction,
    bestEpoch: nonNegativeInt.optional(),
    epochs: nonNegativeInt.optional(),
  }),
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
