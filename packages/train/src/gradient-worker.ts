import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { selectBackend, useGradientKernels, type BackendName, type GradientKernels } from './backend';
import { buildReplica, flattenGradients, readFlat, shardGradients, writeFlat, type ReplicaSpec } from './replica';

/**
 * Worker thread of data-parallel training (see data-parallel.ts): its own TensorFlow.js and
 * backend instance, a replica of the model; per step it takes the current weights and a shard of
 * the batch and answers with the shard's gradients and updated batch-norm statistics.
 */
export interface WorkerInit {
  replica: ReplicaSpec;
  backend: BackendName;
  gradientKernels: GradientKernels;
}

export type WorkerRequest = { type: 'step'; weights: Float32Array; state: Float32Array; x: Float32Array; labels: Uint8Array; count: number };
export type WorkerReply =
  | { type: 'ready'; backend: string }
  | { type: 'result'; grads: Float32Array; state: Float32Array; lossSum: number; hits: number; count: number }
  | { type: 'error'; message: string };

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('gradient-worker runs as a worker thread only');
  const init = workerData as WorkerInit;
  try {
    const backend = await selectBackend({ prefer: init.backend, strict: true });
    const kernels = useGradientKernels(init.gradientKernels);
    const model = buildReplica(init.replica);
    const trainable = model.trainableWeights;
    const nonTrainable = model.nonTrainableWeights;
    // Only its computeGradients is used: the main thread owns the optimizer state.
    const optimizer = tf.train.sgd(0);
    const { inputShape, classes } = init.replica.spec;
    port.on('message', (msg: WorkerRequest) => {
      try {
        writeFlat(trainable, msg.weights);
        writeFlat(nonTrainable, msg.state);
        const { grads, lossSum, hits } = shardGradients(model, optimizer, msg.x, msg.labels, msg.count, inputShape, classes);
        const flat = flattenGradients(trainable, grads);
        tf.dispose(Object.values(grads));
        const state = readFlat(nonTrainable);
        const reply: WorkerReply = { type: 'result', grads: flat, state, lossSum, hits, count: msg.count };
        port.postMessage(reply, [flat.buffer as ArrayBuffer, state.buffer as ArrayBuffer]);
      } catch (e) {
        port.postMessage({ type: 'error', message: (e as Error).stack ?? String(e) } satisfies WorkerReply);
      }
    });
    port.postMessage({ type: 'ready', backend: backend.description + kernels } satisfies WorkerReply);
  } catch (e) {
    port.postMessage({ type: 'error', message: (e as Error).stack ?? String(e) } satisfies WorkerReply);
  }
}

void main();
