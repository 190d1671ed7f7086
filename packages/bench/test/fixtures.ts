import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { createRng, resolvePlanes, writeDataset, writeJsonAtomicSync, type PlaneSelection } from '@cbnn/core';
import { writeEngineModel } from '@cbnn/kernels';
import { buildBinaryModel, buildFullPrecisionModel, exportEngineModel, saveTfjsModel } from '@cbnn/train';

/**
 * A tiny pipeline's outputs in their real formats: a grey 8x8 dataset of 3 classes, a compact and
 * a baseline BNN (model.bnn folders: model-info.json, model.cbnn, tfjs/), and the full-precision
 * counterpart (model.fp: model-info.json, tfjs/, no model.onnx so the benchmark exports one).
 * The weights are untrained (seeded initializers): the benchmark measures time, not skill.
 */
export const SIZE = 8;
export const CLASS_NAMES = ['a', 'b', 'c'];

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `cbnn-bench-${prefix}-`));
}

export function writeTinyDataset(dir: string, counts = { train: 6, validation: 3, test: 12 }): string {
  const rng = createRng(42);
  const total = counts.train + counts.validation + counts.test;
  const labels = Uint8Array.from({ length: total }, (_, i) => i % CLASS_NAMES.length);
  // Images that differ as wholes (brightness, a class-dependent stripe direction, a little
  // noise): i.i.d. noise images all look alike to a network once pooled.
  const images = new Uint8Array(total * SIZE * SIZE);
  for (let i = 0; i < total; i++) {
    const brightness = rng.int(256);
    const contrast = rng.int(128);
    for (let y = 0; y < SIZE; y++)
      for (let x = 0; x < SIZE; x++) {
        const stripe = [x, y, x + y][labels[i]] % 2 === 0 ? contrast : -contrast;
        images[(i * SIZE + y) * SIZE + x] = Math.max(0, Math.min(255, brightness + stripe + rng.int(32) - 16));
      }
  }
  const perClass = (offset: number, count: number): number[] =>
    CLASS_NAMES.map((_, c) => Array.from(labels.subarray(offset, offset + count)).filter((l) => l === c).length);
  writeDataset(
    dir,
    {
      source: { name: 'fixture', version: '1' },
      shape: { height: SIZE, width: SIZE, channels: 1 },
      channelNames: ['grey'],
      classNames: CLASS_NAMES,
      splits: {
        train: { offset: 0, count: counts.train, perClass: perClass(0, counts.train) },
        validation: { offset: counts.train, count: counts.validation, perClass: perClass(counts.train, counts.validation) },
        test: { offset: counts.train + counts.validation, count: counts.test, perClass: perClass(counts.train + counts.validation, counts.test) },
      },
      splitMethod: 'fixture: stored order',
      seed: 42,
      malformed: { count: 0, records: [] },
    },
    images,
    labels,
  );
  return dir;
}

/**
 * Seeded random batch-norm statistics and weights, so that the untrained models still give
 * varied scores (with the initial statistics every image can land in one class, and a wrong
 * layout or axis would go unnoticed).
 */
export function randomizeWeights(model: tf.LayersModel, seed: number): void {
  const rng = createRng(seed);
  for (const layer of model.layers) {
    const ws = layer.getWeights();
    if (ws.length === 0) continue;
    const isBatchNorm = layer.getClassName() === 'BatchNormalization';
    layer.setWeights(
      ws.map((w, i) => {
        // BN weights: gamma (either sign: the engine's flip), small beta and mean, variance > 0.
        const scale = isBatchNorm ? [1, 0.2, 0.2, 1][i] : 0.3;
        const values = Float32Array.from({ length: w.size }, () => rng.normal() * scale);
        if (isBatchNorm && i === ws.length - 1) for (let k = 0; k < values.length; k++) values[k] = 0.5 + Math.abs(values[k]);
        return tf.tensor(values, w.shape);
      }),
    );
  }
}

const info = (kind: 'bnn' | 'fp', width: number, selection: PlaneSelection) => ({
  kind,
  arch: 'vgg-small',
  width,
  planes: { selection, layout: resolvePlanes(selection, ['grey']) },
  firstLayer: 'binary',
  classNames: CLASS_NAMES,
  backend: 'fixture',
  seed: 1,
  params: { binary: 0, float: 0 },
  bytes: { float32: 0 },
  metrics: { validationAccuracy: 0.5, testAccuracy: 0.5 },
});

export async function writeBnnFolder(dir: string, selection: PlaneSelection, width: number, seed: number): Promise<string> {
  const layout = resolvePlanes(selection, ['grey']);
  const model = buildBinaryModel({ arch: 'vgg-small', width, inputShape: [SIZE, SIZE, layout.planes.length], classes: CLASS_NAMES.length, firstLayer: 'binary', seed });
  randomizeWeights(model, seed + 100);
  fs.mkdirSync(dir, { recursive: true });
  writeEngineModel(path.join(dir, 'model.cbnn'), exportEngineModel(model, { height: SIZE, width: SIZE, layout }, CLASS_NAMES));
  await saveTfjsModel(model, path.join(dir, 'tfjs'));
  writeJsonAtomicSync(path.join(dir, 'model-info.json'), info('bnn', width, selection));
  model.dispose();
  return dir;
}

export async function writeFpFolder(dir: string, width: number, seed: number): Promise<string> {
  const model = buildFullPrecisionModel({ arch: 'vgg-small', width, inputShape: [SIZE, SIZE, 1], classes: CLASS_NAMES.length, firstLayer: 'binary', seed });
  randomizeWeights(model, seed + 100);
  fs.mkdirSync(dir, { recursive: true });
  await saveTfjsModel(model, path.join(dir, 'tfjs'));
  writeJsonAtomicSync(path.join(dir, 'model-info.json'), info('fp', width, { grey: [7, 6, 5, 4, 3, 2, 1, 0] }));
  model.dispose();
  return dir;
}
