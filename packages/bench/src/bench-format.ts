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
  /** Runtime and the kernel that ran, e.g. 'cbnn wasm (i64.popcnt)', 'tfjs-wasm xnnpack f32', 'onnxruntime cpu (mlas f32)' */
  runtime: z.string().min(1),
  /** The kernel family that ran: 'i64.popcnt' or 'i8x16.popcnt' (cbnn engine), 'xnnpack f32', 'mlas f32', ... */
  kernel: z.string().optional(),
  /** cbnn engine: the kernel variant of each call of a forward pass, in order. */
  kernels: z.array(z.string()).optional(),
  /** cbnn engine: binary MACs per image x images/s (median), in G/s. */
  gBinaryMacsPerSecond: z.number().min(0).optional(),
  threads: z.number().int().min(1),
  batch: z.number().int().min(1),
  /** Time of one call on `batch` images. */
  latencyMs: quartilesSchema,
  /** Process CPU time of one call (all its threads): less disturbed by other load on a shared machine. */
  cpuMs: quartilesSchema.optional(),
  imagesPerSecond: quartilesSchema,
  /** Bytes on disk of the file(s) this runtime loads. */
  modelBytes: z.number().int().min(0),
  /** Test accuracy this runtime reaches on the benchmark's images (a fraction). */
  accuracy: z.number().min(0).max(1).optional(),
  /** Peak RSS of the benchmark process when this row was done (monotonic over the run). */
  peakRssBytes: z.number().min(0),
});
export type BenchRow = z.infer<typeof benchRowSchema>;

export const benchSideSchema = z.object({ model: benchModelSchema, runtime: z.string(), threads: z.number().int().min(1), kernel: z.string().optional() });
export type BenchSide = z.infer<typeof benchSideSchema>;

export const benchRatioSchema = z.object({
  label: z.string(),
  faster: benchSideSchema,
  slower: benchSideSchema,
  batch: z.number().int().min(1),
  /** slower's median latency / faster's median latency (< 1 when "faster" is in fact slower). */
  speedup: z.number().positive(),
  /** The same by median CPU time per call (a multi-threaded side's threads summed). */
  cpuSpeedup: z.number().positive().optional(),
});
export type BenchRatio = z.infer<typeof benchRatioSchema>;

/** One call of the engine's forward pass, timed alone (Engine.profile), batch as in the profile. */
export const benchProfileStepSchema = z.object({
  label: z.string(),
  variant: z.string(),
  binaryMacsPerImage: z.number().min(0),
  /** Median ms of the call on the batch, and the min and max of the timed runs. */
  ms: z.object({ median: z.number().min(0), min: z.number().min(0), max: z.number().min(0) }),
  /** Median process CPU ms of the call. */
  cpuMs: z.number().min(0).optional(),
  gBinaryMacsPerSecond: z.number().min(0),
  /** Median ms of the phases that run alone (im2col) and the rest of the call. */
  phases: z.record(z.string(), z.number()).optional(),
});

/** Per-layer profile of an engine side (1 thread), next to the GEMM's rate in the same run. */
export const benchProfileSchema = z.object({
  model: benchModelSchema,
  runtime: z.string(),
  batch: z.number().int().min(1),
  steps: z.array(benchProfileStepSchema),
  totalMs: z.number().min(0),
  binaryMacsPerImage: z.number().min(0),
  gBinaryMacsPerSecond: z.number().min(0),
  /** The same by the calls' CPU time. */
  cpuGBinaryMacsPerSecond: z.number().min(0).optional(),
});
export type BenchProfile = z.infer<typeof benchProfileSchema>;

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
  /** Per-layer profiles of the engine sides (1 thread, the largest batch). */
  profiles: z.array(benchProfileSchema).optional(),
  /** The binary GEMM (dense kernel, 1 thread) measured in the same run: the rate a whole network is compared with. */
  gemm: z
    .object({ shape: z.string(), variant: z.string(), gBinaryMacsPerSecond: z.number().min(0), cpuGBinaryMacsPerSecond: z.number().min(0).optional() })
    .optional(),
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
