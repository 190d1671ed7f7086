/** node:worker_threads in the page: none; the engine runs with threads: 1 there. */
export class Worker {
  constructor() {
    throw new Error('worker threads are not available in the browser page: create the engine with threads: 1');
  }
}
export const workerData: unknown = undefined;
export const isMainThread = true;
export const parentPort = null;
