import { z } from 'zod';
import { planeSelectionSchema } from '@cbnn/core';

/**
 * The report's own schemas of the result files pinned in docs/contracts.md. The analysis packages
 * sit beside the report, not below it (layering), so it validates their files again here: a file
 * that drifts from the contract fails with the file and field named instead of a broken chart.
 * bench.json is the exception: bench is below the report and exports its schema on its own.
 * Objects are not strict: producers may add fields without breaking older reports.
 */

const fraction = z.number().min(0).max(1);
const nonNegativeInt = z.number().int().min(0);
const finite = z.number().refine(Number.isFinite, { message: 'expected a finite number' });

export const sensitivityRowSchema = z.object({
  scope: z.enum(['single', 'cumulative']),
  mode: z.enum(['randomize', 'zero']),
  channel: z.string(),
  bits: z.array(z.number().int().min(0).max(7)).min(1),
  label: z.string(),
  accuracy: fraction,
  accuracyStd: z.number().min(0),
  dropPoints: finite,
  repeats: z.number().int().min(1),
});
export type SensitivityRow = z.infer<typeof sensitivityRowSchema>;

export const sensitivityResultSchema = z.object({
  format: z.literal('cbnn.sensitivity'),
  version: z.literal(1),
  split: z.string(),
  seed: z.number().int(),
  repeats: z.number().int().min(1),
  baselineAccuracy: fraction,
  rows: z.array(sensitivityRowSchema),
});
export type SensitivityResult = z.infer<typeof sensitivityResultSchema>;

export const planResultSchema = z.object({
  format: z.literal('cbnn.plan'),
  version: z.literal(1),
  policy: z.enum(['lsb-first', 'greedy']),
  mode: z.enum(['randomize', 'zero']),
  budgetPoints: z.number().min(0),
  baselineAccuracy: fraction,
  keptPlanes: planeSelectionSchema,
  // Dropping nothing is a valid plan, so a channel may map to an empty list here.
  droppedPlanes: z.record(z.string(), z.array(z.number().int().min(0).max(7))),
  steps: z.array(z.object({ drop: z.string(), accuracy: fraction, dropPoints: finite, accepted: z.boolean() })),
});
export type PlanResult = z.infer<typeof planResultSchema>;

export const candidateSchema = z.object({
  name: z.string().min(1),
  planes: planeSelectionSchema,
  planeCount: z.number().int().min(1),
  width: z.number().positive(),
  binaryParams: nonNegativeInt,
  floatParams: nonNegativeInt,
  packedBytes: z.number().int().positive(),
  float32Bytes: z.number().int().positive(),
  validationAccuracy: fraction,
  testAccuracy: fraction,
  withinBudget: z.boolean(),
});
export type Candidate = z.infer<typeof candidateSchema>;

export const searchResultSchema = z
  .object({
    format: z.literal('cbnn.search'),
    version: z.literal(1),
    budgetPoints: z.number().min(0),
    selection: z.literal('validation'),
    baseline: candidateSchema,
    fullPrecision: z
      .object({ testAccuracy: fraction, float32Bytes: z.number().int().positive(), onnxBytes: z.number().int().positive().optional() })
      .optional(),
    candidates: z.array(candidateSchema),
    chosen: z.string().min(1),
    compression: z.object({ vsBaselinePacked: z.number().positive(), vsFullPrecisionFloat32: z.number().positive() }),
  })
  .superRefine((search, ctx) => {
    // pruning.select falls back to the baseline when no candidate is within the budget.
    if (search.chosen !== search.baseline.name && !search.candidates.some((c) => c.name === search.chosen)) {
      ctx.addIssue({
        code: 'custom',
        path: ['chosen'],
        message: `names no candidate ('${search.chosen}'; candidates: ${search.candidates.map((c) => `'${c.name}'`).join(', ') || 'none'})`,
      });
    }
  });
export type SearchResult = z.infer<typeof searchResultSchema>;

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
