import * as fs from 'node:fs';
import * as path from 'node:path';
import { readDataset, type Dataset } from '@cbnn/core';
import { scaledPixelBatches } from '@cbnn/bitslice';
import { exportOnnxModel, loadTfjsModel, selectBackend } from '@cbnn/train';
import { engineSide, onnxSide, tfjsSide, tiledTestBatch, type Classified } from '../src';
import { SIZE, tempDir, writeBnnFolder, writeFpFolder, writeTinyDataset } from './fixtures';

const root = tempDir('sides');
let dataset: Dataset;
const bnnDir = path.join(root, 'bnn');
const fpDir = path.join(root, 'fp');

beforeAll(async () => {
  await selectBackend({ prefer: 'wasm', strict: true });
  dataset = readDataset(writeTinyDataset(path.join(root, 'dataset'), { train: 3, validation: 3, test: 40 }));
  await writeBnnFolder(bnnDir, { grey: [7, 6, 5, 4, 3] }, 0.125, 4);
  await writeFpFolder(fpDir, 0.125, 5);
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const distinct = (c: Classified): number => new Set(c.predicted).size;

/** Largest |a - b| relative to the largest |b|; and whether rows (images) differ at all. */
function compareScores(a: Float32Array, b: Float32Array): { relDiff: number; rowsVary: boolean } {
  expect(a.length).toBe(b.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  let rowsVary = false;
  for (let i = 3; i < b.length; i++) if (Math.abs(b[i] - b[i % 3]) > 1e-3 * scale) rowsVary = true;
  return { relDiff: diff / scale, rowsVary };
}

describe('runtime sides', () => {
  it('the engine computes the scores of the float simulation of the same BNN on tfjs', async () => {
    const engine = engineSide('baseline', path.join(bnnDir, 'model.cbnn'), dataset, { impl: 'wasm', maxBatch: 64 });
    const tfjs = await tfjsSide(
      'baseline',
      bnnDir,
      dataset,
      { kind: 'planes', layout: engine.engineModel.input.layout },
      'tfjs-wasm xnnpack f32 (float ±1)',
      'xnnpack f32',
    );
    const engineScores = ((await engine.prepare(40))() as Float32Array).slice();
    const tfjsScores = (await tfjs.prepare(40))() as Float32Array;
    const { relDiff, rowsVary } = compareScores(engineScores, tfjsScores);
    expect(rowsVary).toBe(true);
    expect(relDiff).toBeLessThan(1e-4);
    const a = await engine.classify(40);
    const b = await tfjs.classify(40);
    expect(a.predicted).toHaveLength(40);
    expect(distinct(a)).toBeGreaterThan(1);
    expect(Array.from(a.predicted)).toEqual(Array.from(b.predicted));
    expect(Array.from(a.labels)).toEqual(Array.from(dataset.split('test').labels));
    await tfjs.dispose();
  });

  it('onnxruntime computes the scores tfjs computes, with 1 and 2 threads, spinning or not', async () => {
    const tfjs = await tfjsSide('fp', fpDir, dataset, { kind: 'pixels' }, 'tfjs-wasm xnnpack f32', 'xnnpack f32');
    const model = await loadTfjsModel(path.join(fpDir, 'tfjs'));
    const bytes = exportOnnxModel(model);
    model.dispose();
    const expectedScores = (await tfjs.prepare(40))() as Float32Array;
    const expected = await tfjs.classify(25);
    for (const [threads, spinning] of [
      [1, true],
      [2, true],
      [2, false],
    ] as const) {
      const ort = await onnxSide(bytes, dataset, threads, spinning);
      expect(ort.threads).toBe(threads);
      expect(ort.modelBytes).toBe(bytes.length);
      const { relDiff, rowsVary } = compareScores((await (await ort.prepare(40))()) as Float32Array, expectedScores);
      expect(rowsVary).toBe(true);
      expect(relDiff).toBeLessThan(1e-4);
      expect(Array.from((await ort.classify(25)).predicted)).toEqual(Array.from(expected.predicted));
      await ort.dispose();
    }
    await tfjs.dispose();
  });

  it('prepared calls run a whole batch, larger than the test split', async () => {
    const engine = engineSide('compact', path.join(bnnDir, 'model.cbnn'), dataset, { impl: 'reference', maxBatch: 64 });
    const call = await engine.prepare(64);
    const scores = call() as Float32Array;
    expect(scores).toHaveLength(64 * 3);
    // image 40 is image 0 again (the 40 test images repeat)
    expect(Array.from(scores.subarray(40 * 3, 41 * 3))).toEqual(Array.from(scores.subarray(0, 3)));
  });
});

describe('tiledTestBatch', () => {
  it('repeats the test images in order to fill the batch', () => {
    const perImage = SIZE * SIZE;
    const x = tiledTestBatch(dataset, 90, (batchSize, limit) => scaledPixelBatches(dataset, { split: 'test', batchSize, limit }));
    expect(x).toHaveLength(90 * perImage);
    const test = dataset.split('test').images;
    for (const i of [0, 39, 40, 89]) {
      const src = i % 40;
      expect(x[i * perImage + 5]).toBeCloseTo(test[src * perImage + 5] / 127.5 - 1, 6);
    }
  });

  it('takes only the first images when the batch is smaller than the split', () => {
    const x = tiledTestBatch(dataset, 3, (batchSize, limit) => scaledPixelBatches(dataset, { split: 'test', batchSize, limit }));
    expect(x).toHaveLength(3 * SIZE * SIZE);
  });
});
