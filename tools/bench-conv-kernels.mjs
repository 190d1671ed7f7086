#!/usr/bin/env node
// The conv kernels of a training step, tfjs-wasm's own (packages/train/src/wasm-gradients.ts, XNNPACK)
// against cbnn's onnxruntime ones (ort-kernels.ts, MLAS), in one process, same inputs: forward
// Conv2D, dX (Conv2DBackpropInput), dW (Conv2DBackpropFilter), 3x3 'same', NHWC. Reports GFLOP per
// second of CPU time (process CPU time: robust to other load on the machine) and of wall time,
// and the largest difference between the two implementations relative to the largest value.
//
//   node tools/bench-conv-kernels.mjs [--batch 128] [--shapes 28x32,14x64] [--reps 5]
// Needs the built packages.
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(root, 'packages/train/package.json'));
const tf = require('@tensorflow/tfjs');
const train = require(path.join(root, 'packages/train/dist/index.js'));

const args = Object.fromEntries(process.argv.slice(2).reduce((pairs, a, i, all) => (a.startsWith('--') ? [...pairs, [a.slice(2), all[i + 1]]] : pairs), []));
const batch = Number(args.batch ?? 128);
const reps = Number(args.reps ?? 5);
const shapes = (args.shapes ?? '28x32,14x64').split(',').map((s) => s.split('x').map(Number));

await train.selectBackend({ prefer: 'wasm', strict: true });
const attrs = { strides: 1, dilations: 1, pad: 'same', dataFormat: 'NHWC' };
const rows = [];
for (const [size, channels] of shapes) {
  const x = tf.randomNormal([batch, size, size, channels]);
  const dy = tf.randomNormal([batch, size, size, channels]);
  const w = tf.randomNormal([3, 3, channels, channels]);
  const ops = {
    forward: () => tf.engine().runKernel('Conv2D', { x, filter: w }, attrs),
    dX: () => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, { ...attrs, inputShape: x.shape }),
    dW: () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: w.shape }),
  };
  const flop = 2 * batch * size * size * 9 * channels * channels;
  const measure = (f) => {
    const warm = f();
    const values = warm.dataSync().slice();
    warm.dispose();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) {
      const r = f();
      r.dataSync();
      r.dispose();
    }
    const cpu = process.cpuUsage(cpu0);
    return { values, cpuSeconds: (cpu.user + cpu.system) / 1e6 / reps, wallSeconds: (performance.now() - t0) / 1000 / reps };
  };
  const results = {};
  for (const kernels of ['wasm', 'onnxruntime']) {
    train.useGradientKernels(kernels);
    for (const [op, f] of Object.entries(ops)) results[`${op}:${kernels}`] = measure(f);
  }
  for (const op of Object.keys(ops)) {
    const a = results[`${op}:wasm`];
    const b = results[`${op}:onnxruntime`];
    let diff = 0;
    let scale = 0;
    for (let i = 0; i < a.values.length; i++) {
      diff = Math.max(diff, Math.abs(a.values[i] - b.values[i]));
      scale = Math.max(scale, Math.abs(a.values[i]));
    }
    const g = (r, k) => Number((flop / r[k] / 1e9).toFixed(1));
    rows.push({
      op,
      shape: `${batch}x${size}x${size}x${channels} -> ${channels}, 3x3 same`,
      tfjsWasm: { cpuGflops: g(a, 'cpuSeconds'), wallGflops: g(a, 'wallSeconds') },
      onnxruntime: { cpuGflops: g(b, 'cpuSeconds'), wallGflops: g(b, 'wallSeconds') },
      cpuSpeedup: Number((a.cpuSeconds / b.cpuSeconds).toFixed(2)),
      relativeDifference: Number((diff / scale).toExponential(1)),
    });
  }
  tf.dispose([x, dy, w]);
}
console.log(
  JSON.stringify(
    {
      bench: 'conv-kernels',
      sides: 'tfjs-wasm 4.22 (XNNPACK, 1 thread) vs onnxruntime-node 1.30.0 (MLAS, 1 thread)',
      reps,
      rows,
      loadavg: os.loadavg().map((l) => Number(l.toFixed(2))),
    },
    null,
    2,
  ),
);
