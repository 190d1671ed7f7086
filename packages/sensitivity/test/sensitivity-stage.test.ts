import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { standaloneStageContext, readDataset, writeDataset, createRng } from '@cbnn/core';
import { createEngine } from '@cbnn/kernels';
import { perturbationMasks, perturbPixels, readSensitivityReport, sensitivityPlanesStage, type SensitivityReport } from '@cbnn/sensitivity';
import { engineFixture } from './engine-fixture';

let root: string;
beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'cbnn-sens-'));
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

async function runStage(inputs: Record<string, string>, params: Record<string, unknown>, name: string): Promise<string> {
  const outDir = path.join(root, name);
  fs.mkdirSync(outDir);
  await sensitivityPlanesStage.run(
    standaloneStageContext({
      stage: name,
      params: sensitivityPlanesStage.params.parse(params),
      inputs,
      outDir,
      tmpDir: path.join(root, 'tmp'),
      seed: 1234,
    }),
  );
  return outDir;
}

describe('sensitivity.planes on the packed engine', () => {
  let fx: ReturnType<typeof engineFixture>;
  let wasmTable: SensitivityReport;
  beforeAll(async () => {
    fx = engineFixture(path.join(root, 'fx'));
    const out = await runStage({ model: fx.modelDir, dataset: fx.datasetDir }, { repeats: 3, impl: 'wasm' }, 'wasm');
    wasmTable = readSensitivityReport(path.join(out, 'sensitivity.json'));
    expect(fs.readFileSync(path.join(out, 'sensitivity.csv'), 'utf8').trim().split('\n')).toHaveLength(wasmTable.rows.length + 1);
  });

  it('measures the unperturbed accuracy the engine measures itself', () => {
    expect(wasmTable.baselineAccuracy).toBe(1);
    // The default split is validation: the test split never informs the plan.
    expect(wasmTable.baselineAccuracy).toBe(createEngine(fx.model).evaluate(fx.datasetDir, 'validation').accuracy);
    expect(wasmTable).toMatchObject({ split: 'validation', records: 300, seed: 1234, repeats: 3 });
    expect(wasmTable.rows).toHaveLength(32);
    // Perturbing every plane of a random-weight model costs a lot; randomized repeats differ.
    const all = wasmTable.rows.find((r) => r.scope === 'cumulative' && r.mode === 'randomize' && r.bits.length === 8)!;
    expect(all.dropPoints).toBeGreaterThan(20);
    expect(all.accuracyStd).toBeGreaterThan(0);
  });

  it('gives the same table on the reference kernels', async () => {
    // The reference kernels are slow: compare on the first 30 records.
    const params = { repeats: 2, limit: 30 };
    const ref = await runStage({ model: fx.modelDir, dataset: fx.datasetDir }, { ...params, impl: 'reference' }, 'reference');
    const wasm = await runStage({ model: fx.modelDir, dataset: fx.datasetDir }, { ...params, impl: 'wasm' }, 'wasm30');
    const table = readSensitivityReport(path.join(ref, 'sensitivity.json'));
    expect(table).toEqual(readSensitivityReport(path.join(wasm, 'sensitivity.json')));
    expect(table.rows.some((r) => r.dropPoints > 0)).toBe(true);
  });

  it('equals the engine evaluating a dataset perturbed independently (zero mode)', () => {
    const ds = readDataset(fx.datasetDir);
    for (const bits of [[7], [0, 1, 2, 3]]) {
      const perturbed = perturbPixels(ds.images, 1, perturbationMasks([{ channel: 'grey', bits }], ['grey']), 'zero', createRng(0));
      const dir = path.join(root, `zero-${bits.join('')}`);
      writeDataset(dir, ds.manifest, perturbed, ds.labels);
      const expected = createEngine(fx.model).evaluate(dir, 'validation').accuracy;
      const row = wasmTable.rows.find((r) => r.mode === 'zero' && r.scope === (bits.length === 1 ? 'single' : 'cumulative') && r.bits.join() === bits.join())!;
      expect(row.accuracy).toBe(expected);
    }
  });

  it('honours limit and split, and names the file of a bad model', async () => {
    const out = await runStage({ model: fx.modelDir, dataset: fx.datasetDir }, { limit: 50, modes: ['zero'] }, 'limit');
    const t = readSensitivityReport(path.join(out, 'sensitivity.json'));
    expect(t.records).toBe(50);
    expect(t.rows.every((r) => r.mode === 'zero' && r.repeats === 1)).toBe(true);
    const onTest = readSensitivityReport(
      path.join(await runStage({ model: fx.modelDir, dataset: fx.datasetDir }, { split: 'test', limit: 40, modes: ['zero'] }, 'ontest'), 'sensitivity.json'),
    );
    expect(onTest).toMatchObject({ split: 'test', records: 40 });
    await expect(runStage({ model: fx.modelDir, dataset: fx.datasetDir }, { split: 'train' }, 'emptysplit')).rejects.toThrow(/train split is empty/);
    const bad = path.join(root, 'badmodel');
    fs.mkdirSync(bad);
    fs.writeFileSync(path.join(bad, 'model.cbnn'), 'not a model');
    await expect(runStage({ model: bad, dataset: fx.datasetDir }, {}, 'bad')).rejects.toMatchObject({ location: { file: path.join(bad, 'model.cbnn') } });
  });
});
