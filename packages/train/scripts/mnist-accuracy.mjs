#!/usr/bin/env node
// Accuracy of the baseline BNN on the embedded MNIST (bitslice source `mnist`, 10,000 images:
// test 20%, validation 10% of the rest) through the real `train.bnn` stage: per-epoch validation,
// final test accuracy, wall time. For choosing the demo pipeline's training settings.
//
//   node packages/train/scripts/mnist-accuracy.mjs [--width 0.5] [--epochs 6] [--batch 128] [--lr 0.005]
//        [--schedule cosine] [--first-layer binary|real] [--threads 2] [--arch vgg-small] [--seed 1] [--source mnist|fashion-mnist] [--limit N]
//        [--recalibration 4096 (batch norm re-estimation samples, 0: off)]
// Prints the process's peak RSS (VmHWM: main thread and workers) too: with --source fashion-mnist
// (70,000 images) it checks the training memory target.
// Needs built packages (core, bitslice, kernels, train: npx tsc -b).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const pkg = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(pkg, 'package.json'));
const train = require(path.join(pkg, 'dist/index.js'));
const { buildDataset } = require('@cbnn/bitslice');
const { silentLogger } = require('@cbnn/core');

const args = Object.fromEntries(process.argv.slice(2).reduce((pairs, a, i, all) => (a.startsWith('--') ? [...pairs, [a.slice(2), all[i + 1]]] : pairs), []));
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cbnn-mnist-acc-'));
const datasetDir = path.join(root, 'dataset');
const buildStarted = performance.now();
buildDataset(datasetDir, { source: args.source ?? 'mnist', seed: Number(args['data-seed'] ?? 1) });
const buildSeconds = (performance.now() - buildStarted) / 1000;
const params = train.trainBnnStage.params.parse({
  arch: args.arch ?? 'vgg-small',
  width: Number(args.width ?? 0.5),
  epochs: Number(args.epochs ?? 6),
  batchSize: Number(args.batch ?? 128),
  learningRate: Number(args.lr ?? 0.005),
  schedule: args.schedule ?? 'cosine',
  patience: 0,
  ...(args.recalibration !== undefined ? { recalibrationSamples: Number(args.recalibration) } : {}),
  backend: args.backend ?? 'tensorflow',
  firstLayer: args['first-layer'] ?? 'binary',
  ...(args.limit ? { limit: Number(args.limit) } : {}),
});
const outDir = path.join(root, 'out');
fs.mkdirSync(outDir);
const started = performance.now();
const result = await train.trainBnnStage.run({
  stage: 'mnist-accuracy',
  params,
  inputs: { dataset: datasetDir },
  outDir,
  tmpDir: root,
  logger: silentLogger(),
  progress: { update: (u) => process.env.PROGRESS && console.error(u.message) },
  signal: new AbortController().signal,
  seed: Number(args.seed ?? 1),
  threads: Number(args.threads ?? os.cpus().length),
});
const seconds = (performance.now() - started) / 1000;
const epochs = fs
  .readFileSync(path.join(outDir, 'epochs.jsonl'), 'utf8')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l));
console.log(
  JSON.stringify({
    params,
    threads: Number(args.threads ?? os.cpus().length),
    epochs: epochs.map((e) => ({
      epoch: e.epoch,
      loss: +e.loss.toFixed(4),
      train: +e.trainAccuracy.toFixed(4),
      validation: +e.validationAccuracy.toFixed(4),
      samplesPerSecond: Math.round(e.samplesPerSecond),
    })),
    metrics: result.metrics,
    source: args.source ?? 'mnist',
    wallSeconds: Math.round(seconds),
    datasetBuildSeconds: Math.round(buildSeconds),
    peakRssMB: Math.round(Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0) / 1024),
    loadavg: os.loadavg().map((l) => +l.toFixed(2)),
  }),
);
fs.rmSync(root, { recursive: true, force: true });
