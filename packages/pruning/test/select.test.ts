import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { standaloneStageContext, InvalidInputError, type PlaneSelection } from '@cbnn/core';
import { randomEngineModel, writeEngineModel } from '@cbnn/kernels';
import { pruningSelectStage, readSearchResult, searchResultSchema, type SearchResult } from '@cbnn/pruning';

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'cbnn-select-'));
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

/** A model.bnn folder in the real formats: a real model.cbnn (random weights) and model-info.json. */
function modelFolder(
  dir: string,
  o: { hidden: number; planes: PlaneSelection; width: number; val: number; test: number; kind?: 'bnn' | 'fp'; seed?: number },
): void {
  fs.mkdirSync(dir, { recursive: true });
  const features = Object.values(o.planes).reduce((n, b) => n + b.length, 0);
  const binary = 8 * 8 * features * o.hidden + o.hidden * 10;
  if ((o.kind ?? 'bnn') === 'bnn') {
    writeEngineModel(
      path.join(dir, 'model.cbnn'),
      randomEngineModel({ height: 8, width: 8, features, classes: 10, layers: [{ type: 'dense', outC: o.hidden }] }),
    );
  }
  fs.writeFileSync(
    path.join(dir, 'model-info.json'),
    JSON.stringify({
      kind: o.kind ?? 'bnn',
      arch: 'mlp',
      seed: o.seed ?? 1,
      width: o.width,
      planes: { selection: o.planes, layout: {} },
      params: { binary: o.kind === 'fp' ? 0 : binary, float: o.kind === 'fp' ? binary : 4 * o.hidden + 20 },
      metrics: { validationAccuracy: o.val, testAccuracy: o.test, bestEpoch: 3, epochs: 4, testRecords: 2000 },
      training: { epochs: 4 },
    }),
  );
}

async function runSelect(inputs: Record<string, string>, params: { budgetPoints?: number } = {}) {
  const outDir = path.join(root, 'out');
  fs.rmSync(outDir, { recursive: true, force: true });
  fs.mkdirSync(outDir, { recursive: true });
  const result = await pruningSelectStage.run(
    standaloneStageContext({
      stage: 'select',
      params: pruningSelectStage.params.parse(params),
      inputs,
      outDir,
      tmpDir: path.join(root, 'tmp'),
      seed: 1,
    }),
  );
  return { outDir, metrics: result?.metrics };
}

const P4_W05 = 'b7b6b5b4-w0.5';

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
    // Configurations are named by their kept planes and width.
    expect(result.chosen).toBe(P4_W05);
    expect(result.chosenInstance).toBe('p4-w0.5');
    expect(result.selection).toBe('validation');
    const byName = Object.fromEntries(result.candidates.map((c) => [c.seeds[0].instance, c]));
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
    expect(fs.readFileSync(path.join(outDir, 'search.md'), 'utf8')).toContain(`**${P4_W05}**`);
    expect(fs.readFileSync(path.join(outDir, 'search.md'), 'utf8')).toContain('One seed per configuration');
    expect(metrics).toMatchObject({ chosen: P4_W05, candidates: 3, withinBudget: 2 });
    // One seed: the test interval is Wilson's on the 2,000 test images.
    expect(byName['p4-w0.5'].testInterval95).toMatchObject({ method: 'wilson' });
    expect(byName['p4-w0.5'].testInterval95!.low).toBeLessThan(0.95);
    expect(byName['p4-w0.5'].testInterval95!.high).toBeGreaterThan(0.95);
  });

  it('a wider budget admits the smaller model; a zero budget with no candidate at the baseline keeps the baseline', async () => {
    const inputs = fixture();
    expect(readSearchResult(path.join((await runSelect(inputs, { budgetPoints: 1.5 })).outDir, 'search.json')).chosen).toBe('b7b6b5-w0.25');
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

    fs.writeFileSync(
      info,
      JSON.stringify({ kind: 'bnn', width: 1, planes: { selection: all }, params: { binary: 1, float: 1 }, metrics: { testAccuracy: 0.9 } }),
    );
    await expect(runSelect(inputs)).rejects.toMatchObject({ location: { file: info, field: 'metrics.validationAccuracy' } });

    fs.rmSync(info);
    await expect(runSelect(inputs)).rejects.toMatchObject({
      location: { file: info },
      message: expect.stringMatching(/cannot read model summary: file not found/),
    });

    const cbnn = path.join(inputs.baseline, 'model.cbnn');
    fs.rmSync(cbnn);
    await expect(runSelect(inputs)).rejects.toMatchObject({ location: { file: cbnn } });

    const fresh = fixture();
    await expect(runSelect({ ...fresh, candidates: path.join(root, 'missing') })).rejects.toMatchObject({ location: { file: path.join(root, 'missing') } });
    fs.mkdirSync(path.join(root, 'empty'));
    await expect(runSelect({ ...fresh, candidates: path.join(root, 'empty') })).rejects.toThrow(/holds no model folder/);
  });

  it('pools seeds: mean ± std per configuration, the SE of the drop counts against the budget', async () => {
    const b = path.join(root, 'baseline');
    modelFolder(path.join(b, 'baseline-s1'), { hidden: 64, planes: all, width: 1, val: 0.98, test: 0.979, seed: 1 });
    modelFolder(path.join(b, 'baseline-s2'), { hidden: 64, planes: all, width: 1, val: 0.982, test: 0.981, seed: 2 });
    const c = path.join(root, 'candidates');
    // Mean drop 0.7 points, but the seeds disagree: SE of the difference ~0.5 points pushes it over a 1-point budget.
    modelFolder(path.join(c, 'w0.25-s1'), { hidden: 16, planes: { grey: [7] }, width: 0.25, val: 0.98, test: 0.97, seed: 1 });
    modelFolder(path.join(c, 'w0.25-s2'), { hidden: 16, planes: { grey: [7] }, width: 0.25, val: 0.966, test: 0.96, seed: 2 });
    // Mean drop 0.6 points with agreeing seeds: within budget.
    modelFolder(path.join(c, 'w0.5-s1'), { hidden: 32, planes: { grey: [7] }, width: 0.5, val: 0.975, test: 0.974, seed: 1 });
    modelFolder(path.join(c, 'w0.5-s2'), { hidden: 32, planes: { grey: [7] }, width: 0.5, val: 0.975, test: 0.97, seed: 2 });
    const k = path.join(root, 'controls');
    modelFolder(path.join(k, 'all-w0.5-s1'), { hidden: 32, planes: all, width: 0.5, val: 0.976, test: 0.975, seed: 1 });
    modelFolder(path.join(k, 'all-w0.5-s2'), { hidden: 32, planes: all, width: 0.5, val: 0.978, test: 0.977, seed: 2 });
    const { outDir } = await runSelect({ baseline: b, candidates: c, controls: k });
    const result = readSearchResult(path.join(outDir, 'search.json'));
    expect(result.seeds).toEqual([1, 2]);
    expect(result.baseline.validation).toMatchObject({ n: 2 });
    expect(result.baseline.validation.mean).toBeCloseTo(0.981, 12);
    const narrow = result.candidates.find((x) => x.name === 'b7-w0.25')!;
    expect(narrow.validationDropPoints).toBeCloseTo(0.8, 9);
    expect(narrow.dropStandardErrorPoints).toBeCloseTo(Math.sqrt((0.014 ** 2 / 2 + 0.002 ** 2 / 2) / 2) * 100, 9);
    expect(narrow.withinBudget).toBe(false);
    expect(result.chosen).toBe('b7-w0.5');
    // Both seeds agree on validation: the tie goes to the instance name; the control at that width is copied with the same seed.
    expect(result.chosenInstance).toBe('w0.5-s1');
    expect(result.controlInstance).toBe('all-w0.5-s1');
    expect(fs.existsSync(path.join(outDir, 'control', 'model.cbnn'))).toBe(true);
    // Two seeds: the test interval is the t interval over seeds.
    expect(result.candidates.find((x) => x.name === 'b7-w0.5')!.testInterval95).toMatchObject({ method: 'seeds-t' });
    // The ablation: 1 plane vs 8 at w=0.5.
    expect(result.ablation).toHaveLength(1);
    const a = result.ablation[0];
    expect(a).toMatchObject({
      width: 0.5,
      pruned: 'b7-w0.5',
      control: 'all-w0.5',
      prunedPlaneCount: 1,
      controlPlaneCount: 8,
      prunedInputBits: 64,
      controlInputBits: 512,
    });
    expect(a.validationDeltaPoints.mean).toBeCloseTo(-0.2, 9);
    expect(a.testDeltaPoints.mean).toBeCloseTo(-0.4, 9);
    expect(a.prunedBytes).toBeLessThan(a.controlBytes);
    expect(result.attribution.map((r) => r.quantity)).toEqual(expect.arrayContaining(['packed bytes', 'input bits per image', 'test accuracy (points)']));
    expect(fs.readFileSync(path.join(outDir, 'search.md'), 'utf8')).toMatch(/Ablation: kept planes vs all planes/);
  });

  it('says "one seed" for an ablation of single runs instead of a zero spread', async () => {
    const inputs = fixture();
    const k = path.join(root, 'controls');
    modelFolder(path.join(k, 'all-w0.5-s1'), { hidden: 32, planes: all, width: 0.5, val: 0.97, test: 0.96 });
    const { outDir } = await runSelect({ ...inputs, controls: k });
    const result = readSearchResult(path.join(outDir, 'search.json'));
    expect(result.ablation[0]).toMatchObject({ width: 0.5, seeds: 1 });
    expect(fs.readFileSync(path.join(outDir, 'search.md'), 'utf8')).toContain('| +0.20 (one seed) | -1.00 (one seed) |');
  });

  it('counts the epochs that early stops saved and lists each stopped instance', async () => {
    const inputs = fixture();
    const info = path.join(inputs.candidates, 'p3-w0.25', 'model-info.json');
    const j = JSON.parse(fs.readFileSync(info, 'utf8'));
    j.metrics = { ...j.metrics, epochs: 1, stoppedEarly: true, stopReason: 'stopped at epoch 1/4 (rung 25%): ...' };
    fs.writeFileSync(info, JSON.stringify(j));
    const { outDir } = await runSelect(inputs);
    const result = readSearchResult(path.join(outDir, 'search.json'));
    expect(result.epochsSaved).toBe(3);
    expect(result.candidates.find((c) => c.seeds[0].instance === 'p3-w0.25')!.seeds[0]).toMatchObject({ stoppedEarly: true, epochs: 1, epochsPlanned: 4 });
    expect(fs.readFileSync(path.join(outDir, 'search.md'), 'utf8')).toContain(
      'Stopped early (3 training epochs saved): p3-w0.25 (b7b6b5-w0.25) after epoch 1 of 4 — stopped at epoch 1/4',
    );
  });

  it('counts an exact repeat of a training once; refuses two different models under one seed', async () => {
    const inputs = fixture();
    const again = path.join(inputs.candidates, 'p4-w0.5-again');
    fs.cpSync(path.join(inputs.candidates, 'p4-w0.5'), again, { recursive: true });
    const result = readSearchResult(path.join((await runSelect(inputs)).outDir, 'search.json'));
    expect(result.repeatedInstances).toEqual(['p4-w0.5-again']);
    expect(result.candidates.find((c) => c.name === P4_W05)!.seeds.map((s) => s.instance)).toEqual(['p4-w0.5']);
    // Other weights under the same configuration and seed: not a repeat.
    modelFolder(again, { hidden: 48, planes: { grey: [7, 6, 5, 4] }, width: 0.5, val: 0.97, test: 0.95 });
    await expect(runSelect(inputs)).rejects.toThrow(/same seed 1 but differ/);
  });
});
