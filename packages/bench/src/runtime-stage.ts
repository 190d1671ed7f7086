import { defineStage } from '@cbnn/core';
import type { BenchResult } from './bench-format';
import { runRuntimeBenchmark } from './runtime-benchmark';
import { benchRuntimeDescriptor } from './stage-descriptors';

/**
 * `bench.runtime`: the runtime benchmark of a pipeline's models (bench.json + bench.md). Timing
 * is not reproducible, so a rerun with the same inputs gives other numbers; the runner's cache
 * keeps the first run's unless the stage is forced.
 */
export const benchRuntimeStage = defineStage({
  ...benchRuntimeDescriptor,
  async run(ctx) {
    const result = await runRuntimeBenchmark(
      {
        dataset: ctx.inputs.dataset,
        compact: ctx.inputs.compact,
        baseline: ctx.inputs.baseline,
        fp: ctx.inputs.fp,
        outDir: ctx.outDir,
        logger: ctx.logger,
        progress: ctx.progress,
        signal: ctx.signal,
      },
      ctx.params,
    );
    return { metrics: headlineMetrics(result) };
  },
});

/** The target ratios at the largest batch measured, for the runner's summary and the lock file. */
export function headlineMetrics(result: BenchResult): Record<string, number> {
  const batch = Math.max(...result.rows.map((r) => r.batch));
  const metrics: Record<string, number> = { rows: result.rows.length, batch };
  for (const q of result.ratios) {
    if (q.batch !== batch || q.faster.model !== 'compact' || q.faster.threads !== 1) continue;
    const key =
      q.slower.model === 'baseline'
        ? 'speedupVsBaseline'
        : q.slower.runtime.startsWith('tfjs')
          ? `speedupVsFpTfjs${q.slower.threads}t`
          : q.slower.runtime.startsWith('onnxruntime')
            ? `speedupVsFpOnnx${q.slower.threads}t`
            : undefined;
    if (key) metrics[key] = Number(q.speedup.toFixed(3));
  }
  return metrics;
}
