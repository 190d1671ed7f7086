import type { BenchRow } from '../src/bench-format';
import { computeRatios, orderRows, ratioLabel } from '../src/ratios';
import { describeSide } from '../src/runtime-side';
import { ratioSpecs } from '../src/runtime-benchmark';
import { calibrateCalls, timeCall } from '../src/timing';

const row = (model: BenchRow['model'], runtime: string, threads: number, batch: number, latency: number): BenchRow => ({
  model,
  runtime,
  threads,
  batch,
  latencyMs: { median: latency, q1: latency * 0.9, q3: latency * 1.1 },
  imagesPerSecond: { median: (batch * 1000) / latency, q1: (batch * 1000) / (latency * 1.1), q3: (batch * 1000) / (latency * 0.9) },
  modelBytes: 100,
  peakRssBytes: 1,
});

const compact = { model: 'compact', runtime: 'cbnn wasm (i64.popcnt)', threads: 1 } as const;
const baseline = { model: 'baseline', runtime: 'cbnn wasm (i64.popcnt)', threads: 1 } as const;
const baselineTfjs = { model: 'baseline', runtime: 'tfjs-wasm cbnn popcount conv + xnnpack f32 (float ±1)', threads: 1 } as const;
const fpTfjs = { model: 'fp', runtime: 'tfjs-wasm xnnpack f32', threads: 1 } as const;
const fpOrt1 = { model: 'fp', runtime: 'onnxruntime cpu (mlas f32)', threads: 1 } as const;
const fpOrt2 = { model: 'fp', runtime: 'onnxruntime cpu (mlas f32)', threads: 2 } as const;

describe('side and ratio naming', () => {
  it('names model, runtime and threads', () => {
    expect(describeSide(compact)).toBe('compact BNN, cbnn wasm (i64.popcnt), 1 thread');
    expect(describeSide(fpOrt2)).toBe('full precision, onnxruntime cpu (mlas f32), 2 threads');
    expect(ratioLabel(compact, fpTfjs, 64)).toBe('compact BNN, cbnn wasm (i64.popcnt), 1 thread vs full precision, tfjs-wasm xnnpack f32, 1 thread (batch 64)');
  });

  it('plans the comparisons the issue asks for, compact first', () => {
    const specs = ratioSpecs([compact, baseline, baselineTfjs, fpTfjs, fpOrt1, fpOrt2]).map((s) => `${describeSide(s.faster)} | ${describeSide(s.slower)}`);
    expect(specs).toEqual([
      `${describeSide(compact)} | ${describeSide(fpTfjs)}`,
      `${describeSide(compact)} | ${describeSide(fpOrt1)}`,
      `${describeSide(compact)} | ${describeSide(fpOrt2)}`,
      `${describeSide(compact)} | ${describeSide(baseline)}`,
      `${describeSide(baseline)} | ${describeSide(baselineTfjs)}`,
      `${describeSide(baseline)} | ${describeSide(fpTfjs)}`,
      `${describeSide(baseline)} | ${describeSide(fpOrt1)}`,
      `${describeSide(baseline)} | ${describeSide(fpOrt2)}`,
    ]);
  });

  it('pairs the engine on 2 threads with onnxruntime on 2 threads and the baseline on 2 threads', () => {
    const compact2 = { ...compact, threads: 2 };
    const baseline2 = { ...baseline, threads: 2 };
    const specs = ratioSpecs([compact, baseline, compact2, baseline2, baselineTfjs, fpTfjs, fpOrt1, fpOrt2]).map((s) => `${describeSide(s.faster)} | ${describeSide(s.slower)}`);
    expect(specs).toHaveLength(8 + 3);
    expect(specs.slice(8)).toEqual([
      `${describeSide(compact2)} | ${describeSide(fpOrt2)}`,
      `${describeSide(compact2)} | ${describeSide(baseline2)}`,
      `${describeSide(baseline2)} | ${describeSide(fpOrt2)}`,
    ]);
  });
});

describe('computeRatios', () => {
  const rows = [row('compact', 'cbnn wasm (i64.popcnt)', 1, 1, 0.5), row('fp', 'tfjs-wasm xnnpack f32', 1, 1, 6), row('compact', 'cbnn wasm (i64.popcnt)', 1, 64, 4), row('fp', 'tfjs-wasm xnnpack f32', 1, 64, 100), row('fp', 'onnxruntime cpu (mlas f32)', 2, 64, 2)];

  it('divides the slower median latency by the faster one, per batch size', () => {
    const ratios = computeRatios(rows, [{ faster: compact, slower: fpTfjs }]);
    expect(ratios.map((q) => [q.batch, q.speedup])).toEqual([
      [1, 12],
      [64, 25],
    ]);
    expect(ratios[0].faster).toEqual(compact);
    expect(ratios[0].slower).toEqual(fpTfjs);
  });

  it('reports a "speedup" below 1 honestly when the expected winner loses', () => {
    const [q] = computeRatios(rows, [{ faster: compact, slower: fpOrt2 }]);
    expect(q.batch).toBe(64);
    expect(q.speedup).toBe(0.5);
  });

  it('skips comparisons whose sides were not both measured', () => {
    expect(computeRatios(rows, [{ faster: compact, slower: baseline }])).toEqual([]);
  });

  it('orders single-thread rows first, then by batch and model', () => {
    const ordered = orderRows([rows[4], rows[3], rows[2], rows[1], rows[0]]).map((r) => `${r.model}/${r.threads}/${r.batch}`);
    expect(ordered).toEqual(['compact/1/1', 'fp/1/1', 'compact/1/64', 'fp/1/64', 'fp/2/64']);
  });
});

describe('timing', () => {
  it('times the requested number of runs, repeating fast calls within a run', async () => {
    let calls = 0;
    const samples = await timeCall(() => calls++, { warmup: 2, runs: 5, minRunSeconds: 0.002 });
    expect(samples.secondsPerCall).toHaveLength(5);
    expect(samples.callsPerRun).toBeGreaterThan(1);
    expect(samples.secondsPerCall.every((s) => s > 0)).toBe(true);
    expect(calls).toBeGreaterThanOrEqual(7 * samples.callsPerRun);
  });

  it('awaits asynchronous calls', async () => {
    let resolved = 0;
    const n = await calibrateCalls(() => new Promise<void>((r) => setImmediate(() => (resolved++, r()))), { minRunSeconds: 0.001, maxCallsPerRun: 8 });
    expect(n).toBeLessThanOrEqual(8);
    expect(resolved).toBeGreaterThan(1);
  });
});
