import * as ort from 'onnxruntime-node';
import type { Dataset } from '@cbnn/core';
import { scaledPixelBatches } from '@cbnn/bitslice';
import { argmaxRows, type RuntimeSide } from './runtime-side';
import { tiledTestBatch } from './test-inputs';

export const ONNX_RUNTIME_NAME = 'onnxruntime cpu (mlas f32)';
export const ONNX_KERNEL = 'mlas f32';

/**
 * The full-precision model on onnxruntime-node's CPU execution provider with `threads` intra-op
 * threads (1 = no thread pool), all graph optimisations on (it folds batch norms into the
 * convolutions). Input NHWC float32 pixels scaled to [-1, 1], like tfjs's. `spinning` false sets
 * session.intra_op.allow_spinning = 0: idle pool threads block instead of spin-waiting, so they do
 * not take CPU from the sides measured after this one in the same process.
 */
export async function onnxSide(onnxBytes: Uint8Array, dataset: Dataset, threads: number, spinning = true): Promise<RuntimeSide> {
  const session = await ort.InferenceSession.create(onnxBytes, {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    ...(spinning ? {} : { extra: { session: { intra_op: { allow_spinning: '0' } } } }),
  });
  const inputName = session.inputNames[0];
  const outputName = session.outputNames[0];
  const { height, width, channels } = dataset.manifest.shape;
  const scoresOf = async (x: Float32Array, n: number): Promise<Float32Array> => {
    const out = await session.run({ [inputName]: new ort.Tensor('float32', x, [n, height, width, channels]) });
    return out[outputName].data as Float32Array;
  };
  return {
    model: 'fp',
    runtime: ONNX_RUNTIME_NAME,
    kernel: ONNX_KERNEL,
    threads,
    modelBytes: onnxBytes.length,
    async prepare(batch) {
      const x = tiledTestBatch(dataset, batch, (batchSize, limit) => scaledPixelBatches(dataset, { split: 'test', batchSize, limit }));
      return () => scoresOf(x, batch);
    },
    async classify(limit) {
      const predicted: number[] = [];
      const labels: number[] = [];
      for (const b of scaledPixelBatches(dataset, { split: 'test', batchSize: 256, limit })) {
        // The iterator reuses its buffer: copy before handing it to the async run.
        predicted.push(...argmaxRows(await scoresOf(b.x.slice(), b.count), b.count, dataset.manifest.classNames.length));
        labels.push(...b.labels);
      }
      return { predicted: Int32Array.from(predicted), labels: Uint8Array.from(labels) };
    },
    async dispose() {
      await session.release();
    },
  };
}
