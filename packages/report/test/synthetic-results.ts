import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeDataset } from '@cbnn/core';
import type { BenchResult, ModelInfo, PlanResult, SearchResult, SensitivityResult } from '../src';

/**
 * A realistic set of result files for an MNIST run (grey channel, 8 planes), in the formats of
 * docs/contracts.md, written into real artifact folders so the loader is exercised too.
 */
const BASELINE_ACC = 0.9812;
// Accuracy drop (points) when a single plane is randomized, MSB first: the paper's shape.
const SINGLE_DROP: Record<number, number> = { 7: 41.3, 6: 9.8, 5: 2.1, 4: 0.62, 3: 0.18, 2: 0.07, 1: 0.03, 0: 0.01 };

export function syntheticSensitivity(): SensitivityResult {
  const rows: SensitivityResult['rows'] = [];
  for (const mode of ['randomize', 'zero'] as const) {
    const scale = mode === 'zero' ? 0.8 : 1;
    for (let bit = 7; bit >= 0; bit--) {
      const drop = SINGLE_DROP[bit] * scale;
      rows.push({
        scope: 'single',
        mode,
        channel: 'grey',
        bits: [bit],
        label: `grey:b${bit}`,
        accuracy: BASELINE_ACC - drop / 100,
        accuracyStd: mode === 'zero' ? 0 : drop / 400 + 0.0004,
        dropPoints: drop,
        repeats: mode === 'zero' ? 1 : 5,
      });
    }
    for (let top = 0; top <= 7; top++) {
      const bits = Array.from({ length: top + 1 }, (_, i) => i);
      const drop = bits.reduce((d, b) => d + SINGLE_DROP[b] * scale * 1.15, 0);
      const acc = Math.max(0.1, BASELINE_ACC - drop / 100);
      rows.push({
        scope: 'cumulative',
        mode,
        channel: 'grey',
        bits,
        label: top === 0 ? 'grey:b0' : `grey:b0-b${top}`,
        accuracy: acc,
        accuracyStd: mode === 'zero' ? 0 : 0.0015,
        dropPoints: (BASELINE_ACC - acc) * 100,
        repeats: mode === 'zero' ? 1 : 5,
      });
    }
  }
  return { format: 'cbnn.sensitivity', version: 1, split: 'validation', records: 2000, seed: 7, repeats: 5, baselineAccuracy: BASELINE_ACC, rows };
}

export function syntheticPlan(): PlanResult {
  return {
    format: 'cbnn.plan',
    version: 2,
    policy: 'lsb-first',
    split: 'validation',
    records: 2000,
    mode: 'randomize',
    budgetPoints: 1,
    baselineAccuracy: BASELINE_ACC,
    keptPlanes: { grey: [7, 6, 5, 4] },
    droppedPlanes: { grey: [3, 2, 1, 0] },
    steps: [
      { drop: 'grey:b0', accuracy: 0.9811, dropPoints: 0.01, accepted: true },
      { drop: 'grey:b1', accuracy: 0.9807, dropPoints: 0.05, accepted: true },
      { drop: 'grey:b2', accuracy: 0.9799, dropPoints: 0.13, accepted: true },
      { drop: 'grey:b3', accuracy: 0.9776, dropPoints: 0.36, accepted: true },
      { drop: 'grey:b4', accuracy: 0.9701, dropPoints: 1.11, accepted: false },
    ],
  };
}

function candidate(
  planes: number,
  width: number,
  validation: number,
  test: number,
  budget = true,
  role: 'baseline' | 'candidate' | 'control' = 'candidate',
): SearchResult['candidates'][number] {
  const bits = Array.from({ length: planes }, (_, i) => 7 - i);
  const binaryParams = Math.round((784 * planes * 512 + 512 * 512 + 5120) * width);
  const packedBytes = Math.ceil(binaryParams / 8) + 4200;
  const name = role === 'control' ? `all-w${width}` : `${bits.map((b) => `b${b}`).join('')}-w${width}`;
  return {
    name,
    role,
    planes: { grey: bits },
    planeCount: planes,
    width,
    binaryParams,
    floatParams: Math.round(2 * 1034 * width),
    packedBytes,
    float32Bytes: binaryParams * 4,
    firstLayerMacs: 784 * 9 * planes * Math.round(64 * width),
    inputBitsPerImage: 784 * planes,
    validationAccuracy: validation,
    testAccuracy: test,
    validation: { n: 1, mean: validation, std: 0 },
    test: { n: 1, mean: test, std: 0 },
    testInterval95: { low: test - 0.006, high: test + 0.005, method: 'wilson' },
    seeds: [
      {
        instance: `search-${name}-s1`,
        seed: 1,
        validationAccuracy: validation,
        testAccuracy: test,
        bestEpoch: 9,
        epochs: 10,
        epochsPlanned: 10,
        stoppedEarly: false,
        stopReason: null,
      },
    ],
    validationDropPoints: (0.9806 - validation) * 100,
    dropStandardErrorPoints: 0,
    withinBudget: budget,
    compressionVsBaseline: 1,
    compressionVsFullPrecision: 1,
  };
}

export function syntheticSearch(): SearchResult {
  const baseline = candidate(8, 1, 0.9806, BASELINE_ACC, true, 'baseline');
  baseline.name = 'baseline';
  const candidates = [
    candidate(4, 1, 0.9781, 0.9779),
    candidate(4, 0.5, 0.9742, 0.9748),
    candidate(4, 0.25, 0.9598, 0.9602, false),
    candidate(5, 0.5, 0.9755, 0.9751),
    candidate(6, 0.5, 0.9768, 0.9771),
    candidate(3, 1, 0.9602, 0.9611, false),
  ];
  const controls = [
    candidate(8, 1, 0.9801, 0.9808, true, 'control'),
    candidate(8, 0.5, 0.9751, 0.9752, true, 'control'),
    candidate(8, 0.25, 0.9612, 0.9618, false, 'control'),
  ];
  for (const c of [baseline, ...candidates, ...controls]) {
    c.compressionVsBaseline = baseline.packedBytes / c.packedBytes;
    c.compressionVsFullPrecision = 2_747_432 / c.packedBytes;
  }
  const chosen = candidates[1];
  const control = controls[1];
  const ablation = candidates.flatMap((c) => {
    const k = controls.find((x) => x.width === c.width);
    if (!k) return [];
    return [
      {
        width: c.width,
        pruned: c.name,
        control: k.name,
        prunedPlaneCount: c.planeCount,
        controlPlaneCount: 8,
        validationDeltaPoints: { mean: (c.validationAccuracy - k.validationAccuracy) * 100, std: 0 },
        testDeltaPoints: { mean: (c.testAccuracy - k.testAccuracy) * 100, std: 0 },
        prunedBytes: c.packedBytes,
        controlBytes: k.packedBytes,
        prunedFirstLayerMacs: c.firstLayerMacs,
        controlFirstLayerMacs: k.firstLayerMacs,
        prunedInputBits: c.inputBitsPerImage,
        controlInputBits: k.inputBitsPerImage,
      },
    ];
  });
  return {
    format: 'cbnn.search',
    version: 2,
    budgetPoints: 1,
    selection: 'validation',
    rule: { name: 'mean-drop-plus-se', text: 'mean drop + SE <= budget' },
    seeds: [1],
    baseline,
    fullPrecision: { testAccuracy: 0.9861, float32Bytes: 2_747_432, onnxBytes: 2_751_120 },
    candidates,
    controls,
    chosen: chosen.name,
    chosenInstance: chosen.seeds[0].instance,
    controlInstance: control.seeds[0].instance,
    compression: { vsBaselinePacked: baseline.packedBytes / chosen.packedBytes, vsFullPrecisionFloat32: 2_747_432 / chosen.packedBytes },
    ablation,
    repeatedInstances: [],
    epochsSaved: 0,
    attribution: [
      { quantity: 'test accuracy (points)', baseline: baseline.testAccuracy * 100, control: control.testAccuracy * 100, chosen: chosen.testAccuracy * 100 },
      { quantity: 'packed bytes', baseline: baseline.packedBytes, control: control.packedBytes, chosen: chosen.packedBytes },
      { quantity: 'input bits per image', baseline: baseline.inputBitsPerImage!, control: control.inputBitsPerImage!, chosen: chosen.inputBitsPerImage! },
    ],
  };
}

export function syntheticBench(): BenchResult {
  const row = (model: 'compact' | 'baseline' | 'fp', runtime: string, median: number, bytes: number, accuracy: number) => ({
    model,
    runtime,
    threads: 1,
    batch: 64,
    latencyMs: { median, q1: median * 0.96, q3: median * 1.07 },
    imagesPerSecond: { median: (64 * 1000) / median, q1: (64 * 1000) / (median * 1.07), q3: (64 * 1000) / (median * 0.96) },
    modelBytes: bytes,
    accuracy,
    peakRssBytes: 180_000_000,
  });
  return {
    format: 'cbnn.bench',
    version: 1,
    date: '2026-11-26T10:00:00Z',
    machine: { cpu: 'Intel(R) Xeon(R) CPU @ 2.20GHz', cores: 2, node: 'v20.19.0', os: 'Linux 6.1 x64' },
    warmup: 3,
    runs: 15,
    rows: [
      row('compact', 'cbnn wasm-simd', 1.9, 57_000, 0.9748),
      row('baseline', 'cbnn wasm-simd', 3.8, 126_000, 0.9812),
      row('fp', 'tfjs-wasm xnnpack', 18.6, 2_747_432, 0.9861),
      row('fp', 'onnxruntime cpu', 9.1, 2_751_120, 0.9861),
    ],
    ratios: [
      {
        label: 'compact vs baseline BNN',
        faster: { model: 'compact', runtime: 'cbnn wasm-simd', threads: 1 },
        slower: { model: 'baseline', runtime: 'cbnn wasm-simd', threads: 1 },
        batch: 64,
        speedup: 2.0,
      },
      {
        label: 'compact vs full precision',
        faster: { model: 'compact', runtime: 'cbnn wasm-simd', threads: 1 },
        slower: { model: 'fp', runtime: 'tfjs-wasm xnnpack', threads: 1 },
        batch: 64,
        speedup: 9.79,
      },
      {
        label: 'compact vs full precision (onnxruntime)',
        faster: { model: 'compact', runtime: 'cbnn wasm-simd', threads: 1 },
        slower: { model: 'fp', runtime: 'onnxruntime cpu', threads: 1 },
        batch: 64,
        speedup: 4.79,
      },
    ],
  };
}

export function syntheticModelInfo(kind: 'bnn' | 'fp', testAccuracy: number, width = 1): ModelInfo {
  return {
    kind,
    arch: 'mlp',
    width,
    planes: kind === 'bnn' ? { selection: { grey: [7, 6, 5, 4, 3, 2, 1, 0] } } : undefined,
    firstLayer: 'binary',
    classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    backend: 'tfjs-wasm (XNNPACK, SIMD)',
    seed: kind === 'bnn' ? 11 : 12,
    params: { binary: kind === 'bnn' ? 1_000_000 : 0, float: 2068 },
    bytes: { packed: kind === 'bnn' ? 126_000 : undefined, float32: 2_747_432 },
    metrics: { validationAccuracy: testAccuracy - 0.0005, testAccuracy, bestEpoch: 9, epochs: 10 },
  };
}

export const SYNTHETIC_DAG = {
  stages: [
    { name: 'data', handler: 'bitslice.dataset', status: 'cached' },
    { name: 'baseline', handler: 'train.bnn', status: 'cached' },
    { name: 'fp', handler: 'train.fp', status: 'ran' },
    { name: 'sensitivity', handler: 'sensitivity.planes' },
    { name: 'plan', handler: 'pruning.plan' },
    { name: 'search', handler: 'pruning.select' },
    { name: 'bench', handler: 'bench.runtime' },
    { name: 'report', handler: 'report.html' },
  ],
  edges: [
    { from: 'data', to: 'baseline' },
    { from: 'data', to: 'fp' },
    { from: 'data', to: 'sensitivity' },
    { from: 'baseline', to: 'sensitivity' },
    { from: 'sensitivity', to: 'plan' },
    { from: 'baseline', to: 'plan' },
    { from: 'plan', to: 'search' },
    { from: 'baseline', to: 'search' },
    { from: 'search', to: 'bench' },
    { from: 'baseline', to: 'bench' },
    { from: 'fp', to: 'bench' },
    { from: 'sensitivity', to: 'report' },
    { from: 'plan', to: 'report' },
    { from: 'search', to: 'report' },
    { from: 'bench', to: 'report' },
  ],
};

export interface SyntheticFolders {
  sensitivity: string;
  plan: string;
  search: string;
  bench: string;
  baseline: string;
  fp: string;
}

/** Write every result file into its own artifact folder under `root`. */
export function writeSyntheticFolders(root: string): SyntheticFolders {
  const write = (folder: string, file: string, value: unknown) => {
    const dir = path.join(root, folder);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, file), JSON.stringify(value, null, 2));
    return dir;
  };
  const search = syntheticSearch();
  const folders = {
    sensitivity: write('sensitivity', 'sensitivity.json', syntheticSensitivity()),
    plan: write('plan', 'plan.json', syntheticPlan()),
    search: write('search', 'search.json', search),
    bench: write('bench', 'bench.json', syntheticBench()),
    baseline: write('baseline', 'model-info.json', syntheticModelInfo('bnn', 0.9812)),
    fp: write('fp', 'model-info.json', syntheticModelInfo('fp', 0.9861)),
  };
  write(path.join('search', 'chosen'), 'model-info.json', { ...syntheticModelInfo('bnn', 0.9748, 0.5), planes: { grey: [7, 6, 5, 4] } });
  return folders;
}

/** A CIFAR-shaped sensitivity result: three colour channels, 24 planes, both modes. */
export function syntheticRgbSensitivity(): SensitivityResult {
  const base = syntheticSensitivity();
  const rows: SensitivityResult['rows'] = [];
  ['red', 'green', 'blue'].forEach((channel, c) => {
    for (const row of base.rows) {
      const drop = row.dropPoints * (0.5 + 0.25 * c);
      const prefix = row.label.split(':')[1];
      rows.push({ ...row, channel, label: `${channel}:${prefix}`, dropPoints: drop, accuracy: Math.max(0.1, base.baselineAccuracy - drop / 100) });
    }
  });
  return { ...base, baselineAccuracy: 0.8512, rows: rows.map((r) => ({ ...r, accuracy: Math.max(0.1, r.accuracy - 0.13) })) };
}

/** A tiny real dataset artifact (core's format) so the report reads its manifest like the stage does. */
export function writeTinyDataset(dir: string): void {
  const classNames = Array.from({ length: 10 }, (_, i) => `class <${i}>`);
  const counts = { train: 6, validation: 2, test: 2 };
  const total = counts.train + counts.validation + counts.test;
  const images = new Uint8Array(total * 4 * 4 * 3).map((_, i) => (i * 37) % 256);
  const labels = new Uint8Array(total).map((_, i) => i % 10);
  const perClass = (offset: number, count: number) =>
    classNames.map((_, k) => Array.from({ length: count }, (_, j) => (offset + j) % 10).filter((l) => l === k).length);
  writeDataset(
    dir,
    {
      source: { name: 'cifar10-fixture', version: '1' },
      shape: { height: 4, width: 4, channels: 3 },
      channelNames: ['red', 'green', 'blue'],
      classNames,
      splits: {
        train: { offset: 0, count: counts.train, perClass: perClass(0, counts.train) },
        validation: { offset: 6, count: counts.validation, perClass: perClass(6, counts.validation) },
        test: { offset: 8, count: counts.test, perClass: perClass(8, counts.test) },
      },
      splitMethod: 'fixed offsets',
      seed: 3,
      malformed: { count: 0, records: [] },
    },
    images,
    labels,
  );
}
