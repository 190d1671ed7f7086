import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { z } from 'zod';
import { CancelledError, createRng, noProgress, readDataset, silentLogger, writeFileAtomicSync, type Logger, type ProgressReporter } from '@cbnn/core';
import { WasmKernelInstance, bindGemm, checkDatasetMatchesModel, randomPackedWeights } from '@cbnn/kernels';
import { loadTfjsModel, selectBackend } from '@cbnn/train';
import { BENCH_FILE, BENCH_MARKDOWN_FILE, writeBenchResult, type BenchResult, type BenchRow, type BenchSide } from './bench-format';
import { benchMarkdown } from './bench-markdown';
import { engineKernel, engineSide } from './engine-side';
import { machineInfo, peakRssBytes } from './machine';
import { ENGINE_MODEL_FILE, ONNX_FILE, TFJS_DIR } from '@cbnn/train/model-info';
import { readModelFolder, resolveCompactFolder } from './model-folders';
import { onnxSide } from './onnx-side';
import { exportOnnxModel } from '@cbnn/train';
import { computeRatios, orderRows, type RatioSpec } from './ratios';
import { accuracyOf as accuracyOfClassified, type InferenceCall, type RuntimeSide } from './runtime-side';
import { quartiles } from './statistics';
import { tfjsSide } from './tfjs-side';
import { calibrateCalls, runCalls, runCallsWithCpu } from './timing';

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
  cpuSecondsPerCall: number[];
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
    'tfjs-wasm runs on 1 thread (tfjs-backend-wasm has no threads in Node); onnxruntime runs with the listed intra-op threads; the cbnn engine with the listed threads (the calling thread plus worker threads, each with its own engine, a batch split in equal shares).',
    "Runtime names carry the kernel that ran: the engine's popcount (i64.popcnt or i8x16.popcnt, the faster on this CPU, timed once per process), XNNPACK or MLAS float32. A row's `kernels` lists the engine's kernel variant per call.",
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
  const engineSides: Array<ReturnType<typeof engineSide>> = [];
  for (const t of threads) {
    const compactEngine = engineSide('compact', path.join(compact.dir, ENGINE_MODEL_FILE), dataset, { impl: p.engine, maxBatch, threads: t });
    const baselineEngine = engineSide('baseline', path.join(baseline.dir, ENGINE_MODEL_FILE), dataset, { impl: p.engine, maxBatch, threads: t });
    engineSides.push(compactEngine, baselineEngine);
  }
  const [compactEngine, baselineEngine] = engineSides;
  checkDatasetMatchesModel(compactEngine.engineModel, dataset);
  checkDatasetMatchesModel(baselineEngine.engineModel, dataset);
  sides.push(...engineSides);
  backends.engine = `@cbnn/kernels ${p.engine === 'wasm' ? `WebAssembly (popcount ${engineKernel(p.engine)}; kernel variants per layer in each row's kernels)` : 'TypeScript reference kernels'}, threads ${threads.join(', ')}`;

  let fpTfjs: RuntimeSide | undefined;
  let baselineTfjs: RuntimeSide | undefined;
  if (p.tfjs) {
    try {
      const selection = await selectBackend({ prefer: 'wasm', strict: true, logger });
      const simd = selection.description.includes('simd');
      backends.tfjs = selection.description;
      const xnnpack = `xnnpack f32${simd ? '' : ' (no simd)'}`;
      fpTfjs = await tfjsSide('fp', fp.dir, dataset, { kind: 'pixels' }, `tfjs-wasm ${xnnpack}`, xnnpack);
      // On the wasm backend @cbnn/train registers its own popcount kernel for binary convs
      // (CbnnBinaryConv2D): the baseline's simulation then runs its convs on cbnn's GEMM, the
      // rest (batch norm, sign, pool, dense) on XNNPACK. The label says so.
      const popcount = selection.description.includes('popcount');
      const baselineKernel = popcount ? `cbnn popcount conv + ${xnnpack}` : xnnpack;
      baselineTfjs = await tfjsSide(
        'baseline',
        baseline.dir,
        dataset,
        { kind: 'planes', layout: baselineEngine.engineModel.input.layout },
        `tfjs-wasm ${baselineKernel} (float ±1)`,
        baselineKernel,
      );
      sides.push(baselineTfjs, fpTfjs);
    } catch (e) {
      notes.push(`TensorFlow.js sides skipped: ${(e as Error).message.split('\n')[0]}`);
      logger.warn({ err: e }, 'TensorFlow.js sides skipped');
    }
  } else notes.push('TensorFlow.js sides not measured (tfjs: false).');

  const onnxSides: RuntimeSide[] = [];
  if (p.onnx) {
    const onnxBytes = await fullPrecisionOnnx(fp.dir, notes, logger);
    backends.onnxruntime = `onnxruntime-node ${ort.env.versions.node ?? ort.env.versions.common}, CPU execution provider, graph optimisation 'all', intra-op spinning ${p.onnxSpinning ? 'on' : 'off'}`;
    if (!p.onnxSpinning && threads.some((t) => t > 1)) {
      notes.push(
        "onnxruntime's intra-op threads do not spin-wait between runs (session.intra_op.allow_spinning = 0, param onnxSpinning: false): spinning pool threads of one session took CPU from the sides measured after it in this process.",
      );
    }
    for (const t of threads) onnxSides.push(await onnxSide(onnxBytes, dataset, t, p.onnxSpinning));
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

    // The GEMM's rate and the engine's per-layer profiles, in this run, before the timed runs.
    const gemm = p.engine === 'wasm' ? measureGemm() : undefined;
    const profileBatch = Math.max(...p.batches);
    const profiles = engineSides.filter((s) => s.threads === 1).map((s) => s.profile(profileBatch));
    checkAborted(input.signal);

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
        prepared.push({ side, call, callsPerRun, secondsPerCall: [], cpuSecondsPerCall: [] });
        checkAborted(input.signal);
      }
      for (let r = 0; r < p.runs; r++) {
        for (const s of prepared) {
          const t = await runCallsWithCpu(s.call, s.callsPerRun);
          s.secondsPerCall.push(t.seconds / s.callsPerRun);
          s.cpuSecondsPerCall.push(t.cpuSeconds / s.callsPerRun);
          done++;
        }
        progress.update({ current: done, total: totalRuns, unit: 'run', message: `batch ${batch}, run ${r + 1}/${p.runs}` });
        checkAborted(input.signal);
      }
      for (const s of prepared) {
        const ips = quartiles(s.secondsPerCall.map((x) => batch / x));
        const row: BenchRow = {
          model: s.side.model,
          runtime: s.side.runtime,
          ...(s.side.kernel ? { kernel: s.side.kernel } : {}),
          ...(s.side.kernels ? { kernels: s.side.kernels } : {}),
          ...(s.side.binaryMacsPerImage ? { gBinaryMacsPerSecond: (s.side.binaryMacsPerImage * ips.median) / 1e9 } : {}),
          threads: s.side.threads,
          batch,
          latencyMs: quartiles(s.secondsPerCall.map((x) => x * 1e3)),
          cpuMs: quartiles(s.cpuSecondsPerCall.map((x) => x * 1e3)),
          imagesPerSecond: ips,
          modelBytes: s.side.modelBytes,
          accuracy: accuracyOf.get(`${s.side.model}|${s.side.runtime}`),
          peakRssBytes: peakRssBytes(),
        };
        rows.push(row);
        logger.info(
          {
            model: row.model,
            runtime: row.runtime,
            threads: row.threads,
            batch,
            latencyMs: row.latencyMs.median,
            imagesPerSecond: row.imagesPerSecond.median,
            callsPerRun: s.callsPerRun,
          },
          'timed',
        );
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
      profiles,
      ...(gemm ? { gemm } : {}),
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
  const engineThreads = [...new Set(sides.filter((s) => s.runtime.startsWith('cbnn')).map((s) => s.threads))].sort((a, b) => a - b);
  const baselineTfjs = find('baseline', 'tfjs');
  const fpSides = sides.filter((s) => s.model === 'fp').sort((a, b) => a.threads - b.threads);
  const specs: RatioSpec[] = [];
  const side = (s: BenchSide): BenchSide => ({ model: s.model, runtime: s.runtime, threads: s.threads, ...(s.kernel ? { kernel: s.kernel } : {}) });
  const add = (faster: BenchSide | undefined, slower: BenchSide | undefined): void => {
    if (faster && slower) specs.push({ faster: side(faster), slower: side(slower) });
  };
  // The engine on 1 thread against every full-precision runtime, the baseline on the same
  // engine and the baseline's float simulation; the engine on t > 1 threads against the
  // full-precision runtimes on t threads and the baseline on the same engine and threads.
  for (const t of engineThreads) {
    const compactEngine = find('compact', 'cbnn', t);
    const baselineEngine = find('baseline', 'cbnn', t);
    const fps = fpSides.filter((f) => t === 1 || f.threads === t);
    for (const f of fps) add(compactEngine, f);
    add(compactEngine, baselineEngine);
    if (t === 1) add(baselineEngine, baselineTfjs);
    for (const f of fps) add(baselineEngine, f);
  }
  return specs;
}

/** The binary GEMM of the kernel benchmark (M=256, K=4096 bits, N=1024), 1 thread, median of 7. */
function measureGemm(): { shape: string; variant: string; gBinaryMacsPerSecond: number; cpuGBinaryMacsPerSecond: number } {
  const m = 256;
  const kBits = 4096;
  const n = 1024;
  const wasm = new WasmKernelInstance();
  const g = bindGemm(wasm, randomPackedWeights(createRng(2), n, kBits), n, kBits);
  const a = wasm.put(randomPackedWeights(createRng(1), m, kBits));
  const out = wasm.alloc(m * n * 4);
  for (let i = 0; i < 3; i++) g.run(a, m, out);
  const samples: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < 7; r++) {
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    for (let i = 0; i < 5; i++) g.run(a, m, out);
    const c = process.cpuUsage(c0);
    samples.push(Number(process.hrtime.bigint() - t0) / 1e9 / 5);
    cpu.push((c.user + c.system) / 1e6 / 5);
  }
  const macs = m * n * kBits;
  return {
    shape: `gemm M=${m} K=${kBits} bits N=${n}`,
    variant: g.variant,
    gBinaryMacsPerSecond: macs / quartiles(samples).median / 1e9,
    cpuGBinaryMacsPerSecond: macs / quartiles(cpu).median / 1e9,
  };
}

/** The ONNX model of the full-precision folder: its model.onnx, else an export of its tfjs model. */
async function fullPrecisionOnnx(fpDir: string, notes: string[], logger: Logger): Promise<Uint8Array> {
  const file = path.join(fpDir, ONNX_FILE);
  if (fs.existsSync(file)) return fs.readFileSync(file);
  const model = await loadTfjsModel(path.join(fpDir, TFJS_DIR));
  try {
    const bytes = exportOnnxModel(model);
    notes.push(
      `The full-precision folder has no ${ONNX_FILE}: the benchmark exported its TensorFlow.js model with @cbnn/train exportOnnxModel (${bytes.length} bytes).`,
    );
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
