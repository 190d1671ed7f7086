import { z } from 'zod';
import { planeSelectionSchema, writeJsonAtomicSync, readJsonFile } from '@cbnn/core';
import { DECISION_SPLITS } from './plan-format';

/** `search.json` (docs/contracts.md); the chosen model folder is copied to `chosen/`. */
export const SEARCH_FILE = 'search.json';
export const SEARCH_SUMMARY_FILE = 'search.md';
export const CHOSEN_DIR = 'chosen';
/** The all-plane control trained at the chosen width (same seed), when the search had one. */
export const CONTROL_DIR = 'control';

const accuracy = z.number().min(0).max(1);

const spreadSchema = z.object({ n: z.number().int().positive(), mean: accuracy, std: z.number().min(0) });

/** One trained instance (one seed) of a configuration. */
export const seedRunSchema = z.object({
  /** The matrix instance (folder) name. */
  instance: z.string(),
  seed: z.number().int().nullable(),
  validationAccuracy: accuracy,
  testAccuracy: accuracy,
  bestEpoch: z.number().int().nullable(),
  epochs: z.number().int().nullable(),
  /** Epochs the training was given (its `epochs` param). */
  epochsPlanned: z.number().int().nullable(),
  stoppedEarly: z.boolean(),
  /** Why training stopped before its last epoch, when it did (e.g. the search's early-stop rule). */
  stopReason: z.string().nullable(),
});
export type SeedRun = z.infer<typeof seedRunSchema>;

/**
 * A configuration (planes x width) of the search, over its seeds. `validationAccuracy` and
 * `testAccuracy` are the means over seeds; `test` is reported and never read by a decision.
 */
export const searchCandidateSchema = z.object({
  name: z.string(),
  role: z.enum(['baseline', 'candidate', 'control']),
  planes: planeSelectionSchema,
  planeCount: z.number().int().positive(),
  width: z.number().positive(),
  binaryParams: z.number().int().min(0),
  floatParams: z.number().int().min(0),
  /** Bytes of model.cbnn on disk. */
  packedBytes: z.number().int().positive(),
  float32Bytes: z.number().min(0),
  firstLayerMacs: z.number().int().min(0).nullable(),
  inputBitsPerImage: z.number().int().min(0).nullable(),
  validationAccuracy: accuracy,
  testAccuracy: accuracy,
  validation: spreadSchema,
  test: spreadSchema,
  /** 95% interval on the test accuracy: over seeds (t), or Wilson on the test images for one seed. */
  testInterval95: z.object({ low: accuracy, high: accuracy, method: z.enum(['seeds-t', 'wilson']) }).nullable(),
  seeds: z.array(seedRunSchema).min(1),
  /** Mean validation drop below the baseline, in points, and its standard error over seeds. */
  validationDropPoints: z.number(),
  dropStandardErrorPoints: z.number().min(0),
  withinBudget: z.boolean(),
  compressionVsBaseline: z.number().positive(),
  compressionVsFullPrecision: z.number().positive(),
});
export type SearchCandidate = z.infer<typeof searchCandidateSchema>;

const deltaSchema = z.object({ mean: z.number(), std: z.number().min(0) });

/** Kept planes against all planes at one width: what the pruned planes cost or gained. */
export const ablationRowSchema = z.object({
  width: z.number().positive(),
  pruned: z.string(),
  control: z.string(),
  prunedPlaneCount: z.number().int().positive(),
  controlPlaneCount: z.number().int().positive(),
  /** pruned minus control, in points (negative: the planes' removal cost accuracy). */
  validationDeltaPoints: deltaSchema,
  testDeltaPoints: deltaSchema,
  prunedBytes: z.number().int().positive(),
  controlBytes: z.number().int().positive(),
  prunedFirstLayerMacs: z.number().int().min(0).nullable(),
  controlFirstLayerMacs: z.number().int().min(0).nullable(),
  prunedInputBits: z.number().int().min(0).nullable(),
  controlInputBits: z.number().int().min(0).nullable(),
  /** Seeds behind the smaller side: 1 means the deltas are single runs (no spread measured). */
  seeds: z.number().int().positive().optional(),
});
export type AblationRow = z.infer<typeof ablationRowSchema>;

/** An ablation difference in points with its spread over seeds, or "(one seed)" when none was measured. */
export function deltaText(d: { mean: number; std: number }, seeds: number | undefined): string {
  const signed = `${d.mean >= 0 ? '+' : ''}${d.mean.toFixed(2)}`;
  return seeds === 1 ? `${signed} (one seed)` : `${signed} ± ${d.std.toFixed(2)}`;
}

/** One saving of the chosen model against the baseline, split into width and planes. */
const attributionSchema = z.object({
  quantity: z.enum(['validation accuracy (points)', 'test accuracy (points)', 'packed bytes', 'first-layer MACs', 'input bits per image']),
  baseline: z.number(),
  /** The all-plane control at the chosen width. */
  control: z.number(),
  chosen: z.number(),
});

export const searchResultSchema = z
  .object({
    format: z.literal('cbnn.search'),
    version: z.literal(2),
    budgetPoints: z.number().min(0),
    /** The split every decision here was taken on. */
    selection: z.enum(DECISION_SPLITS),
    rule: z.object({ name: z.literal('mean-drop-plus-se'), text: z.string() }),
    /** Every seed that trained any configuration; one seed means one run per configuration. */
    seeds: z.array(z.number().int()),
    baseline: searchCandidateSchema,
    fullPrecision: z
      .object({
        testAccuracy: accuracy,
        validationAccuracy: accuracy.optional(),
        float32Bytes: z.number().min(0),
        onnxBytes: z.number().int().positive().optional(),
      })
      .optional(),
    candidates: z.array(searchCandidateSchema),
    controls: z.array(searchCandidateSchema),
    chosen: z.string(),
    /** The instance folder copied to `chosen/` (the chosen configuration's best-validation seed). */
    chosenInstance: z.string(),
    /** The control instance copied to `control/`, when there is a control at the chosen width. */
    controlInstance: z.string().nullable(),
    compression: z.object({
      vsBaselinePacked: z.number().positive(),
      /** Against the full-precision model's float32 bytes (or, without one, the baseline's float32-equivalent). */
      vsFullPrecisionFloat32: z.number().positive(),
    }),
    ablation: z.array(ablationRowSchema),
    /** Instances that repeated another's training exactly (same configuration, seed and model bytes), counted once. */
    repeatedInstances: z.array(z.string()),
    /** Training epochs not run because a candidate stopped early (planned minus run, over every instance). */
    epochsSaved: z.number().int().min(0),
    /** The chosen model's savings against the baseline: from the width (baseline -> control) and from the planes (control -> chosen). */
    attribution: z.array(attributionSchema),
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

export function readSearchResult(file: string): SearchResult {
  return readJsonFile(
    file,
    searchResultSchema,
    'search result',
    'is this a pruning.select output? (search.json version 1 predates seeds and controls: re-run pruning.select)',
  );
}

export function writeSearchResult(file: string, result: SearchResult): void {
  writeJsonAtomicSync(file, searchResultSchema.parse(result));
}

/**
 * What the early stop did to the search, in one sentence for search.md and the report. When it
 * stopped nothing, every candidate trained its planned epochs, to the bytes full training gives
 * (the rule only reads validation accuracies), so the choice is the one full training makes.
 */
export function earlyStopSummary(search: Pick<SearchResult, 'baseline' | 'candidates' | 'controls' | 'epochsSaved'>): string {
  const runs = [search.baseline, ...search.candidates, ...search.controls].flatMap((c) => c.seeds.map((r) => ({ c, r })));
  const stopped = runs.filter(({ r }) => r.stoppedEarly);
  if (!stopped.length)
    return `Early stop: nothing was stopped (0 of ${runs.length} trainings), so every candidate ran its planned epochs and the choice is the one full training makes.`;
  return `Stopped early (${search.epochsSaved} training epochs saved): ${stopped
    .map(({ c, r }) => `${r.instance} (${c.name}) after epoch ${r.epochs ?? '?'} of ${r.epochsPlanned ?? '?'}${r.stopReason ? ` — ${r.stopReason}` : ''}`)
    .join(
      '; ',
    )}. A stopped candidate could not reach the budget by the rule's bound; whether full training would have brought it within budget was not measured.`;
}
