import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { z } from 'zod';
import {
  CancelledError,
  noProgress,
  readDataset,
  silentLogger,
  writeFileAtomicSync,
  type Logger,
  type ProgressReporter,
} from '@cbnn/core';
import { checkDatasetMatchesModel } from '@cbnn/kernels';
import { loadTfjsModel, selectBackend } from '@cbnn/train';
import { BENCH_FILE, BENCH_MARKDOWN_FILE, writeBenchResult, type BenchResult, type BenchRow, type BenchSide } from './bench-format';
import { benchMarkdown } from './bench-markdown';
import { engineSide } from './engine-side';
import { machineInfo, peakRssBytes } from './machine';
import { ENGINE_MODEL_FILE, ONNX_FILE, TFJS_DIR } from '@cbnn/train/model-info';
import { readModelFolder, resolveCompactFolder } from './model-folders';
import { onnxSide } from './onnx-side';
import { exportOnnxModel } from '@cbnn/train';
import { computeRatios, orderRows, type RatioSpec } from './ratios';
import { accuracyOf as accuracyOfClassified, type InferenceCall, type RuntimeSide } from './runtime-side';
import { quartiles } from './statistics';
import { tfjsSide } from './tfjs-side';
import { calibrateCalls, runCalls } from './timing';

import { runtimeBenchParamsSchema } from './stage-descriptors';

export { runtimeBenchParamsSchema } from './stage-descriptors';
export type RuntimeBenchParams = z.input<typeof runtimeBenchParamsSchema>;

export interface RuntimeBenchInput {
  /** A bitslice.dataset folder; the test split is used. */
  dataset: string;
  /** A model.bnn folder, or a search folder whose `chosen/` is the compact model. */
  compact: string;
  /** The baseline BNN (all planes, full width): a model.bnn folder. */
  baseline: string;
  /** The full-precision counterpart: a model.fp folder. */
  fp: string;
  /** Where bench.json and bench.md go (not written when absent). */
  outDir?: string;
  logger?: Logger;
  progress?: ProgressReporter;
  signal?: AbortSignal;
}

interface Prepared {
  side: RuntimeSide;
  call: InferenceCall;
  callsPerRun: number;
  secondsPerCall: number[];
}

/**
 * The runtime benchmark: the compact BNN and the baseline BNN on the cbnn engine, the baseline's
 * float simulation and the full-precision model on TensorFlow.js (wasm), and the full-precision
 * model on onnxruntime (1 thread and all cores), side by side in this process. For each batch
 * size every side is calibrated and warmed up, then the timed runs go round-robin over the sides,
 * so that load from elsewhere on the machine falls on all sides alike.
 */
export async function runRuntimeBenchmark(input: RuntimeBenchInput, params: RuntimeBenchParams = {}): Promise<BenchResult> {
  const p = runtimeBenchParamsSchema.parse(params);
  const logger = input.logger ?? silentLogger();
  const progress = input.progress ?? noProgress;
  const machine = machineInfo();
  const threads = [...new Set(p.threads ?? [1, machine.cores])].sort((a, b) => a - b);
  const notes: string[] = [
    'Each timed call copies the prepared input in (packed planes, ±1 planes or scaled pixels, prepared outside the timing for every runtime) and the class scores out.',
    'The cbnn engine and tfjs-wasm run on 1 thread (tfjs-backend-wasm has no threads in Node); onnxruntime runs with the listed intra-op threads.',
    'peakRssBytes is the peak RSS of the one benchmark process (all runtimes loaded), recorded as each row finished; it never decreases.',
  ];
  const backends: Record<string, string> = {};

  const dataset = readDataset(input.dataset);
  const compactDir = resolveCompactFolder(input.compact);
  const compact = readModelFolder(compactDir, 'bnn', 'compact');
  const baseline = readModelFolder(input.baseline, 'bnn', 'baseline');
  const fp = readModelFolder(input.fp, 'fp', 'full-precision');
  const maxBatch = Math.max(...p.batches, 256);
  const standIns = [compact, baseline, fp].filter((m) => m.info.standIn).map((m) => m.dir);
  if (standIns.length > 0) {
    notes.push(`Untrained stand-in models (${standIns.join(', ')}): the timings hold (they do not depend on the weights), the accuracies mean nothing.`);
  }

  const sides: RuntimeSide[] = [];
  const compactEngine = engineSide('compact', path.join(compact.dir, ENGINE_MODEL_FILE), dataset, { impl: p.engine, maxBatch });
  const baselineEngine = engineSide('baseline', path.join(baseline.dir, ENGINE_MODEL_FILE), dataset, { impl: p.engine, maxBatch });
  checkDatasetMatchesModel(compactEngine.engineModel, dataset);
  checkDatasetMatchesModel(baselineEngine.engineModel, dataset);
  sides.push(compactEngine, baselineEngine);
  backends.engine = `@cbnn/kernels ${p.engine === 'wasm' ? 'WebAssembly SIMD (v128 xor + i8x16.popcnt)' : 'TypeScript reference kernels'}, 1 thread`;

  let fpTfjs: RuntimeSide | undefined;
  let baselineTfjs: RuntimeSide | undefined;
  if (p.tfjs) {
    try {
      const selection = await selectBackend({ prefer: 'wasm', strict: true, logger });
      const simd = selection.description.includes('simd');
      backends.tfjs = selection.description;
      const runtime = `tfjs-wasm xnnpack${simd ? '' : ' (no simd)'}`;
      fpTfjs = await tfjsSide('fp', fp.dir, dataset, { kind: 'pixels' }, runtime);
      baselineTfjs = await tfjsSide('baseline', baseline.dir, dataset, { kind: 'planes', layout: baselineEngine.engineModel.input.layout }, `${runtime} (float ±1)`);
      sides.push(baselineTfjs, fpTfjs);
    } catch (e) {
      notes.push(`TensorFlow.js sides skipped: ${(e as Error).message.split('\n')[0]}`);
      logger.warn({ err: e }, 'TensorFlow.js sides skipped');
    }
  } else notes.push('TensorFlow.js sides not measured (tfjs: false).');

  const onnxSides: RuntimeSide[] = [];
  if (p.onnx) {
    const onnxBytes = await fullPrecisionOnnx(fp.dir, notes, logger);
    backends.onnxruntime = `onnxruntime-node ${ort.env.versions.node ?? ort.env.versions.common}, CPU execution provider, graph optimisation 'all'`;
    for (const t of threads) onnxSides.push(await onnxSide(onnxBytes, dataset, t));
    sides.push(...onnxSides);
  } else notes.push('onnxruntime sides not measured (onnx: false).');

  try {
    const accuracyOf = new Map<string, number>();
    for (const side of sides) {
      const key = `${side.model}|${side.runtime}`;
      if (!accuracyOf.has(key)) accuracyOf.set(key, accuracyOfClassified(await side.classify(p.maxImages)));
      checkAborted(input.signal);
    }
    logger.info({ accuracy: Object.fromEntries(accuracyOf) }, 'accuracy on the test split measured');

    const rows: BenchRow[] = [];
    const totalRuns = p.batches.length * (p.runs + p.warmup) * sides.length;
    let done = 0;
    for (const batch of p.batches) {
      const prepared: Prepared[] = [];
      for (const side of sides) {
        const call = await side.prepare(batch);
        const callsPerRun = await calibrateCalls(call, { minRunSeconds: p.minRunSeconds });
        for (let w = 0; w < p.warmup; w++) await runCalls(call, callsPerRun);
        done += p.warmup;
        prepared.push({ side, call, callsPerRun, secondsPerCall: [] });
        checkAborted(input.signal);
      }
      for (let r = 0; r < p.runs; r++) {
        for (const s of prepared) {
          s.secondsPerCall.push((await runCalls(s.call, s.callsPerRun)) / s.callsPerRun);
          done++;
        }
        progress.update({ current: done, total: totalRuns, unit: 'run', message: `batch ${batch}, run ${r + 1}/${p.runs}` });
        checkAborted(input.signal);
      }
      for (const s of prepared) {
        const row: BenchRow = {
          model: s.side.model,
          runtime: s.side.runtime,
          threads: s.side.threads,
          batch,
          latencyMs: quartiles(s.secondsPerCall.map((x) => x * 1e3)),
          imagesPerSecond: quartiles(s.secondsPerCall.map((x) => batch / x)),
          modelBytes: s.side.modelBytes,
          accuracy: accuracyOf.get(`${s.side.model}|${s.side.runtime}`),
          peakRssBytes: peakRssBytes(),
        };
        rows.push(row);
        logger.info({ model: row.model, runtime: row.runtime, threads: row.threads, batch, latencyMs: row.latencyMs.median, imagesPerSecond: row.imagesPerSecond.median, callsPerRun: s.callsPerRun }, 'timed');
      }
    }

    const result: BenchResult = {
      format: 'cbnn.bench',
      version: 1,
      date: new Date().toISOString(),
      machine,
      warmup: p.warmup,
      runs: p.runs,
      rows: orderRows(rows),
      ratios: computeRatios(rows, ratioSpecs(sides)),
      backends,
      notes,
      models: {
        compact: { dir: compact.dir, planes: compactEngine.engineModel.input.features, width: compact.info.width },
        baseline: { dir: baseline.dir, planes: baselineEngine.engineModel.input.features, width: baseline.info.width },
        fp: { dir: fp.dir, width: fp.info.width },
      },
    };
    if (input.outDir) writeBenchOutputs(input.outDir, result);
    return result;
  } finally {
    for (const side of sides) await side.dispose();
  }
}

/**
 * The comparisons the issue asks for, each naming both sides: the compact BNN against every
 * full-precision runtime and against the baseline on the same engine; the baseline on the engine
 * against its own float simulation (what the engine buys) and against full precision.
 */
export function ratioSpecs(sides: readonly BenchSide[]): RatioSpec[] {
  const find = (model: string, runtimePrefix: string, threads?: number): BenchSide | undefined =>
    sides.find((s) => s.model === model && s.runtime.startsWith(runtimePrefix) && (threads === undefined || s.threads === threads));
  const compactEngine = find('compact', 'cbnn');
  const baselineEngine = find('baseline', 'cbnn');
  const baselineTfjs = find('baseline', 'tfjs');
  const fpSides = sides.filter((s) => s.model === 'fp').sort((a, b) => a.threads - b.threads);
  const specs: RatioSpec[] = [];
  const add = (faster: BenchSide | undefined, slower: BenchSide | undefined): void => {
    if (faster && slower) specs.push({ faster: { model: faster.model, runtime: faster.runtime, threads: faster.threads }, slower: { model: slower.model, runtime: slower.runtime, threads: slower.threads } });
  };
  for (const f of fpSides) add(compactEngine, f);
  add(compactEngine, baselineEngine);
  add(baselineEngine, baselineTfjs);
  for (const f of fpSides) add(baselineEngine, f);
  return specs;
}

/** The ONNX model of the full-precision folder: its model.onnx, else an export of its tfjs model. */
async function fullPrecisionOnnx(fpDir: string, notes: string[], logger: Logger): Promise<Uint8Array> {
  const file = path.join(fpDir, ONNX_FILE);
  if (fs.existsSync(file)) return fs.readFileSync(file);
  const model = await loadTfjsModel(path.join(fpDir, TFJS_DIR));
  try {
    const bytes = exportOnnxModel(model);
    notes.push(`The full-precision folder has no ${ONNX_FILE}: the benchmark exported its TensorFlow.js model with @cbnn/train exportOnnxModel (${bytes.length} bytes).`);
    logger.info({ bytes: bytes.length }, 'exported the full-precision model to ONNX');
    return bytes;
  } finally {
    model.dispose();
  }
}

export function writeBenchOutputs(outDir: string, result: BenchResult): void {
  fs.mkdirSync(outDir, { recursive: true });
  writeBenchResult(path.join(outDir, BENCH_FILE), result);
  writeFileAtomicSync(path.join(outDir, BENCH_MARKDOWN_FILE), benchMarkdown(result));
}

function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CancelledError('runtime benchmark cancelled');
}

