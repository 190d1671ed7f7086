import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRng, writeDataset } from '@cbnn/core';
import { ENGINE_MODEL_FILE, createEngine, createPlanePacker, randomEngineModel, writeEngineModel, type EngineModel } from '@cbnn/kernels';

/**
 * A real model.bnn folder (engine model with random weights) and a real dataset artifact whose
 * labels are that model's own predictions on the clean images: the unperturbed accuracy is 1 and
 * every perturbation's cost is the model's real sensitivity.
 */
export function engineFixture(root: string, o: { test?: number; validation?: number; seed?: number } = {}) {
  const H = 8;
  const W = 8;
  const classes = 4;
  const model: EngineModel = randomEngineModel({
    height: H,
    width: W,
    features: 8,
    classes,
    seed: o.seed ?? 3,
    layers: [{ type: 'conv_real', outC: 16, padding: 'same' }, { type: 'maxpool2' }, { type: 'dense', outC: 32 }],
  });
  // Make the real-valued first layer read pixel intensities: the weight of plane b is a random
  // filter tap times 2^b, so (as in a trained network) the least significant planes matter least.
  const first = model.layers[0];
  if (first.type !== 'conv_real') throw new Error('fixture: expected a conv_real first layer');
  const bits = model.input.layout.planes.map((p) => p.bit);
  for (let t = 0; t < first.outC * 9; t++) {
    const tap = first.weights[t * 8];
    for (let k = 0; k < 8; k++) first.weights[t * 8 + k] = (tap * 2 ** bits[k]) / 128;
  }
  const modelDir = path.join(root, 'model');
  fs.mkdirSync(modelDir, { recursive: true });
  writeEngineModel(path.join(modelDir, ENGINE_MODEL_FILE), model);

  const validation = o.validation ?? 300;
  const test = o.test ?? 300;
  const n = validation + test;
  // Smooth-ish images (a random level per image plus noise) so the planes differ in meaning.
  const rng = createRng(o.seed ?? 3);
  const images = new Uint8Array(n * H * W);
  for (let i = 0; i < n; i++) {
    const level = rng.int(256);
    for (let p = 0; p < H * W; p++) images[i * H * W + p] = Math.max(0, Math.min(255, level + rng.int(61) - 30));
  }
  const engine = createEngine(model, { impl: 'reference', maxBatch: Math.max(512, n) });
  const packed = new Uint32Array(n * H * W);
  createPlanePacker(model.input.layout, H * W, 1).pack(images, 0, n, packed);
  const labels = Uint8Array.from(engine.classify(packed, n));
  const perClass = (from: number, count: number) => {
    const c = new Array(classes).fill(0);
    for (let i = from; i < from + count; i++) c[labels[i]]++;
    return c;
  };
  const datasetDir = path.join(root, 'dataset');
  writeDataset(
    datasetDir,
    {
      source: { name: 'fixture', version: '1' },
      shape: { height: H, width: W, channels: 1 },
      channelNames: ['grey'],
      classNames: Array.from({ length: classes }, (_, i) => `class${i}`),
      splits: {
        train: { offset: 0, count: 0, perClass: new Array(classes).fill(0) },
        validation: { offset: 0, count: validation, perClass: perClass(0, validation) },
        test: { offset: validation, count: test, perClass: perClass(validation, test) },
      },
      splitMethod: 'fixture',
      seed: 0,
      malformed: { count: 0, records: [] },
    },
    images,
    labels,
  );
  return { model, modelDir, datasetDir, images, labels };
}
