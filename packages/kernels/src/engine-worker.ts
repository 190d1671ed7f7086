// Entry of an engine worker thread (see engine-threads.ts): its own engine on shares of the batch.
import { workerData } from 'node:worker_threads';
import { createEngine, type Engine } from './engine';
import { STOP, workerControl, type EngineWorkerData } from './engine-threads';

const data = workerData as EngineWorkerData;
const control = workerControl(data);
let engine: Engine | undefined;
try {
  engine = createEngine(data.model, { impl: data.impl, maxBatch: data.maxBatch, threads: 1, convKernels: data.impl === 'wasm' ? data.convKernels : undefined });
  control.ready();
} catch (e) {
  control.failedToStart((e as Error).message);
}
if (engine) {
  const words = engine.inputWords;
  const classes = engine.plan.classes;
  const input = new Uint32Array(data.input);
  const scores = new Float32Array(data.scores);
  for (let seen = 0; ;) {
    const job = control.next(seen);
    if (job.seq === STOP) break;
    seen = job.seq;
    try {
      const { start, count } = job;
      engine.predict(input.subarray(start * words, (start + count) * words), count, scores.subarray(start * classes, (start + count) * classes));
      control.finish(job.seq);
    } catch (e) {
      control.finish(job.seq, (e as Error).message);
    }
  }
}
