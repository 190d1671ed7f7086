#!/usr/bin/env node
// Training throughput of VGG-small (binary, w=0.5) on 28x28x8 bit planes, batch 256: samples/s of
// full training steps (forward, backward, Adam update, latent-weight clipping), on the backend
// @cbnn/train selects (tfjs-node > wasm > cpu), on --threads threads (default: all CPUs; above 1 the
// trainer's data-parallel steps, as train.bnn runs them with that CPU budget). Target: >= 230
// samples/s (PyTorch CPU, 2 threads, on this machine kind). Numbers are noisy while other work
// shares the CPUs: cpuSecondsPerStep (this process, all threads) is the load-independent cost.
//
//   node tools/bench-train.mjs [--width 0.5] [--batch 256] [--steps 5] [--threads 2] [--shards 2] [--backend wasm] [--kernels onnxruntime|wasm] [--arch vgg-small]
// Needs the built package: (cd packages/train && npx tsc -b).
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(root, 'packages/train/package.json'));
const tf = require('@tensorflow/tfjs');
const train = require(path.join(root, 'packages/train/dist/index.js'));
const { createRng } = require(path.join(root, 'packages/core/dist/index.js'));

const args = Object.fromEntries(process.argv.slice(2).reduce((pairs, a, i, all) => (a.startsWith('--') ? [...pairs, [a.slice(2), all[i + 1]]] : pairs), []));
const width = Number(args.width ?? 0.5);
const batch = Number(args.batch ?? 256);
const steps = Number(args.steps ?? 5);
const arch = args.arch ?? 'vgg-small';
const requestedThreads = Number(args.threads ?? os.cpus().length);

const backend = await train.selectBackend({ prefer: args.backend ?? 'tensorflow' });
const gradientKernels = args.kernels ?? 'onnxruntime';
const kernels = train.useGradientKernels(gradientKernels);
const inputShape = [28, 28, 8];
const spec = { arch, width, inputShape, classes: 10, firstLayer: 'binary', seed: 1 };
const model = train.buildBinaryModel(spec);
const shards = Number(args.shards ?? 2);
const threads = train.trainingThreads({ threads: requestedThreads, shards, replica: { kind: 'bnn', spec } });
const parallel = await train.DataParallelTrainer.start({
  threads,
  shards,
  inputShape,
  classes: 10,
  replica: { kind: 'bnn', spec },
  backend: backend.name,
  gradientKernels,
});
const rng = createRng(1);
const x = Float32Array.from({ length: batch * 28 * 28 * 8 }, () => (rng.nextFloat() < 0.5 ? -1 : 1));
const labels = Uint8Array.from({ length: batch }, () => rng.int(10));
const optimizer = tf.train.adam(0.001);

const waits = [];
async function step() {
  waits.push((await parallel.step(model, optimizer, { x, labels, count: batch })).waitSeconds);
  train.clipLatentWeights(model);
}

await step(); // warm-up: kernel setup, weight packing caches
const times = [];
let peakRss = process.memoryUsage().rss;
const cpu0 = process.cpuUsage();
for (let i = 0; i < steps; i++) {
  const t0 = performance.now();
  await step();
  times.push((performance.now() - t0) / 1000);
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}
const cpu = process.cpuUsage(cpu0);
await parallel.close();
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)];
const rate = (t) => batch / t;
const summary = train.summarizeModel(model);
console.log(
  JSON.stringify(
    {
      bench: 'train-throughput',
      model: `${arch} binary w=${width}`,
      input: '28x28x8 planes',
      batch,
      steps,
      backend: backend.description + kernels,
      threads,
      binaryParams: summary.params.binary,
      samplesPerSecond: { median: Math.round(rate(median)), best: Math.round(rate(times[0])), worst: Math.round(rate(times[times.length - 1])) },
      stepSeconds: { median: Number(median.toFixed(3)) },
      shards,
      ...(threads > 1 ? { mainWaitSecondsPerStep: Number((waits.slice(1).reduce((a, b) => a + b, 0) / steps).toFixed(3)) } : {}),
      cpuSecondsPerStep: Number(((cpu.user + cpu.system) / 1e6 / steps).toFixed(3)),
      target: 230,
      // Process RSS (worker threads share the process).
      peakRssMB: Math.round(peakRss / 2 ** 20),
      loadavg: os.loadavg().map((l) => Number(l.toFixed(2))),
      cpus: os.cpus().length,
    },
    null,
    2,
  ),
);
