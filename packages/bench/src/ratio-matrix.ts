import type { BenchModel, BenchRatio, BenchResult, BenchSide } from './bench-format';

/**
 * The speed ratios of one bench.json at a glance: one row per comparison (both sides named once,
 * in the row header), one column per batch size. A light entry point (`@cbnn/bench/ratio-matrix`):
 * the report and the CLI read it without loading a runtime. It reads only what bench.json
 * records: a side's kernel is named when the runtime name does not already say it.
 */
export interface RatioMatrixRow {
  faster: BenchSide;
  slower: BenchSide;
  /** 'compact BNN (w 0.19, cbnn wasm-simd, 1 thread) vs full precision (w 0.5, onnxruntime cpu, 1 thread)' */
  comparison: string;
  /** batch size -> how many times faster `faster` ran than `slower` (median latencies). */
  speedups: Map<number, number>;
}

export interface RatioMatrix {
  batches: number[];
  rows: RatioMatrixRow[];
}

const MODEL_NAMES: Record<BenchModel, string> = { compact: 'compact BNN', baseline: 'baseline BNN', fp: 'full precision' };

/** What ran on a side, when the bench recorded it beyond the runtime name (e.g. the kernel variant). */
function kernelOf(side: BenchSide): string | undefined {
  return side.kernel ? side.kernel : undefined;
}

function widthOf(result: BenchResult, model: BenchModel): number | undefined {
  const width = result.models?.[model]?.width;
  return typeof width === 'number' ? width : undefined;
}

/** 'full precision (w 0.5, onnxruntime cpu, 1 thread)': model, width, runtime, kernel, threads. */
export function sideName(side: BenchSide, result: BenchResult): string {
  const width = widthOf(result, side.model);
  const kernel = kernelOf(side);
  const parts = [
    width === undefined ? undefined : `w ${width}`,
    side.runtime,
    kernel && !side.runtime.includes(kernel) ? kernel : undefined,
    `${side.threads} thread${side.threads === 1 ? '' : 's'}`,
  ].filter((p): p is string => p !== undefined);
  return `${MODEL_NAMES[side.model]} (${parts.join(', ')})`;
}

// A side is its model, runtime and threads (as bench's sameSide); the kernel is a label of it.
const sideKey = (s: BenchSide): string => `${s.model}|${s.runtime}|${s.threads}`;

/** Rows in the order bench.json lists its ratios (its comparisons, compact first). */
export function ratioMatrix(result: BenchResult): RatioMatrix {
  const rows = new Map<string, RatioMatrixRow>();
  for (const r of result.ratios) {
    const id = `${sideKey(r.faster)}>${sideKey(r.slower)}`;
    let row = rows.get(id);
    if (!row) {
      row = { faster: r.faster, slower: r.slower, comparison: `${sideName(r.faster, result)} vs ${sideName(r.slower, result)}`, speedups: new Map() };
      rows.set(id, row);
    }
    row.speedups.set(r.batch, r.speedup);
  }
  const batches = [...new Set(result.ratios.map((r) => r.batch))].sort((a, b) => a - b);
  return { batches, rows: [...rows.values()] };
}

/**
 * The float side to beat: of the full-precision sides on as many threads as the compact model,
 * the one with the lowest median latency at the largest batch both were measured at (in practice
 * onnxruntime). Undefined without a full-precision row.
 */
export function strongestFloatSide(result: BenchResult): BenchSide | undefined {
  const compactThreads = result.rows.find((r) => r.model === 'compact')?.threads ?? 1;
  const fp = result.rows.filter((r) => r.model === 'fp' && r.threads === compactThreads);
  if (fp.length === 0) return undefined;
  const batch = Math.max(...fp.map((r) => r.batch));
  const best = fp.filter((r) => r.batch === batch).sort((a, b) => a.latencyMs.median - b.latencyMs.median)[0];
  return { model: best.model, runtime: best.runtime, threads: best.threads };
}

const sameSide = (a: BenchSide, b: BenchSide): boolean => sideKey(a) === sideKey(b);

/** The compact model's ratios against one side, by batch (ascending). */
export function compactRatiosVs(result: BenchResult, other: BenchSide): BenchRatio[] {
  return result.ratios.filter((r) => r.faster.model === 'compact' && sameSide(r.slower, other)).sort((a, b) => a.batch - b.batch);
}

export function formatSpeedup(x: number): string {
  return `${x.toFixed(x < 10 ? 2 : 1)}×`;
}

const byBatch = (ratios: BenchRatio[]): string => ratios.map((r) => `${formatSpeedup(r.speedup)} at batch ${r.batch}`).join(', ');

/**
 * One or two sentences: the compact BNN against the strongest float runtime, then against the
 * baseline BNN on the same engine. Undefined when the bench measured neither comparison.
 */
export function headlineText(result: BenchResult): string | undefined {
  const strongest = strongestFloatSide(result);
  const parts: string[] = [];
  const vsFp = strongest ? compactRatiosVs(result, strongest) : [];
  if (strongest && vsFp.length) {
    const fpRuntimes = new Set(result.rows.filter((r) => r.model === 'fp').map((r) => r.runtime));
    const why = fpRuntimes.size > 1 ? ', the fastest float runtime measured' : '';
    parts.push(`Speedup of the ${sideName(vsFp[0].faster, result)} over ${sideName(vsFp[0].slower, result)}${why}: ${byBatch(vsFp)}.`);
  }
  const baseline = result.ratios.find((r) => r.faster.model === 'compact' && r.slower.model === 'baseline');
  if (baseline) parts.push(`Over the ${sideName(baseline.slower, result)}: ${byBatch(compactRatiosVs(result, baseline.slower))}.`);
  return parts.length ? parts.join(' ') : undefined;
}

/** The matrix as a markdown table (header, alignment row, one line per comparison). */
export function ratioMatrixMarkdown(matrix: RatioMatrix, escapeCell: (s: string) => string = (s) => s.replace(/\|/g, '\\|')): string[] {
  const head = ['comparison (× = how many times faster the first side ran)', ...matrix.batches.map((b) => `batch ${b}`)];
  const lines = [`| ${head.join(' | ')} |`, `| --- | ${matrix.batches.map(() => '---:').join(' | ')} |`];
  for (const row of matrix.rows) {
    const cells = matrix.batches.map((b) => {
      const x = row.speedups.get(b);
      return x === undefined ? '–' : formatSpeedup(x);
    });
    lines.push(`| ${escapeCell(row.comparison)} | ${cells.join(' | ')} |`);
  }
  return lines;
}

/** Every ratio on its own line (the full list: `--verbose`, bench.md). */
export function ratioListLines(result: BenchResult): string[] {
  return result.ratios.map(
    (r) =>
      `- ${sideName(r.faster, result)} vs ${sideName(r.slower, result)}, batch ${r.batch}: ${formatSpeedup(r.speedup)}${r.cpuSpeedup ? ` (by CPU time ${formatSpeedup(r.cpuSpeedup)})` : ''}`,
  );
}
