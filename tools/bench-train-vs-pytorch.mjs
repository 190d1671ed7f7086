#!/usr/bin/env node
// Training throughput side by side: cbnn (tools/bench-train.mjs: tfjs-wasm with cbnn's kernels,
// conv gradients on onnxruntime unless --kernels wasm, data-parallel gradient shards) against
// PyTorch on the CPU (tools/bench-train-pytorch.py, Debian's python3-torch), the same VGG-small BNN
// on 28x28x8 planes, batch 256, the same thread count. The two sides alternate, round after round,
// so that both see the same machine load; each ratio is of one round's pair.
//
//   node tools/bench-train-vs-pytorch.mjs [--widths 0.5,0.25] [--rounds 2] [--threads 2] [--steps 6] [--kernels onnxruntime|wasm] [--python /usr/bin/python3]
// Needs the built packages (npx -y pnpm@12.21.0 build). Prints a table, then one JSON document.
// samplesPerSecond is wall-clock (what a user waits for); cpuSecondsPerStep (all threads of the
// process) is the load-independent cost, so its ratio is reported too.
import { execFileSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = Object.fromEntries(process.argv.slice(2).reduce((pairs, a, i, all) => (a.startsWith('--') ? [...pairs, [a.slice(2), all[i + 1]]] : pairs), []));
const widths = (args.widths ?? '0.5,0.25').split(',').map(Number);
const rounds = Number(args.rounds ?? 2);
const threads = Number(args.threads ?? 2);
const steps = Number(args.steps ?? 6);
const batch = Number(args.batch ?? 256);
const kernels = args.kernels ?? 'onnxruntime';
const python = args.python ?? '/usr/bin/python3';

function runJson(cmd, argv) {
  const out = execFileSync(cmd, argv, { cwd: root, encoding: 'utf8', maxBuffer: 1 << 24, stdio: ['ignore', 'pipe', 'inherit'] });
  return JSON.parse(out.slice(out.indexOf('{')));
}

const cbnn = (width) =>
  runJson(process.execPath, [
    path.join(root, 'tools/bench-train.mjs'),
    '--width',
    String(width),
    '--batch',
    String(batch),
    '--steps',
    String(steps),
    '--threads',
    String(threads),
    '--backend',
    'wasm',
    '--kernels',
    kernels,
  ]);
const torch = (width) =>
  runJson(python, [
    path.join(root, 'tools/bench-train-pytorch.py'),
    '--width',
    String(width),
    '--batch',
    String(batch),
    '--steps',
    String(steps),
    '--threads',
    String(threads),
  ]);

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const round2 = (x) => Number(x.toFixed(2));

const results = [];
for (const width of widths) {
  const pairs = [];
  for (let r = 0; r < rounds; r++) {
    // Alternate which side goes first, so neither always gets the quieter moment.
    const [a, b] = r % 2 ? [torch(width), cbnn(width)] : [cbnn(width), torch(width)];
    const [c, t] = r % 2 ? [b, a] : [a, b];
    pairs.push({
      cbnn: { samplesPerSecond: c.samplesPerSecond.median, cpuSecondsPerStep: c.cpuSecondsPerStep },
      pytorch: { samplesPerSecond: t.samplesPerSecond.median, cpuSecondsPerStep: t.cpuSecondsPerStep },
      ratio: round2(c.samplesPerSecond.median / t.samplesPerSecond.median),
      cpuRatio: round2(t.cpuSecondsPerStep / c.cpuSecondsPerStep),
      loadavg: os.loadavg().map((l) => round2(l)),
      cbnnRuntime: c.backend + `, ${c.threads} threads, ${c.shards} gradient shards`,
      pytorchRuntime: t.runtime,
    });
    process.stderr.write(
      `w=${width} round ${r + 1}/${rounds}: cbnn ${c.samplesPerSecond.median} vs PyTorch ${t.samplesPerSecond.median} samples/s (${pairs.at(-1).ratio}x), CPU s/step ${c.cpuSecondsPerStep} vs ${t.cpuSecondsPerStep}\n`,
    );
  }
  results.push({
    model: `vgg-small binary w=${width}, 28x28x8 planes, batch ${batch}`,
    threads,
    cbnn: pairs[0].cbnnRuntime,
    pytorch: pairs[0].pytorchRuntime,
    ratio: { median: round2(median(pairs.map((p) => p.ratio))), min: Math.min(...pairs.map((p) => p.ratio)), max: Math.max(...pairs.map((p) => p.ratio)) },
    cpuRatio: {
      median: round2(median(pairs.map((p) => p.cpuRatio))),
      min: Math.min(...pairs.map((p) => p.cpuRatio)),
      max: Math.max(...pairs.map((p) => p.cpuRatio)),
    },
    rounds: pairs,
  });
}

console.log('width  cbnn samples/s  PyTorch samples/s  ratio (wall)  ratio (CPU time)');
for (const r of results) {
  const w = r.model.match(/w=([0-9.]+)/)[1];
  const c = r.rounds.map((p) => p.cbnn.samplesPerSecond).join('/');
  const t = r.rounds.map((p) => p.pytorch.samplesPerSecond).join('/');
  console.log(`${w.padEnd(6)} ${c.padEnd(15)} ${t.padEnd(18)} ${String(r.ratio.median).padEnd(13)} ${r.cpuRatio.median}`);
}
console.log(
  JSON.stringify({ bench: 'train-vs-pytorch', date: new Date().toISOString(), cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, results }, null, 2),
);
