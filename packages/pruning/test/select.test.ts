import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { noProgress, silentLogger, InvalidInputError, type PlaneSelection } from '@cbnn/core';
import { randomEngineModel, writeEngineModel } from '@cbnn/kernels';
import { pruningSelectStage, readSearchResult, searchResultSchema, type SearchResult } from '@cbnn/pruning';

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'cbnn-select-'));
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

/** A model.bnn folder in the real formats: a real model.cbnn (random weights) and model-info.json. */
function modelFolder(dir: string, o: { hidden: number; planes: PlaneSelection; width: number; val: number; test: number; kind?: 'bnn' | 'fp' }): void {
  fs.mkdirSync(dir, { recursive: true });
  const features = Object.values(o.planes).reduce((n, b) => n + b.length, 0);
  const binary = 8 * 8 * features * o.hidden + o.hidden * 10;
  if ((o.kind ?? 'bnn') === 'bnn') {
    writeEngineModel(path.join(dir, 'model.cbnn'), randomEngineModel({ height: 8, width: 8, features, classes: 10, layers: [{ type: 'dense', outC: o.hidden }] }));
  }
  fs.writeFileSync(
    path.join(dir, 'model-info.json'),
    JSON.stringify({
      kind: o.kind ?? 'bnn',
      arch: 'mlp',
      width: o.width,
      planes: { selection: o.planes, layout: {} },
      params: { binary: o.kind === 'fp' ? 0 : binary, float: o.kind === 'fp' ? binary : 4 * o.hidden + 20 },
      metrics: { validationAccuracy: o.val, testAccuracy: o.test, bestEpoch: 3, epochs: 4 },
    }),
  );
}

async function runSelect(inputs: Record<string, string>, params: { budgetPoints?: number } = {}) {
  const outDir = path.join(root, 'out');
  fs.mkdirSync(outDir, { recursive: true });
  const result = await pruningSelectStage.run({
    stage: 'select',
    params: pruningSelectStage.params.parse(params),
    inputs,
    outDir,
    tmpDir: path.join(root, 'tmp'),
    logger: silentLogger(),
    progress: noProgress,
    signal: new AbortController().signal,
    seed: 1,
    threads: 1,
  });
  return { outDir, metrics: result?.metrics };
}

describe('pruning.select', () => {
  const all: PlaneSelection = { grey: [7, 6, 5, 4, 3, 2, 1, 0] };
  function fixture() {
    modelFolder(path.join(root, 'baseline'), { hidden: 64, planes: all, width: 1, val: 0.98, test: 0.979 });
    const c = path.join(root, 'candidates');
    // Smallest, but 1.5 points below on validation: its TEST accuracy (0.985) would make it the
    // pick of a test-based selection.
    modelFolder(path.join(c, 'p3-w0.25'), { hidden: 16, planes: { grey: [7, 6, 5] }, width: 0.25, val: 0.965, test: 0.985 });
    // Within the validation budget (0.8 points), poor on test: a validation selection picks it.
    modelFolder(path.join(c, 'p4-w0.5'), { hidden: 32, planes: { grey: [7, 6, 5, 4] }, width: 0.5, val: 0.972, test: 0.95 });
    modelFolder(path.join(c, 'p4-w1'), { hidden: 64, planes: { grey: [7, 6, 5, 4] }, width: 1, val: 0.99, test: 0.99 });
    modelFolder(path.join(root, 'fp'), { hidden: 64, planes: all, width: 1, val: 0.99, test: 0.99, kind: 'fp' });
    return { baseline: path.join(root, 'baseline'), candidates: c, fp: path.join(root, 'fp') };
  }

  it('picks the smallest model within the budget on validation accuracy, never on test', async () => {
    const inputs = fixture();
    const { outDir, metrics } = await runSelect(inputs);
    const result: SearchResult = readSearchResult(path.join(outDir, 'search.json'));
    expect(searchResultSchema.parse(result)).toEqual(result);
    expect(result.chosen).toBe('p4-w0.5');
    expect(result.selection).toBe('validation');
    const byName = Object.fromEntries(result.candidates.map((c) => [c.name, c]));
    expect(byName['p3-w0.25'].withinBudget).toBe(false);
    expect(byName['p3-w0.25'].packedBytes).toBeLessThan(byName['p4-w0.5'].packedBytes);
    // Sizes are the real files on disk.
    const chosenBytes = fs.statSync(path.join(inputs.candidates, 'p4-w0.5', 'model.cbnn')).size;
    const baselineBytes = fs.statSync(path.join(inputs.baseline, 'model.cbnn')).size;
    expect(byName['p4-w0.5'].packedBytes).toBe(chosenBytes);
    expect(result.compression.vsBaselinePacked).toBeCloseTo(baselineBytes / chosenBytes, 12);
    // Against the full-precision model's float32 weights.
    expect(result.fullPrecision?.float32Bytes).toBe((8 * 8 * 8 * 64 + 640 + 0) * 4);
    expect(result.compression.vsFullPrecisionFloat32).toBeCloseTo(result.fullPrecision!.float32Bytes / chosenBytes, 12);
    expect(byName['p4-w0.5'].float32Bytes).toBe((8 * 8 * 4 * 32 + 320 + 4 * 32 + 20) * 4);
    // The chosen model is copied whole.
    expect(fs.readFileSync(path.join(outDir, 'chosen', 'model.cbnn'))).toEqual(fs.readFileSync(path.join(inputs.candidates, 'p4-w0.5', 'model.cbnn')));
    expect(fs.readFileSync(path.join(outDir, 'search.md'), 'utf8')).toContain('**p4-w0.5**');
    expect(metrics).toMatchObject({ chosen: 'p4-w0.5', candidates: 3, withinBudget: 2 });
  });

  it('a wider budget admits the smaller model; a zero budget with no candidate at the baseline keeps the baseline', async () => {
    const inputs = fixture();
    expect(readSearchResult(path.join((await runSelect(inputs, { budgetPoints: 1.5 })).outDir, 'search.json')).chosen).toBe('p3-w0.25');
    fs.rmSync(path.join(root, 'out'), { recursive: true });
    fs.rmSync(path.join(inputs.candidates, 'p4-w1'), { recursive: true });
    const { outDir } = await runSelect(inputs, { budgetPoints: 0 });
    const result = readSearchResult(path.join(outDir, 'search.json'));
    expect(result.chosen).toBe('baseline');
    expect(result.compression.vsBaselinePacked).toBe(1);
    expect(fs.existsSync(path.join(outDir, 'chosen', 'model.cbnn'))).toBe(true);
  });

  it('names the file on missing or malformed inputs', async () => {
    const inputs = fixture();
    const info = path.join(inputs.candidates, 'p4-w1', 'model-info.json');
    fs.writeFileSync(info, '{ "kind": "bnn", ');
    await expect(runSelect(inputs)).rejects.toThrow(InvalidInputError);
    await expect(runSelect(inputs)).rejects.toMatchObject({ location: { file: info }, message: expect.stringMatching(/not valid JSON/) });

    fs.writeFileSync(info, JSON.stringify({ kind: 'bnn', width: 1, planes: { selection: all }, params: { binary: 1, float: 1 }, metrics: { testAccuracy: 0.9 } }));
    await expect(runSelect(inputs)).rejects.toMatchObject({ location: { file: info, field: 'metrics.validationAccuracy' } });

    fs.rmSync(info);
    await expect(runSelect(inputs)).rejects.toMatchObject({ location: { file: info }, message: expect.stringMatching(/cannot read model summary: file not found/) });

    const cbnn = path.join(inputs.baseline, 'model.cbnn');
    fs.rmSync(cbnn);
    await expect(runSelect(inputs)).rejects.toMatchObject({ location: { file: cbnn } });

    const fresh = fixture();
    await expect(runSelect({ ...fresh, candidates: path.join(root, 'missing') })).rejects.toMatchObject({ location: { file: path.join(root, 'missing') } });
    fs.mkdirSync(path.join(root, 'empty'));
    await expect(runSelect({ ...fresh, candidates: path.join(root, 'empty') })).rejects.toThrow(/holds no model folder/);
  });
});
