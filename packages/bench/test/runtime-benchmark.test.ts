import * as fs from 'node:fs';
import * as path from 'node:path';
import { InvalidInputError, standaloneStageContext } from '@cbnn/core';
import { selectBackend } from '@cbnn/train';
import { benchResultSchema, benchRuntimeStage, describeSide, engineKernel, readBenchResult, runRuntimeBenchmark, type BenchResult } from '../src';
import { tempDir, writeBnnFolder, writeFpFolder, writeTinyDataset } from './fixtures';

const root = tempDir('runtime');
const dirs = {
  dataset: path.join(root, 'dataset'),
  compact: path.join(root, 'compact'),
  search: path.join(root, 'search'),
  baseline: path.join(root, 'baseline'),
  fp: path.join(root, 'fp'),
};
const quick = { warmup: 1, runs: 3, batches: [1, 5], threads: [1, 2], minRunSeconds: 0.002, maxImages: 12 };

beforeAll(async () => {
  await selectBackend({ prefer: 'wasm', strict: true });
  writeTinyDataset(dirs.dataset);
  await writeBnnFolder(dirs.compact, { grey: [7, 6, 5] }, 0.0625, 1);
  await writeBnnFolder(dirs.baseline, { grey: [7, 6, 5, 4, 3, 2, 1, 0] }, 0.125, 2);
  await writeFpFolder(dirs.fp, 0.125, 3);
  // A pruning.select output: search.json beside chosen/, the compact model.
  fs.cpSync(dirs.compact, path.join(dirs.search, 'chosen'), { recursive: true });
  fs.writeFileSync(path.join(dirs.search, 'search.json'), '{}');
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('bench.runtime stage', () => {
  let result: BenchResult;
  /** The engine runtime label of a model's rows (they name the kernel families its engine ran). */
  const engineOf = (model: string): string => result.rows.find((r) => r.model === model && r.runtime.startsWith('cbnn'))!.runtime;
  const outDir = path.join(root, 'out');

  beforeAll(async () => {
    fs.mkdirSync(outDir);
    const metrics = await benchRuntimeStage.run(
      standaloneStageContext({
        stage: 'bench',
        params: benchRuntimeStage.params.parse(quick),
        inputs: { dataset: dirs.dataset, compact: dirs.search, baseline: dirs.baseline, fp: dirs.fp },
        outDir,
        tmpDir: path.join(root, 'tmp'),
        seed: 1,
        threads: 2,
      }),
    );
    result = readBenchResult(path.join(outDir, 'bench.json'));
    expect(metrics?.metrics?.speedupVsBaseline).toBeGreaterThan(0);
  });

  it('writes a bench.json that validates against the contract schema', () => {
    const raw = JSON.parse(fs.readFileSync(path.join(outDir, 'bench.json'), 'utf8'));
    expect(benchResultSchema.safeParse(raw).success).toBe(true);
    expect(raw.format).toBe('cbnn.bench');
    expect(raw.runs).toBe(3);
    expect(raw.warmup).toBe(1);
    expect(raw.machine.cores).toBeGreaterThanOrEqual(1);
    expect(raw.machine.node).toBe(process.version);
  });

  it('measures every side at every batch size, single-thread rows first', () => {
    const sides = new Set(result.rows.map((r) => describeSide(r)));
    expect([...sides].sort()).toEqual(
      [
        `compact BNN, ${engineOf('compact')}, 1 thread`,
        `baseline BNN, ${engineOf('baseline')}, 1 thread`,
        `compact BNN, ${engineOf('compact')}, 2 threads`,
        `baseline BNN, ${engineOf('baseline')}, 2 threads`,
        'baseline BNN, tfjs-wasm cbnn popcount conv + xnnpack f32 (float ±1), 1 thread',
        'full precision, tfjs-wasm xnnpack f32, 1 thread',
        'full precision, onnxruntime cpu (mlas f32), 1 thread',
        'full precision, onnxruntime cpu (mlas f32), 2 threads',
      ].sort(),
    );
    expect(result.rows).toHaveLength(8 * 2);
    const firstMulti = result.rows.findIndex((r) => r.threads > 1);
    expect(result.rows.slice(firstMulti).every((r) => r.threads > 1)).toBe(true);
    for (const r of result.rows) {
      expect(r.latencyMs.q1).toBeLessThanOrEqual(r.latencyMs.median);
      expect(r.latencyMs.median).toBeLessThanOrEqual(r.latencyMs.q3);
      expect(r.imagesPerSecond.median).toBeCloseTo(r.batch / (r.latencyMs.median / 1e3), 6);
      expect(r.modelBytes).toBeGreaterThan(0);
      expect(r.peakRssBytes).toBeGreaterThan(0);
    }
  });

  it('takes the compact model from the search folder and reads its real size on disk', () => {
    const compactRow = result.rows.find((r) => r.model === 'compact')!;
    expect(compactRow.modelBytes).toBe(fs.statSync(path.join(dirs.compact, 'model.cbnn')).size);
    expect(result.models?.compact.dir).toBe(path.join(dirs.search, 'chosen'));
    expect(result.models?.compact.planes).toBe(3);
  });

  it('gets the same accuracy from a model on every runtime that runs it', () => {
    const acc = (model: string, runtime: string): number | undefined => result.rows.find((r) => r.model === model && r.runtime.startsWith(runtime))?.accuracy;
    // The engine computes exactly what the tfjs float simulation computes; onnxruntime what tfjs computes.
    expect(acc('baseline', 'cbnn')).toBe(acc('baseline', 'tfjs'));
    expect(acc('fp', 'onnxruntime')).toBe(acc('fp', 'tfjs'));
    expect(result.notes?.some((n) => n.includes('exported its TensorFlow.js model'))).toBe(true);
    expect(result.notes?.some((n) => n.startsWith('Untrained stand-in models'))).toBe(true);
  });

  it('computes ratios from the same run, each naming both sides', () => {
    expect(result.ratios).toHaveLength(11 * 2);
    for (const q of result.ratios) {
      expect(q.label).toContain(describeSide(q.faster));
      expect(q.label).toContain(describeSide(q.slower));
      expect(q.label).toContain(`batch ${q.batch}`);
      const fast = result.rows.find((r) => r.batch === q.batch && describeSide(r) === describeSide(q.faster))!;
      const slow = result.rows.find((r) => r.batch === q.batch && describeSide(r) === describeSide(q.slower))!;
      expect(q.speedup).toBeCloseTo(slow.latencyMs.median / fast.latencyMs.median, 9);
    }
    expect(result.ratios.map((q) => `${describeSide(q.faster)} / ${describeSide(q.slower)}`)).toContain(
      `compact BNN, ${engineOf('compact')}, 1 thread / full precision, tfjs-wasm xnnpack f32, 1 thread`,
    );
    expect(result.ratios.map((q) => `${describeSide(q.faster)} / ${describeSide(q.slower)}`)).toContain(
      `compact BNN, ${engineOf('compact')}, 2 threads / full precision, onnxruntime cpu (mlas f32), 2 threads`,
    );
    // both sides' kernels are recorded with every ratio
    for (const q of result.ratios) {
      expect(q.faster.kernel).toBeTruthy();
      expect(q.slower.kernel).toBeTruthy();
    }
  });

  it('labels every engine row with the kernel families its layers ran, and no other', () => {
    const engineRows = result.rows.filter((r) => r.runtime.startsWith('cbnn'));
    expect(engineRows.length).toBeGreaterThan(0);
    for (const r of engineRows) {
      const kernels = r.kernels ?? [];
      expect(kernels.length).toBeGreaterThan(0);
      expect(r.runtime).toBe(`cbnn wasm${engineKernel('wasm', kernels) === 'i8x16.popcnt' ? '-simd' : ''} (${engineKernel('wasm', kernels)})`);
      expect(r.runtime.includes('tap tables')).toBe(kernels.some((k) => /taplut|lut9/.test(k)));
      expect(r.runtime.includes('i64.popcnt')).toBe(kernels.some((k) => k.includes('i64popcnt')));
    }
  });

  it('writes bench.md with the table and the ratios', () => {
    const md = fs.readFileSync(path.join(outDir, 'bench.md'), 'utf8');
    expect(md).toContain('| model | runtime | threads | batch | latency ms | images/s |');
    expect(md).toContain(`| compact BNN | ${engineOf('compact')} | 1 | 1 |`);
    expect(md).toContain('## Speedups (same run)');
    const lines = md.split('\n');
    // 2 rows (one per batch) + 8 ratios (compact and baseline on 1 and 2 threads vs it, per batch)
    expect(
      lines.filter((l) => l.includes('onnxruntime cpu (mlas f32) | 2 |') || l.includes('| full precision, onnxruntime cpu (mlas f32), 2 threads |')),
    ).toHaveLength(10);
    // The matrix: one row per comparison against it (both sides named once), one column per batch.
    const matrix = lines.filter((l) => /^\| .* vs full precision \(w [\d.]+, onnxruntime cpu \(mlas f32\), 2 threads\) \| [\d.]+× \| [\d.]+× \|$/.test(l));
    expect(matrix).toHaveLength(4);
    expect(matrix[0]).toMatch(/^\| compact BNN \(w /);
    expect(md).toContain('## Per layer (cbnn engine, 1 thread, batch 5)');
    expect(md).toMatch(/\| compact BNN \| conv 3->\d+ .*\| b-conv3x3-/);
  });

  it('records the kernel variants the engine ran, the per-layer profile and the GEMM of the same run', () => {
    const compactRow = result.rows.find((r) => r.model === 'compact' && r.threads === 1)!;
    expect(compactRow.kernel).toMatch(/^(i8x16\.add tap tables)?( \+ )?(i64\.popcnt|i8x16\.popcnt)?$/);
    expect(compactRow.kernel).toBe(engineKernel('wasm', compactRow.kernels ?? []));
    expect(compactRow.kernels?.length).toBeGreaterThan(2);
    expect(compactRow.gBinaryMacsPerSecond).toBeGreaterThan(0);
    expect(result.gemm?.gBinaryMacsPerSecond).toBeGreaterThan(0);
    const profile = (result.profiles ?? []).find((p) => p.model === 'compact')!;
    expect(profile.steps.map((s) => s.variant)).toEqual(compactRow.kernels);
    expect(profile.binaryMacsPerImage).toBe(profile.steps.reduce((a, s) => a + s.binaryMacsPerImage, 0));
  });
});

describe('runRuntimeBenchmark inputs', () => {
  it('can leave out the tfjs and onnxruntime sides', async () => {
    const result = await runRuntimeBenchmark(
      { dataset: dirs.dataset, compact: dirs.compact, baseline: dirs.baseline, fp: dirs.fp },
      { ...quick, batches: [2], threads: [1], tfjs: false, onnx: false, engine: 'reference' },
    );
    expect(result.rows.map((r) => describeSide(r))).toEqual([
      'compact BNN, cbnn reference (TypeScript), 1 thread',
      'baseline BNN, cbnn reference (TypeScript), 1 thread',
    ]);
    expect(result.ratios.map((q) => q.label)).toEqual([
      'compact BNN, cbnn reference (TypeScript), 1 thread vs baseline BNN, cbnn reference (TypeScript), 1 thread (batch 2)',
    ]);
  });

  it('rejects a compact folder that is neither a model nor a search output, naming it', async () => {
    await expect(runRuntimeBenchmark({ dataset: dirs.dataset, compact: root, baseline: dirs.baseline, fp: dirs.fp }, quick)).rejects.toThrow(InvalidInputError);
    await expect(runRuntimeBenchmark({ dataset: dirs.dataset, compact: root, baseline: dirs.baseline, fp: dirs.fp }, quick)).rejects.toThrow(
      /neither model-info.json nor chosen/,
    );
  });

  it('rejects a full-precision folder given as the baseline', async () => {
    await expect(runRuntimeBenchmark({ dataset: dirs.dataset, compact: dirs.compact, baseline: dirs.fp, fp: dirs.fp }, quick)).rejects.toThrow(
      /baseline model must be a 'bnn' model/,
    );
  });

  it('rejects bad params by field', () => {
    const r = benchRuntimeStage.params.safeParse({ batches: [0] });
    expect(r.success).toBe(false);
  });
});
