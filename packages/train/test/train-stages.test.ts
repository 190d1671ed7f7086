import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildDataset } from '@cbnn/bitslice';
import { standaloneStageContext, type ProgressUpdate, type StageContext } from '@cbnn/core';
import { readEngineModel } from '@cbnn/kernels';
import { loadTfjsModel, modelInfoSchema, trainBnnStage, trainFpStage, type TrainBnnParams, type TrainFpParams } from '../src';

let root: string;
let datasetDir: string;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'cbnn-train-stage-'));
  datasetDir = path.join(root, 'dataset');
  buildDataset(datasetDir, { source: 'mnist', seed: 1, limit: { total: 700 } });
});

function context<P>(params: P, inputs: Record<string, string>, name: string, updates: ProgressUpdate[] = [], threads = 1): StageContext<P> {
  const outDir = path.join(root, name);
  fs.mkdirSync(outDir, { recursive: true });
  return standaloneStageContext({
    stage: name,
    params,
    inputs,
    outDir,
    tmpDir: fs.mkdtempSync(path.join(root, 'tmp-')),
    progress: { update: (u) => updates.push(u) },
    seed: 42,
    threads,
  });
}

const readInfo = (dir: string) => modelInfoSchema.parse(JSON.parse(fs.readFileSync(path.join(dir, 'model-info.json'), 'utf8')));

describe('train.bnn and train.fp stages', () => {
  it('train.bnn writes the artifact folder (engine model, tfjs model, info, epochs) and is deterministic', async () => {
    const params = trainBnnStage.params.parse({ arch: 'mlp', width: 0.1, epochs: 2, batchSize: 50, backend: 'wasm' }) as TrainBnnParams;
    const updates: ProgressUpdate[] = [];
    const ctx = context(params, { dataset: datasetDir }, 'bnn-a', updates);
    const result = await trainBnnStage.run(ctx);
    expect(result?.metrics?.backend).toBe('wasm');
    expect(Number(result?.metrics?.testAccuracy)).toBeGreaterThan(0.3);
    const info = readInfo(ctx.outDir);
    expect(info.kind).toBe('bnn');
    expect(info.planes.layout.planes).toHaveLength(8);
    expect(info.backend).toMatch(/^wasm/);
    expect(info.metrics.epochs).toBe(2);
    const epochs = fs
      .readFileSync(path.join(ctx.outDir, 'epochs.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(epochs.map((e) => e.epoch)).toEqual([1, 2]);
    expect(info.metrics.validationAccuracy).toBe(Math.max(...epochs.map((e) => e.validationAccuracy)));
    const engine = readEngineModel(path.join(ctx.outDir, 'model.cbnn'));
    expect(engine.layers.map((l) => l.type)).toEqual(['dense', 'dense', 'dense_out']);
    expect((await loadTfjsModel(path.join(ctx.outDir, 'tfjs'))).layers.length).toBeGreaterThan(3);
    expect(updates.some((u) => /epoch 1\/2 .*loss .*acc .*samples\/s/.test(u.message ?? ''))).toBe(true);

    // Same seed, same backend: identical weights.
    const again = context(params, { dataset: datasetDir }, 'bnn-b');
    await trainBnnStage.run(again);
    expect(fs.readFileSync(path.join(again.outDir, 'tfjs', 'weights.bin')).equals(fs.readFileSync(path.join(ctx.outDir, 'tfjs', 'weights.bin')))).toBe(true);
  });

  it('train.bnn gives the same model bytes on 1 and 2 threads (the shard count, not the threads, fixes the numbers)', async () => {
    const params = trainBnnStage.params.parse({
      arch: 'vgg-small',
      width: 0.1,
      epochs: 1,
      batchSize: 32,
      limit: 192,
      gradientShards: 2,
      backend: 'wasm',
    }) as TrainBnnParams;
    const runs = [];
    for (const threads of [1, 2]) {
      const ctx = context(params, { dataset: datasetDir }, `bnn-threads-${threads}`, [], threads);
      const result = await trainBnnStage.run(ctx);
      expect(result?.metrics?.threads).toBe(threads);
      expect(readInfo(ctx.outDir).backend).toMatch(/^wasm .*, 2 gradient shards per batch$/);
      runs.push({ cbnn: fs.readFileSync(path.join(ctx.outDir, 'model.cbnn')), weights: fs.readFileSync(path.join(ctx.outDir, 'tfjs', 'weights.bin')) });
    }
    expect(runs[1].cbnn.equals(runs[0].cbnn)).toBe(true);
    expect(runs[1].weights.equals(runs[0].weights)).toBe(true);
  });

  it('train.bnn trains on the planes a plan keeps (and its alternatives)', async () => {
    const planDir = path.join(root, 'plan');
    fs.mkdirSync(planDir, { recursive: true });
    fs.writeFileSync(
      path.join(planDir, 'plan.json'),
      JSON.stringify({
        format: 'cbnn.plan',
        version: 1,
        keptPlanes: { grey: [7, 6, 5] },
        alternatives: { fewer: { planes: { grey: [7, 6] }, changedPlane: 'grey:b5' } },
      }),
    );
    const params = trainBnnStage.params.parse({
      arch: 'vgg-small',
      width: 0.1,
      epochs: 1,
      batchSize: 64,
      limit: 128,
      dropExtra: 1,
      backend: 'wasm',
      seed: 7,
    }) as TrainBnnParams;
    const ctx = context(params, { dataset: datasetDir, plan: planDir }, 'bnn-plan');
    await trainBnnStage.run(ctx);
    const info = readInfo(ctx.outDir);
    expect(info.planes.selection).toEqual({ grey: [7, 6] });
    // An explicit seed (a pipeline's seed axis) replaces the one derived from the key, and is recorded.
    expect(info.seed).toBe(7);
    expect(info.metrics.testRecords).toBeGreaterThan(0);
    const engine = readEngineModel(path.join(ctx.outDir, 'model.cbnn'));
    expect(engine.input.features).toBe(2);
    expect(engine.layers.map((l) => l.type)).toEqual(['conv', 'conv', 'maxpool2', 'conv', 'conv', 'maxpool2', 'dense', 'dense_out']);
  });

  it('rejects a plan together with planes, and an MLP with a real first layer', async () => {
    const both = trainBnnStage.params.parse({ arch: 'mlp', width: 0.1, epochs: 1, planes: { grey: [7] }, backend: 'cpu' }) as TrainBnnParams;
    await expect(trainBnnStage.run(context(both, { dataset: datasetDir, plan: root }, 'bad-1'))).rejects.toThrow(/not both/);
    const real = trainBnnStage.params.parse({ arch: 'mlp', width: 0.1, epochs: 1, firstLayer: 'real', backend: 'cpu' }) as TrainBnnParams;
    await expect(trainBnnStage.run(context(real, { dataset: datasetDir }, 'bad-2'))).rejects.toThrow(/real-valued dense/);
    expect(() => trainBnnStage.params.parse({ epochs: 0 })).toThrow();
  });

  it('train.fp trains the full-precision counterpart on scaled pixels', async () => {
    const params = trainFpStage.params.parse({ arch: 'mlp', width: 0.1, epochs: 3, batchSize: 50, learningRate: 0.01, backend: 'wasm' }) as TrainFpParams;
    const ctx = context(params, { dataset: datasetDir }, 'fp');
    const result = await trainFpStage.run(ctx);
    expect(Number(result?.metrics?.testAccuracy)).toBeGreaterThan(0.3);
    const info = readInfo(ctx.outDir);
    expect(info.kind).toBe('fp');
    expect(info.params.binary).toBe(0);
    expect(info.inputShape).toEqual([28, 28, 1]);
    expect(fs.existsSync(path.join(ctx.outDir, 'model.cbnn'))).toBe(false);
    expect(fs.existsSync(path.join(ctx.outDir, 'tfjs', 'model.json'))).toBe(true);
    // The ONNX export is a real ONNX protobuf (ModelProto field 1, ir_version, as a varint).
    const onnx = fs.readFileSync(path.join(ctx.outDir, 'model.onnx'));
    expect(onnx.length).toBeGreaterThan(1000);
    expect(onnx[0]).toBe(0x08);
  });
});
