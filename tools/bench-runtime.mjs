#!/usr/bin/env node
// Runtime benchmark (not a test): the compact BNN and the baseline BNN on the cbnn engine, the
// baseline's float simulation and the full-precision model on tfjs-wasm, and the full-precision
// model on onnxruntime (1 thread and all cores), side by side in this one process. Writes
// bench.json + bench.md (the bench.runtime stage's output) and prints the markdown.
// Needs the workspace built (packages/bench/dist and its references; kernels.wasm).
//
// Usage:
//   node tools/bench-runtime.mjs --dataset D --compact C --baseline B --fp F [--out DIR]
//        [--runs N] [--warmup N] [--batches 1,64,256] [--threads 1,2] [--max-images N]
//        [--min-run-seconds S] [--engine wasm|reference] [--no-tfjs] [--no-onnx] [--onnx-spinning] [--quick]
// --compact takes a train.bnn output or a pruning.select output (its chosen/ model).
//
// Before trained models exist: --stand-ins DIR builds (once) DIR/dataset from the mnist package and
// untrained VGG-small stand-ins in the real formats: DIR/compact (planes 7..(8-P), width W; set
// with --compact-planes P --compact-width W, default 4 and 0.5), DIR/baseline (8 planes, width 1)
// and DIR/fp (width 1), and benchmarks those. Speed does not depend on the weights; accuracy does.
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
const list = (name) => flag(name)?.split(',').map(Number);
const usage = (message) => {
  console.error(
    `bench-runtime: ${message}\nusage: node tools/bench-runtime.mjs --dataset D --compact C --baseline B --fp F [--out DIR] [--runs N] [--warmup N] [--batches 1,64,256] [--threads 1,2] [--max-images N] [--engine wasm|reference] [--no-tfjs] [--no-onnx] [--onnx-spinning] [--quick]`,
  );
  process.exit(2);
};

const entry = path.join(root, 'packages', 'bench', 'dist', 'index.js');
if (!fs.existsSync(entry)) usage(`${path.relative(root, entry)} is missing; build first (cd packages/bench && npx tsc -b)`);
const input = {};
const standIns = flag('--stand-ins');
if (standIns) await writeStandIns(path.resolve(standIns));
for (const key of ['dataset', 'compact', 'baseline', 'fp']) {
  const value = flag(`--${key}`);
  if (!value) usage(`--${key} is required`);
  if (!fs.existsSync(value)) usage(`--${key} ${value} does not exist`);
  input[key] = path.resolve(value);
}
input.outDir = path.resolve(flag('--out') ?? 'bench-out');

const params = {};
if (args.includes('--quick')) Object.assign(params, { runs: 5, warmup: 1, minRunSeconds: 0.1, maxImages: 500 });
if (flag('--runs')) params.runs = Number(flag('--runs'));
if (flag('--warmup')) params.warmup = Number(flag('--warmup'));
if (flag('--batches')) params.batches = list('--batches');
if (flag('--threads')) params.threads = list('--threads');
if (flag('--max-images')) params.maxImages = Number(flag('--max-images'));
if (flag('--min-run-seconds')) params.minRunSeconds = Number(flag('--min-run-seconds'));
if (flag('--engine')) params.engine = flag('--engine');
if (args.includes('--no-tfjs')) params.tfjs = false;
if (args.includes('--no-onnx')) params.onnx = false;
if (args.includes('--onnx-spinning')) params.onnxSpinning = true;

const { runRuntimeBenchmark } = require(entry);

async function writeStandIns(dir) {
  const bench = require(entry);
  const { buildDataset } = require(path.join(root, 'packages', 'bitslice', 'dist', 'index.js'));
  const { readDatasetManifest } = require(path.join(root, 'packages', 'core', 'dist', 'index.js'));
  const { selectBackend } = require(path.join(root, 'packages', 'train', 'dist', 'index.js'));
  await selectBackend({ prefer: 'wasm', strict: true });
  const datasetDir = path.join(dir, 'dataset');
  if (!fs.existsSync(path.join(datasetDir, 'dataset.json'))) {
    console.error(`bench-runtime: building ${datasetDir} from the mnist package`);
    buildDataset(datasetDir, { source: 'mnist', seed: 1 });
  }
  const m = readDatasetManifest(datasetDir);
  const planes = Number(flag('--compact-planes') ?? 4);
  const base = { height: m.shape.height, imageWidth: m.shape.width, channelNames: m.channelNames, classNames: m.classNames };
  const all = [7, 6, 5, 4, 3, 2, 1, 0];
  const make = async (name, write) => {
    const d = path.join(dir, name);
    if (!fs.existsSync(path.join(d, 'model-info.json'))) await write(d);
    args.push(`--${name}`, d);
  };
  await make('compact', (d) =>
    bench.writeStandInBnn(
      { ...base, dir: d, width: Number(flag('--compact-width') ?? 0.5), seed: 11 },
      Object.fromEntries(m.channelNames.map((c) => [c, all.slice(0, planes)])),
    ),
  );
  await make('baseline', (d) => bench.writeStandInBnn({ ...base, dir: d, width: 1, seed: 12 }, Object.fromEntries(m.channelNames.map((c) => [c, all]))));
  await make('fp', (d) => bench.writeStandInFp({ ...base, dir: d, width: 1, seed: 13 }));
  if (!flag('--dataset')) args.push('--dataset', datasetDir);
}
const { createLogger, isCbnnError } = require(path.join(root, 'packages', 'core', 'dist', 'index.js'));
const logger = createLogger({ name: 'bench-runtime', level: process.env.CBNN_LOG_LEVEL ?? 'info' });
try {
  const result = await runRuntimeBenchmark({ ...input, logger, progress: { update: (p) => p.message && process.stderr.write(`\r${p.message}   `) } }, params);
  process.stderr.write('\n');
  console.log(fs.readFileSync(path.join(input.outDir, 'bench.md'), 'utf8'));
  console.error(
    `bench-runtime: ${result.rows.length} rows, ${result.ratios.length} ratios -> ${path.relative(process.cwd(), input.outDir) || '.'}/bench.json, bench.md`,
  );
} catch (e) {
  console.error(`bench-runtime: ${isCbnnError(e) ? e.userMessage() : e.stack}`);
  process.exit(isCbnnError(e) ? e.exitCode : 1);
}
