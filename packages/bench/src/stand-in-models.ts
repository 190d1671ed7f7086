import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { createRng, resolvePlanes, writeJsonAtomicSync, type PlaneSelection } from '@cbnn/core';
import { writeEngineModel } from '@cbnn/kernels';
import { buildBinaryModel, buildFullPrecisionModel, exportEngineModel, saveTfjsModel, type Arch } from '@cbnn/train';
import { ENGINE_MODEL_FILE, MODEL_INFO_FILE, TFJS_DIR } from '@cbnn/train/model-info';

/**
 * Untrained stand-ins of `model.bnn` / `model.fp` folders, in the real formats (model-info.json,
 * model.cbnn, tfjs/): for measuring speed, which does not depend on the weights, before trained
 * models exist, and for tests. Weights come from the builders' seeded initializers; batch-norm
 * statistics are drawn at random so activations vary from image to image. `model-info.json` says
 * `standIn: true`, and the benchmark notes that accuracies are meaningless.
 */
export interface StandInSpec {
  dir: string;
  arch?: Arch;
  /** Width multiplier of every hidden layer. */
  width: number;
  height: number;
  imageWidth: number;
  channelNames: string[];
  classNames: string[];
  seed: number;
}

/** Seeded random weights: small kernels; BN gamma of either sign, small beta and mean, variance > 0. */
export function randomizeStandInWeights(model: tf.LayersModel, seed: number): void {
  const rng = createRng(seed);
  for (const layer of model.layers) {
    const ws = layer.getWeights();
    if (ws.length === 0) continue;
    const isBatchNorm = layer.getClassName() === 'BatchNormalization';
    layer.setWeights(
      ws.map((w, i) => {
        const scale = isBatchNorm ? [1, 0.2, 0.2, 1][i] : 0.3;
        const values = Float32Array.from({ length: w.size }, () => rng.normal() * scale);
        if (isBatchNorm && i === ws.length - 1) for (let k = 0; k < values.length; k++) values[k] = 0.5 + Math.abs(values[k]);
        return tf.tensor(values, w.shape);
      }),
    );
  }
}

function modelInfo(kind: 'bnn' | 'fp', spec: StandInSpec, selection: PlaneSelection, model: tf.LayersModel): Record<string, unknown> {
  const params = model.countParams();
  return {
    kind,
    arch: spec.arch ?? 'vgg-small',
    width: spec.width,
    planes: { selection, layout: resolvePlanes(selection, spec.channelNames) },
    firstLayer: 'binary',
    classNames: spec.classNames,
    backend: 'untrained stand-in (@cbnn/bench)',
    seed: spec.seed,
    params: kind === 'bnn' ? { binary: params, float: 0 } : { binary: 0, float: params },
    bytes: { float32: params * 4 },
    metrics: { testAccuracy: 0 },
    standIn: true,
  };
}

export async function writeStandInBnn(spec: StandInSpec, selection: PlaneSelection): Promise<string> {
  const layout = resolvePlanes(selection, spec.channelNames);
  const model = buildBinaryModel({
    arch: spec.arch ?? 'vgg-small',
    width: spec.width,
    inputShape: [spec.height, spec.imageWidth, layout.planes.length],
    classes: spec.classNames.length,
    firstLayer: 'binary',
    seed: spec.seed,
  });
  try {
    randomizeStandInWeights(model, spec.seed + 1);
    fs.mkdirSync(spec.dir, { recursive: true });
    writeEngineModel(
      path.join(spec.dir, ENGINE_MODEL_FILE),
      exportEngineModel(model, { height: spec.height, width: spec.imageWidth, layout }, spec.classNames, { standIn: true }),
    );
    await saveTfjsModel(model, path.join(spec.dir, TFJS_DIR));
    writeJsonAtomicSync(path.join(spec.dir, MODEL_INFO_FILE), modelInfo('bnn', spec, selection, model));
  } finally {
    model.dispose();
  }
  return spec.dir;
}

export async function writeStandInFp(spec: StandInSpec): Promise<string> {
  const model = buildFullPrecisionModel({
    arch: spec.arch ?? 'vgg-small',
    width: spec.width,
    inputShape: [spec.height, spec.imageWidth, spec.channelNames.length],
    classes: spec.classNames.length,
    firstLayer: 'binary',
    seed: spec.seed,
  });
  try {
    randomizeStandInWeights(model, spec.seed + 1);
    fs.mkdirSync(spec.dir, { recursive: true });
    await saveTfjsModel(model, path.join(spec.dir, TFJS_DIR));
    const all = Object.fromEntries(spec.channelNames.map((c) => [c, [7, 6, 5, 4, 3, 2, 1, 0]]));
    writeJsonAtomicSync(path.join(spec.dir, MODEL_INFO_FILE), modelInfo('fp', spec, all, model));
  } finally {
    model.dispose();
  }
  return spec.dir;
}
