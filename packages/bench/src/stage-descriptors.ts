import { z } from 'zod';
import { defineStageDescriptor } from '@cbnn/core';

// The light half of the bench stage (`@cbnn/bench/stage-descriptors`).

export const runtimeBenchParamsSchema = z.object({
  /** Untimed runs per side and batch before the timed ones. */
  warmup: z.number().int().min(0).default(2),
  /** Timed runs per side and batch; the median and quartiles are over these. */
  runs: z.number().int().min(1).default(10),
  /** Batch sizes: 1 gives latency, larger ones throughput. */
  batches: z.array(z.number().int().min(1).max(4096)).min(1).default([1, 64, 256]),
  /**
   * Thread counts of onnxruntime (intra-op) and of the cbnn engine (createEngine threads); default
   * [1, all cores]. TensorFlow.js runs on 1 thread (tfjs-backend-wasm has no threads in Node).
   */
  threads: z.array(z.number().int().min(1)).min(1).optional(),
  /** Test images used for the accuracy column (timing always uses the first `batch` test images). */
  maxImages: z.number().int().min(1).default(2000),
  /** A timed run repeats the call until it lasts about this long. */
  minRunSeconds: z.number().positive().default(0.2),
  /** The cbnn engine implementation: the WebAssembly SIMD kernels or the TypeScript reference. */
  engine: z.enum(['wasm', 'reference']).default('wasm'),
  /** Measure the TensorFlow.js sides (full precision and the baseline BNN's float simulation). */
  tfjs: z.boolean().default(true),
  /** Measure the onnxruntime sides. */
  onnx: z.boolean().default(true),
  /**
   * Let onnxruntime's intra-op threads spin-wait between runs (its default). Off by default: the
   * sides share one process, and a multi-threaded session's spinning threads kept burning CPU
   * while the sides after it ran (an engine call right after an onnxruntime 2-thread call took
   * 2.5x its process CPU time: 53 vs 21.5 µs per compact image), while onnxruntime's own times
   * were the same or better without it on the shared 2-core machine.
   */
  onnxSpinning: z.boolean().default(false),
});
export const benchRuntimeDescriptor = defineStageDescriptor({
  name: 'bench.runtime',
  // 2: runtime names carry the kernel; engine on the listed threads; per-layer profiles and the GEMM of the run
  // 3: onnxruntime's intra-op threads do not spin between runs (onnxSpinning: false)
  version: 3,
  description: 'Runtime benchmark: compact BNN vs baseline BNN (cbnn engine, TensorFlow.js) vs full precision (tfjs-wasm, onnxruntime), side by side',
  params: runtimeBenchParamsSchema,
  inputs: {
    dataset: { kind: 'dataset', description: 'the test split supplies the images' },
    compact: { kind: ['model.bnn', 'search'], description: 'the compact BNN: a model.bnn folder, or a search folder (its chosen/ model)' },
    baseline: { kind: 'model.bnn', description: 'the baseline BNN: all planes, full width' },
    fp: { kind: 'model.fp', description: 'the full-precision counterpart' },
  },
  output: 'bench',
  // Timing is not reproducible: its output is a measurement, not a function of its key.
  measurement: true,
});
