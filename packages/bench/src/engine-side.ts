import * as fs from 'node:fs';
import type { Dataset } from '@cbnn/core';
import { packedPlaneBatches } from '@cbnn/bitslice';
import { createEngine, fastestIm2colKernel, readEngineModel, summary, type Engine, type EngineModel } from '@cbnn/kernels';
import type { BenchModel, BenchProfile } from './bench-format';
import type { RuntimeSide } from './runtime-side';
import { tiledTestBatch } from './test-inputs';

export type EngineImpl = 'wasm' | 'reference';

/**
 * The popcount the engine's kernels use: the wasm engine picks the faster of scalar i64.popcnt
 * and SIMD i8x16.popcnt on this CPU once per process (fastestIm2colKernel). With `kernels` (the
 * variants one engine chose per layer), the kernel families that engine actually ran, e.g.
 * 'i8x16.add tap tables + i64.popcnt' when its narrow convs ran the tap-table kernels (SIMD byte
 * adds, no popcount) and its wide and dense layers scalar popcounts.
 */
export function engineKernel(impl: EngineImpl, kernels?: readonly string[]): string {
  if (impl === 'reference') return 'TypeScript reference';
  if (!kernels?.length) return fastestIm2colKernel() === 'scalar' ? 'i64.popcnt' : 'i8x16.popcnt';
  const families: string[] = [];
  if (kernels.some((k) => /taplut|lut9/.test(k))) families.push('i8x16.add tap tables');
  if (kernels.some((k) => /i64popcnt/.test(k))) families.push('i64.popcnt');
  if (kernels.some((k) => /i8x16popcnt/.test(k))) families.push('i8x16.popcnt');
  return families.length ? families.join(' + ') : engineKernel(impl);
}

/**
 * Runtime names of the cbnn engine as they appear in bench.json, naming the kernels that ran: a
 * side is called wasm-simd only when all its popcounts are SIMD; a mixed side lists its families.
 */
export function engineRuntime(impl: EngineImpl, kernels?: readonly string[]): string {
  if (impl === 'reference') return 'cbnn reference (TypeScript)';
  const kernel = engineKernel(impl, kernels);
  return kernel === 'i8x16.popcnt' ? `cbnn wasm-simd (${kernel})` : `cbnn wasm (${kernel})`;
}

/** A BNN (`model.cbnn`) on the @cbnn/kernels engine: packed input, XNOR-popcount kernels. */
export function engineSide(
  model: BenchModel,
  modelFile: string,
  dataset: Dataset,
  options: { impl: EngineImpl; maxBatch: number; threads?: number },
): RuntimeSide & { engineModel: EngineModel; engine: Engine; binaryMacsPerImage: number; profile(batch: number): BenchProfile } {
  const engineModel = readEngineModel(modelFile);
  const threads = options.threads ?? 1;
  const engine = createEngine(engineModel, { impl: options.impl, maxBatch: options.maxBatch, threads });
  const binaryMacsPerImage = summary(engineModel).totals.binaryMacs;
  const runtime = engineRuntime(options.impl, engine.kernels);
  const inputOf = (batch: number): Uint32Array =>
    tiledTestBatch(dataset, batch, (batchSize, limit) => packedPlaneBatches(dataset, { split: 'test', layout: engineModel.input.layout, batchSize, limit }));
  return {
    model,
    runtime,
    threads,
    kernel: engineKernel(options.impl, engine.kernels),
    kernels: [...engine.kernels],
    modelBytes: fs.statSync(modelFile).size,
    engineModel,
    engine,
    binaryMacsPerImage,
    async prepare(batch) {
      const input = inputOf(batch);
      const out = new Float32Array(batch * engineModel.classNames.length);
      return () => engine.predict(input, batch, out);
    },
    async classify(limit) {
      const split = dataset.split('test');
      const n = Math.min(limit, split.count);
      const predicted = new Int32Array(n);
      let at = 0;
      for (const b of packedPlaneBatches(dataset, { split: 'test', layout: engineModel.input.layout, batchSize: options.maxBatch, limit: n })) {
        predicted.set(engine.classify(b.x, b.count), at);
        at += b.count;
      }
      return { predicted, labels: split.labels.slice(0, n) };
    },
    profile(batch) {
      const p = engine.profile(inputOf(batch), batch, { runs: 7, minRunSeconds: 0.05 });
      const ms = (s: number): number => s * 1e3;
      return {
        model,
        runtime,
        batch,
        steps: p.steps.map((s) => ({
          label: s.label,
          variant: s.variant,
          binaryMacsPerImage: s.binaryMacsPerImage,
          ms: { median: ms(s.seconds.median), min: ms(s.seconds.min), max: ms(s.seconds.max) },
          cpuMs: ms(s.cpuSeconds),
          gBinaryMacsPerSecond: s.gBinaryMacsPerSecond,
          ...(Object.keys(s.phases).length ? { phases: Object.fromEntries(Object.entries(s.phases).map(([k, v]) => [k, ms(v)])) } : {}),
        })),
        totalMs: ms(p.totalSeconds),
        binaryMacsPerImage: p.binaryMacsPerImage,
        gBinaryMacsPerSecond: p.gBinaryMacsPerSecond,
        cpuGBinaryMacsPerSecond: p.cpuGBinaryMacsPerSecond,
      };
    },
    async dispose() {
      await engine.close();
    },
  };
}
