import type { BenchResult, BenchRow, BenchSide } from '../src/bench-format';
import { headlineText, ratioListLines, ratioMatrix, ratioMatrixMarkdown, sideName, strongestFloatSide } from '../src/ratio-matrix';
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
    const specs = ratioSpecs([compact, baseline, compact2, baseline2, baselineTfjs, fpTfjs, fpOrt1, fpOrt2]).map(
      (s) => `${describeSide(s.faster)} | ${describeSide(s.slower)}`,
    );
    expect(specs).toHaveLength(8 + 3);
    expect(specs.slice(8)).toEqual([
      `${describeSide(compact2)} | ${describeSide(fpOrt2)}`,
      `${describeSide(compact2)} | ${describeSide(baseline2)}`,
      `${describeSide(baseline2)} | ${describeSide(fpOrt2)}`,
    ]);
  });
});

describe('computeRatios', () => {
  const rows = [
    row('compact', 'cbnn wasm (i64.popcnt)', 1, 1, 0.5),
    row('fp', 'tfjs-wasm xnnpack f32', 1, 1, 6),
    row('compact', 'cbnn wasm (i64.popcnt)', 1, 64, 4),
    row('fp', 'tfjs-wasm xnnpack f32', 1, 64, 100),
    row('fp', 'onnxruntime cpu (mlas f32)', 2, 64, 2),
  ];

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

describe('ratio matrix, headline and full list (what the summary and bench.md show)', () => {
  const at = (s: BenchSide, batch: number, latency: number): BenchRow => row(s.model, s.runtime, s.threads, batch, latency);
  const rows = [
    at(compact, 1, 0.1),
    at(baseline, 1, 0.25),
    at(fpTfjs, 1, 2.5),
    at(fpOrt1, 1, 0.5),
    at(fpOrt2, 1, 0.4),
    at(compact, 256, 28),
    at(baseline, 256, 70),
    at(fpTfjs, 256, 580),
    at(fpOrt1, 256, 126),
    at(fpOrt2, 256, 90),
  ];
  const sides = [compact, baseline, fpTfjs, fpOrt1, fpOrt2];
  const result = (): BenchResult => ({
    format: 'cbnn.bench',
    version: 1,
    date: '2026-12-01',
    machine: { cpu: 'x', cores: 2, node: 'v20', os: 'linux' },
    warmup: 1,
    runs: 3,
    rows,
    ratios: computeRatios(rows, ratioSpecs(sides)),
    models: { compact: { dir: 'c', planes: 1, width: 0.19 }, baseline: { dir: 'b', planes: 8, width: 0.5 }, fp: { dir: 'f', width: 0.5 } },
  });

  it('puts one comparison per row (both sides named once, with width) and one batch per column', () => {
    const m = ratioMatrix(result());
    expect(m.batches).toEqual([1, 256]);
    expect(m.rows).toHaveLength(7);
    expect(m.rows[1].comparison).toBe('compact BNN (w 0.19, cbnn wasm (i64.popcnt), 1 thread) vs full precision (w 0.5, onnxruntime cpu (mlas f32), 1 thread)');
    expect(m.rows[1].speedups.get(1)).toBeCloseTo(5, 9);
    expect(m.rows[1].speedups.get(256)).toBeCloseTo(4.5, 9);
    const md = ratioMatrixMarkdown(m);
    expect(md).toHaveLength(2 + 7);
    expect(md[3]).toBe(
      '| compact BNN (w 0.19, cbnn wasm (i64.popcnt), 1 thread) vs full precision (w 0.5, onnxruntime cpu (mlas f32), 1 thread) | 5.00× | 4.50× |',
    );
    expect(ratioListLines(result())).toHaveLength(14);
    expect(ratioListLines(result())[2]).toBe(
      '- compact BNN (w 0.19, cbnn wasm (i64.popcnt), 1 thread) vs full precision (w 0.5, onnxruntime cpu (mlas f32), 1 thread), batch 1: 5.00×',
    );
  });

  it('heads with the strongest float runtime on as many threads as the compact model, not the slowest', () => {
    expect(strongestFloatSide(result())).toEqual(fpOrt1);
    expect(headlineText(result())).toBe(
      'Speedup of the compact BNN (w 0.19, cbnn wasm (i64.popcnt), 1 thread) over full precision (w 0.5, onnxruntime cpu (mlas f32), 1 thread), the fastest float runtime measured: 5.00× at batch 1, 4.50× at batch 256. ' +
        'Over the baseline BNN (w 0.5, cbnn wasm (i64.popcnt), 1 thread): 2.50× at batch 1, 2.50× at batch 256.',
    );
    // bench.json's ratio sides carry the kernel label; the rows the strongest side is read from too.
    const labelled = result();
    labelled.ratios = labelled.ratios.map((q) => ({ ...q, faster: { ...q.faster, kernel: 'k' }, slower: { ...q.slower, kernel: 'k' } }));
    expect(headlineText(labelled)).toBe(headlineText(result())!.replace(/\(w ([\d.]+), ([^)]*\)), 1 thread\)/g, '(w $1, $2, k, 1 thread)'));
    // If tfjs were the faster float runtime, it would be the headline.
    const flipped = result();
    flipped.rows = flipped.rows.map((r) =>
      r.runtime === fpOrt1.runtime && r.threads === 1 ? { ...r, latencyMs: { ...r.latencyMs, median: r.latencyMs.median * 10 } } : r,
    );
    expect(strongestFloatSide(flipped)).toEqual(fpTfjs);
  });

  it('reads what bench.json records and no more: no widths; a kernel the runtime name does not already say; CPU-time ratios', () => {
    const r = result();
    delete r.models;
    expect(sideName({ ...compact, kernel: 'i64.popcnt' }, r)).toBe('compact BNN (cbnn wasm (i64.popcnt), 1 thread)');
    expect(sideName({ model: 'compact', runtime: 'cbnn wasm', threads: 1, kernel: 'i8x16.popcnt' }, r)).toBe('compact BNN (cbnn wasm, i8x16.popcnt, 1 thread)');
    expect(sideName(fpTfjs, r)).toBe('full precision (tfjs-wasm xnnpack f32, 1 thread)');
    r.ratios[0].cpuSpeedup = 21.5;
    expect(ratioListLines(r)[0]).toMatch(/, batch 1: 25\.0× \(by CPU time 21\.5×\)$/);
  });
});
