import { z } from 'zod';
import { parseOrThrow, writeJsonAtomicSync, readJsonFile } from '@cbnn/core';

/**
 * `bench.json`, the result of `bench.runtime` (docs/contracts.md, "Result files"). This module is
 * also the package's schema-only entry point `@cbnn/bench/bench-format`, which the report reads
 * bench.json with: keep its imports to zod and @cbnn/core (no TensorFlow.js, no onnxruntime).
 */
export const BENCH_FILE = 'bench.json';
export const BENCH_MARKDOWN_FILE = 'bench.md';

export const benchModelSchema = z.enum(['compact', 'baseline', 'fp']);
export type BenchModel = z.infer<typeof benchModelSchema>;

const quartilesSchema = z.object({ median: z.number().min(0), q1: z.number().min(0), q3: z.number().min(0) });

export const benchRowSchema = z.object({
  model: benchModelSchema,
  /** e.g. 'cbnn wasm-simd', 'tfjs-wasm xnnpack', 'onnxruntime cpu' */
  runtime: z.string().min(1),
  threads: z.number().int().min(1),
  batch: z.number().int().min(1),
  /** Time of one call on `batch` images. */
  latencyMs: quartilesSchema,
  imagesPerSecond: quartilesSchema,
  /** Bytes on disk of the file(s) this runtime loads. */
  modelBytes: z.number().int().min(0),
  /** Test accuracy this runtime reaches on the benchmark's images (a fraction). */
  accuracy: z.number().min(0).max(1).optional(),
  /** Peak RSS of the benchmark process when this row was done (monotonic over the run). */
  peakRssBytes: z.number().min(0),
});
export type BenchRow = z.infer<typeof benchRowSchema>;

export const benchSideSchema = z.object({ model: benchModelSchema, runtime: z.string(), threads: z.number().int().min(1) });
export type BenchSide = z.infer<typeof benchSideSchema>;

export const benchRatioSchema = z.object({
  label: z.string(),
  faster: benchSideSchema,
  slower: benchSideSchema,
  batch: z.number().int().min(1),
  /** slower's median latency / faster's median latency (< 1 when "faster" is in fact slower). */
  speedup: z.number().positive(),
});
export type BenchRatio = z.infer<typeof benchRatioSchema>;

export const benchResultSchema = z.object({
  format: z.literal('cbnn.bench'),
  version: z.literal(1),
  date: z.string(),
  machine: z.object({ cpu: z.string(), cores: z.number().int().min(1), node: z.string(), os: z.string() }),
  warmup: z.number().int().min(0),
  runs: z.number().int().min(1),
  rows: z.array(benchRowSchema),
  ratios: z.array(benchRatioSchema),
  /** Versions and settings of each runtime, e.g. { tfjs: 'wasm (tfjs-backend-wasm 4.22.0, simd, 1 thread)' }. */
  backends: z.record(z.string(), z.string()).optional(),
  notes: z.array(z.string()).optional(),
  /** The model folders measured, by role. */
  models: z.record(z.string(), z.object({ dir: z.string(), planes: z.number().int().min(0).optional(), width: z.number().optional() })).optional(),
});
export type BenchResult = z.infer<typeof benchResultSchema>;

export function writeBenchResult(file: string, result: BenchResult): void {
  writeJsonAtomicSync(file, parseOrThrow(benchResultSchema, result, 'benchmark result', { file }));
}

export function readBenchResult(file: string): BenchResult {
  return readJsonFile(file, benchResultSchema, 'benchmark result', 'is this a bench.runtime output?');
}
