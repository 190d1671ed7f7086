#!/usr/bin/env node
// Kernel benchmarks (not tests): binary WebAssembly SIMD kernels vs tfjs-wasm float32, one
// process, one thread each. Needs the workspace built (packages/bench/dist, kernels.wasm).
// Usage: node tools/bench-kernels.mjs [--runs N] [--quick] [--no-tfjs] [--layers-only | --models-only | --profile-only] [--json out.json]
// --profile-only: the GEMM and the per-layer, per-phase profiles of the engine (compact w=0.19 on 1 plane, w=0.5 and w=1 on 8).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const args = process.argv.slice(2);
const flag = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const entry = path.join(root, 'packages', 'bench', 'dist', 'kernels-bench.js');
if (!fs.existsSync(entry)) {
  console.error(`bench-kernels: ${path.relative(root, entry)} is missing; build first (cd packages/bench && npx tsc -b; cd packages/kernels && npm run build)`);
  process.exit(2);
}
const { runKernelBenchmarks, formatKernelBenchReport } = require(entry);
const options = {};
if (flag('--runs')) options.runs = Number(flag('--runs'));
if (args.includes('--no-tfjs')) options.skipTfjs = true;
if (args.includes('--layers-only')) Object.assign(options, { models: false, profiles: false });
if (args.includes('--models-only')) Object.assign(options, { layers: false, profiles: false });
if (args.includes('--profile-only')) Object.assign(options, { models: false, widths: [], skipTfjs: true });
if (args.includes('--quick')) Object.assign(options, { runs: 3, warmupRuns: 1, minRunSeconds: 0.1 });
const report = await runKernelBenchmarks(options, (line) => console.error(line));
console.log(formatKernelBenchReport(report));
if (flag('--json')) fs.writeFileSync(flag('--json'), JSON.stringify(report, null, 2) + '\n');
