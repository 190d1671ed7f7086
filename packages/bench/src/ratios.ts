import type { BenchRatio, BenchRow, BenchSide } from './bench-format';
import { describeSide, sameSide } from './runtime-side';

/** A comparison to report: `faster` is the side expected to win; the speedup says by how much. */
export interface RatioSpec {
  faster: BenchSide;
  slower: BenchSide;
}

/** 'compact BNN, cbnn wasm (i64.popcnt), 1 thread vs full precision, tfjs-wasm xnnpack f32, 1 thread (batch 64)' */
export function ratioLabel(faster: BenchSide, slower: BenchSide, batch: number): string {
  return `${describeSide(faster)} vs ${describeSide(slower)} (batch ${batch})`;
}

const sideOf = (row: BenchRow): BenchSide => ({ model: row.model, runtime: row.runtime, threads: row.threads });

/**
 * Speedups from rows of one run: for every spec and every batch size measured on both sides,
 * slower's median latency / faster's median latency. Specs whose sides were not measured are
 * skipped.
 */
export function computeRatios(rows: readonly BenchRow[], specs: readonly RatioSpec[]): BenchRatio[] {
  const ratios: BenchRatio[] = [];
  const batches = [...new Set(rows.map((r) => r.batch))].sort((a, b) => a - b);
  for (const spec of specs) {
    for (const batch of batches) {
      const fast = rows.find((r) => r.batch === batch && sameSide(sideOf(r), spec.faster));
      const slow = rows.find((r) => r.batch === batch && sameSide(sideOf(r), spec.slower));
      if (!fast || !slow || !(fast.latencyMs.median > 0)) continue;
      ratios.push({
        label: ratioLabel(spec.faster, spec.slower, batch),
        faster: { ...spec.faster },
        slower: { ...spec.slower },
        batch,
        speedup: slow.latencyMs.median / fast.latencyMs.median,
        ...(slow.cpuMs && fast.cpuMs && fast.cpuMs.median > 0 && slow.cpuMs.median > 0 ? { cpuSpeedup: slow.cpuMs.median / fast.cpuMs.median } : {}),
      });
    }
  }
  return ratios;
}

/** Single-thread figures first (as Larq Compute Engine reports them), then by model and batch. */
export function orderRows(rows: readonly BenchRow[]): BenchRow[] {
  const modelRank = { compact: 0, baseline: 1, fp: 2 } as const;
  return [...rows].sort(
    (a, b) =>
      Number(a.threads !== 1) - Number(b.threads !== 1) ||
      a.batch - b.batch ||
      modelRank[a.model] - modelRank[b.model] ||
      a.threads - b.threads ||
      a.runtime.localeCompare(b.runtime),
  );
}
