#!/usr/bin/env node
// The batch size from which a 2-thread engine beats one thread (the engine's `splitFrom`), on the
// demo's compact shape (w=0.19, 1 plane) and the baseline's (w=0.5, 8 planes), random weights.
// A benchmark, not a test: run it alone on the machine. It first says how many cores two busy
// threads actually get; near 1.0 (a busy machine) no crossover can show.
// Usage: node tools/bench-engine-split.mjs [--rounds 7]
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const kernels = require(path.join(root, 'packages', 'kernels', 'dist', 'index.js'));
const { createRng } = require(path.join(root, 'packages', 'core', 'dist', 'index.js'));
const args = process.argv.slice(2);
const rounds = Number(args[args.indexOf('--rounds') + 1] ?? 7) || 7;

async function coresForTwoBusyThreads() {
  const spin = 'const t = Date.now(); while (Date.now() - t < 1000);';
  const c0 = process.cpuUsage();
  const t0 = Date.now();
  await Promise.all([0, 1].map(() => new Promise((resolve) => new Worker(spin, { eval: true }).on('exit', resolve))));
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1e3 / (Date.now() - t0);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`two busy threads got ${(await coresForTwoBusyThreads()).toFixed(2)} cores`);
for (const [width, planes] of [
  [0.19, 1],
  [0.5, 8],
]) {
  const model = kernels.randomEngineModel({ height: 28, width: 28, features: planes, classes: 10, layers: kernels.vggSmallLayers(width), seed: 17 });
  const one = kernels.createEngine(model, { maxBatch: 256 });
  const two = kernels.createEngine(model, { maxBatch: 256, threads: 2, splitFrom: 1 });
  const input = kernels.randomPackedWeights(createRng(5), 256 * 784, planes);
  const out = new Float32Array(2560);
  const seconds = (engine, n) => {
    const reps = Math.max(2, Math.ceil(512 / n));
    const t = process.hrtime.bigint();
    for (let i = 0; i < reps; i++) engine.predict(input, n, out);
    return Number(process.hrtime.bigint() - t) / 1e9 / reps;
  };
  let crossover;
  for (const n of [1, 2, 4, 8, 16, 32, 64, 256]) {
    seconds(one, n);
    seconds(two, n);
    const a = [];
    const b = [];
    for (let r = 0; r < rounds; r++) {
      a.push(seconds(one, n));
      b.push(seconds(two, n));
    }
    const speedup = median(a) / median(b);
    if (crossover === undefined && speedup > 1.05) crossover = n;
    console.log(
      `w=${width} planes=${planes} batch ${String(n).padStart(3)}: 1 thread ${(median(a) * 1e3).toFixed(3)} ms, 2 threads ${(median(b) * 1e3).toFixed(3)} ms, ${speedup.toFixed(2)}x`,
    );
  }
  console.log(`w=${width} planes=${planes}: 2 threads first pay (>1.05x) at batch ${crossover ?? 'none measured'}`);
  two.close();
}
