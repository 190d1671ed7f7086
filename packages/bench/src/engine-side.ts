import * as fs from 'node:fs';
import type { Dataset } from '@cbnn/core';
import { packedPlaneBatches } from '@cbnn/bitslice';
import { createEngine, readEngineModel, type EngineModel } from '@cbnn/kernels';
import type { BenchModel } from './bench-format';
import type { RuntimeSide } from './runtime-side';
import { tiledTestBatch } from './test-inputs';

export type EngineImpl = 'wasm' | 'reference';

/** Runtime names of the cbnn engine, as they appear in bench.json. */
export const ENGINE_RUNTIME: Record<EngineImpl, string> = {
  wasm: 'cbnn wasm-simd',
  reference: 'cbnn reference (TypeScript)',
};

/** A BNN (`model.cbnn`) on the @cbnn/kernels engine: packed input, XNOR-popcount kernels, 1 thread. */
export function engineSide(model: BenchModel, modelFile: string, dataset: Dataset, options: { impl: EngineImpl; maxBatch: number }): RuntimeSide & { engineModel: EngineModel } {
  const engineModel = readEngineModel(modelFile);
  const engine = createEngine(engineModel, { impl: options.impl, maxBatch: options.maxBatch });
  return {
    model,
    runtime: ENGINE_RUNTIME[options.impl],
    threads: 1,
    modelBytes: fs.statSync(modelFile).size,
    engineModel,
    async prepare(batch) {
      const input = tiledTestBatch(dataset, batch, (batchSize, limit) =>
        packedPlaneBatches(dataset, { split: 'test', layout: engineModel.input.layout, batchSize, limit }),
      );
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
    dispose() {
      // The engine's buffers are plain memory, released with the object.
    },
  };
}
