import { planeCount, formatPlaneSelection } from './format';
import { selectionOf, type BenchModel, type BenchResult, type BenchRow, type Candidate } from './result-schemas';
import type { ReportInput } from './report-input';
import { strongestFloatSide } from '@cbnn/bench/ratio-matrix';

/**
 * The paper's results table: baseline BNN, compact BNN and full precision, with the compact
 * model's compression and speedup over each of the other two.
 */
export interface ResultsRow {
  model: BenchModel;
  name: string;
  /** Input planes, e.g. `grey b7–b4 (4 planes)`; full precision reads 8-bit pixels. */
  input?: string;
  width?: number;
  testAccuracy?: number;
  /** Test accuracy minus the baseline BNN's, in percentage points. */
  deltaPoints?: number;
  bytes?: number;
  /** What `bytes` counts: the packed engine model or float32 weights. */
  bytesKind: 'packed' | 'float32';
  /** This row's bytes / the compact model's bytes (compact row: 1). */
  compression?: number;
  latency?: { median: number; q1: number; q3: number; runtime: string; threads: number; batch: number };
  /** How many times faster the compact model runs than this row (compact row: 1). */
  speedup?: number;
}

export const MODEL_NAMES: Record<BenchModel, string> = {
  baseline: 'Baseline BNN',
  compact: 'Compact BNN',
  fp: 'Full precision',
};

export function buildResultsRows(input: ReportInput): ResultsRow[] {
  const { search, bench } = input;
  const chosen: Candidate | undefined = search?.chosen === search?.baseline.name ? search?.baseline : search?.candidates.find((c) => c.name === search.chosen);

  const baselineSelection = search?.baseline.planes ?? selectionOf(input.baseline?.planes);
  const compactSelection = chosen?.planes ?? selectionOf(input.compact?.planes);
  const describeInput = (selection: Record<string, number[]> | undefined) =>
    selection ? `${formatPlaneSelection(selection)} (${planeCount(selection)} plane${planeCount(selection) === 1 ? '' : 's'})` : undefined;

  const rows: ResultsRow[] = [
    {
      model: 'baseline',
      name: MODEL_NAMES.baseline,
      input: describeInput(baselineSelection),
      width: search?.baseline.width ?? input.baseline?.width,
      testAccuracy: search?.baseline.testAccuracy ?? input.baseline?.metrics.testAccuracy ?? benchAccuracy(bench, 'baseline'),
      bytes: search?.baseline.packedBytes ?? input.baseline?.bytes.packed ?? benchBytes(bench, 'baseline'),
      bytesKind: 'packed',
    },
    {
      model: 'compact',
      name: MODEL_NAMES.compact,
      input: describeInput(compactSelection),
      width: chosen?.width ?? input.compact?.width,
      testAccuracy: chosen?.testAccuracy ?? input.compact?.metrics.testAccuracy ?? benchAccuracy(bench, 'compact'),
      bytes: chosen?.packedBytes ?? input.compact?.bytes.packed ?? benchBytes(bench, 'compact'),
      bytesKind: 'packed',
    },
    {
      model: 'fp',
      name: MODEL_NAMES.fp,
      input: input.dataset ? `8-bit pixels (${input.dataset.channelNames.join(', ')})` : '8-bit pixels',
      width: input.fp?.width,
      testAccuracy: search?.fullPrecision?.testAccuracy ?? input.fp?.metrics.testAccuracy ?? benchAccuracy(bench, 'fp'),
      bytes: search?.fullPrecision?.float32Bytes ?? input.fp?.bytes.float32 ?? benchBytes(bench, 'fp'),
      bytesKind: 'float32',
    },
  ];

  const [baseline, compact, fp] = rows;
  for (const row of rows) {
    if (row.testAccuracy !== undefined && baseline.testAccuracy !== undefined) {
      row.deltaPoints = (row.testAccuracy - baseline.testAccuracy) * 100;
    }
  }
  // The search's own ratios are authoritative (it knows exactly which files it compared).
  compact.compression = compact.bytes !== undefined ? 1 : undefined;
  baseline.compression = search?.compression.vsBaselinePacked ?? ratio(baseline.bytes, compact.bytes);
  fp.compression = search?.compression.vsFullPrecisionFloat32 ?? ratio(fp.bytes, compact.bytes);

  if (bench) attachRuntime(rows, bench);
  return rows;
}

/**
 * Latency and speedup per row. A bench ratio naming the compact model and this row's model
 * is used as is (measured side by side); for full precision, the ratio against the strongest
 * float runtime (the headline: beating a slow runtime says little). Otherwise the first rows of
 * both models are compared when their batch sizes match.
 */
function attachRuntime(rows: ResultsRow[], bench: BenchResult): void {
  const compact = rows.find((r) => r.model === 'compact')!;
  const strongest = strongestFloatSide(bench);
  const preferred = (side: { model: BenchModel; runtime: string; threads: number }): boolean =>
    side.model !== 'fp' || !strongest || (side.runtime === strongest.runtime && side.threads === strongest.threads);
  const ratios = [...bench.ratios].sort((a, b) => Number(preferred(b.faster) && preferred(b.slower)) - Number(preferred(a.faster) && preferred(a.slower)));
  let compactRow: BenchRow | undefined;
  for (const row of rows) {
    if (row.model === 'compact') continue;
    const asFaster = ratios.find((r) => r.faster.model === 'compact' && r.slower.model === row.model);
    const asSlower = ratios.find((r) => r.slower.model === 'compact' && r.faster.model === row.model);
    const pick = asFaster ?? asSlower;
    if (pick) {
      const compactSide = asFaster ? pick.faster : pick.slower;
      const otherSide = asFaster ? pick.slower : pick.faster;
      row.speedup = asFaster ? pick.speedup : 1 / pick.speedup;
      const measured = findBenchRow(bench, otherSide.model, otherSide.runtime, otherSide.threads, pick.batch);
      if (measured) row.latency = latencyOf(measured);
      compactRow ??= findBenchRow(bench, 'compact', compactSide.runtime, compactSide.threads, pick.batch);
    }
  }
  compactRow ??= bench.rows.find((r) => r.model === 'compact');
  if (compactRow) {
    compact.latency = latencyOf(compactRow);
    compact.speedup = 1;
  }
  for (const row of rows) {
    if (row.latency || row.model === 'compact') continue;
    const measured = bench.rows.find((r) => r.model === row.model && (!compactRow || r.batch === compactRow.batch));
    if (!measured) continue;
    row.latency = latencyOf(measured);
    if (compactRow && row.speedup === undefined) row.speedup = ratio(measured.latencyMs.median, compactRow.latencyMs.median);
  }
}

function findBenchRow(bench: BenchResult, model: BenchModel, runtime: string, threads: number, batch: number): BenchRow | undefined {
  return bench.rows.find((r) => r.model === model && r.runtime === runtime && r.threads === threads && r.batch === batch);
}

function latencyOf(row: BenchRow): NonNullable<ResultsRow['latency']> {
  return { ...row.latencyMs, runtime: row.runtime, threads: row.threads, batch: row.batch };
}

function benchAccuracy(bench: BenchResult | undefined, model: BenchModel): number | undefined {
  return bench?.rows.find((r) => r.model === model && r.accuracy !== undefined)?.accuracy;
}

function benchBytes(bench: BenchResult | undefined, model: BenchModel): number | undefined {
  return bench?.rows.find((r) => r.model === model)?.modelBytes;
}

function ratio(numerator: number | undefined, denominator: number | undefined): number | undefined {
  return numerator !== undefined && denominator !== undefined && denominator > 0 ? numerator / denominator : undefined;
}
