import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { createLogger } from '@cbnn/core';
import { positiveInteger, printJson } from '../context';

export function registerBench(program: Command): void {
  const bench = program.command('bench').description('benchmarks (single thread first; every ratio names both sides)');

  bench
    .command('kernels')
    .description('binary XNOR-popcount kernels (WebAssembly) vs tfjs-wasm float32 on the same logical shapes')
    .option('--quick', 'fewer runs and shapes')
    .option('--profile-only', 'only the GEMM and the per-layer, per-phase engine profiles (compact w=0.19 on 1 plane, w=0.5 and w=1 on 8 planes)')
    .option('--json', 'print the full result as JSON')
    .action(async (opts: { quick?: boolean; profileOnly?: boolean; json?: boolean }) => {
      const options = {
        ...(opts.quick ? { runs: 3, warmupRuns: 1, minRunSeconds: 0.1 } : {}),
        ...(opts.profileOnly ? { models: false, widths: [], skipTfjs: true } : {}),
      };
      const { formatKernelBenchReport, runKernelBenchmarks } = await import('@cbnn/bench');
      const report = await runKernelBenchmarks(options, (line) => process.stderr.write(`${line}\n`));
      if (opts.json) printJson(report);
      else process.stdout.write(formatKernelBenchReport(report) + '\n');
    });

  bench
    .command('runtime')
    .description('compact BNN vs baseline BNN vs full precision (engine, tfjs-wasm, onnxruntime), side by side')
    .requiredOption('--dataset <dir>', 'a bitslice.dataset output folder (its test split is used)')
    .requiredOption('--compact <dir>', 'the compact model folder (or a pruning.select output)')
    .requiredOption('--baseline <dir>', 'the baseline BNN folder')
    .requiredOption('--fp <dir>', 'the full-precision model folder')
    .option('--out <dir>', 'write bench.json and bench.md here', 'bench-results')
    .option('--runs <n>', 'timed runs per case', positiveInteger('--runs'), 10)
    .option('--json', 'print bench.json to stdout')
    .action(async (opts: { dataset: string; compact: string; baseline: string; fp: string; out: string; runs: number; json?: boolean }) => {
      const { benchMarkdown, runRuntimeBenchmark } = await import('@cbnn/bench');
      const logger = createLogger({ name: 'bench' });
      const out = path.resolve(opts.out);
      fs.mkdirSync(out, { recursive: true });
      const result = await runRuntimeBenchmark(
        {
          dataset: path.resolve(opts.dataset),
          compact: path.resolve(opts.compact),
          baseline: path.resolve(opts.baseline),
          fp: path.resolve(opts.fp),
          outDir: out,
          logger,
        },
        { runs: opts.runs },
      );
      if (opts.json) printJson(result);
      else process.stdout.write(benchMarkdown(result) + `\n\nwritten to ${out}\n`);
    });
}
