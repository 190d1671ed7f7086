import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Dataset, PlaneLayout } from '@cbnn/core';
import { planeBatches, scaledPixelBatches, type Batch } from '@cbnn/bitslice';
import { loadTfjsModel } from '@cbnn/train';
import type { BenchModel } from './bench-format';
import { TFJS_DIR } from '@cbnn/train/model-info';
import { folderBytes } from './model-folders';
import { argmaxRows, type RuntimeSide } from './runtime-side';
import { tiledTestBatch } from './test-inputs';

/** What the model reads: ±1 bit planes (a BNN) or pixels scaled to [-1, 1] (full precision). */
export type TfjsInput = { kind: 'planes'; layout: PlaneLayout } | { kind: 'pixels' };

/**
 * A TensorFlow.js model on the active backend (the benchmark selects tfjs-wasm: XNNPACK, SIMD,
 * single-threaded in Node). A BNN runs as its float simulation: ±1 values in float32 tensors,
 * sign and batch norm as float ops — what the engine's packed kernels replace. Each timed call
 * copies the input into a tensor and reads the scores back, as the engine's predict does.
 */
export async function tfjsSide(model: BenchModel, modelDir: string, dataset: Dataset, input: TfjsInput, runtime: string, kernel: string): Promise<RuntimeSide> {
  const tfjsDir = path.join(modelDir, TFJS_DIR);
  const layers = await loadTfjsModel(tfjsDir);
  const { height, width, channels } = dataset.manifest.shape;
  const depth = input.kind === 'planes' ? input.layout.planes.length : channels;
  const shape = (n: number): [number, number, number, number] => [n, height, width, depth];
  const batchesOf = (batchSize: number, limit?: number): Iterable<Batch<Float32Array>> =>
    input.kind === 'planes'
      ? planeBatches(dataset, { split: 'test', layout: input.layout, batchSize, limit })
      : scaledPixelBatches(dataset, { split: 'test', batchSize, limit });
  const scoresOf = (x: Float32Array, n: number): Float32Array => {
    const y = tf.tidy(() => layers.predict(tf.tensor4d(x, shape(n))) as tf.Tensor);
    const data = y.dataSync() as Float32Array;
    y.dispose();
    return data;
  };
  return {
    model,
    runtime,
    kernel,
    threads: 1,
    modelBytes: folderBytes(tfjsDir),
    async prepare(batch) {
      const x = tiledTestBatch(dataset, batch, batchesOf);
      return () => scoresOf(x, batch);
    },
    async classify(limit) {
      const predicted: number[] = [];
      const labels: number[] = [];
      for (const b of batchesOf(256, limit)) {
        predicted.push(...argmaxRows(scoresOf(b.x, b.count), b.count, dataset.manifest.classNames.length));
        labels.push(...b.labels);
      }
      return { predicted: Int32Array.from(predicted), labels: Uint8Array.from(labels) };
    },
    dispose() {
      layers.dispose();
    },
  };
}
