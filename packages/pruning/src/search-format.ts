import { z } from 'zod';
import { planeSelectionSchema, writeJsonAtomicSync, readJsonFile } from '@cbnn/core';

/** `search.json` (docs/contracts.md); the chosen model folder is copied to `chosen/`. */
export const SEARCH_FILE = 'search.json';
export const SEARCH_SUMMARY_FILE = 'search.md';
export const CHOSEN_DIR = 'chosen';

const accuracy = z.number().min(0).max(1);

export const searchCandidateSchema = z.object({
  name: z.string(),
  planes: planeSelectionSchema,
  planeCount: z.number().int().positive(),
  width: z.number().positive(),
  binaryParams: z.number().int().min(0),
  floatParams: z.number().int().min(0),
  /** Bytes of model.cbnn on disk. */
  packedBytes: z.number().int().positive(),
  float32Bytes: z.number().min(0),
  validationAccuracy: accuracy,
  testAccuracy: accuracy,
  withinBudget: z.boolean(),
  /** Additions to the contract: the model-size summary per candidate. */
  validationDropPoints: z.number().optional(),
  compressionVsBaseline: z.number().positive().optional(),
  compressionVsFullPrecision: z.number().positive().optional(),
});
export type SearchCandidate = z.infer<typeof searchCandidateSchema>;

export const searchResultSchema = z.object({
  format: z.literal('cbnn.search'),
  version: z.literal(1),
  budgetPoints: z.number().min(0),
  selection: z.literal('validation'),
  baseline: searchCandidateSchema,
  fullPrecision: z
    .object({ testAccuracy: accuracy, validationAccuracy: accuracy.optional(), float32Bytes: z.number().min(0), onnxBytes: z.number().int().positive().optional() })
    .optional(),
  candidates: z.array(searchCandidateSchema),
  chosen: z.string(),
  compression: z.object({
    vsBaselinePacked: z.number().positive(),
    /** Against the full-precision model's float32 bytes (or, without one, the baseline's float32-equivalent). */
    vsFullPrecisionFloat32: z.number().positive(),
  }),
});
export type SearchResult = z.infer<typeof searchResultSchema>;

export function readSearchResult(file: string): SearchResult {
  return readJsonFile(file, searchResultSchema, 'search result', 'is this a pruning.select output?');
}

export function writeSearchResult(file: string, result: SearchResult): void {
  writeJsonAtomicSync(file, searchResultSchema.parse(result));
}
