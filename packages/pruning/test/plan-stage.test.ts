import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { standaloneStageContext } from '@cbnn/core';
import { loadModelEvaluation, perturbedAccuracy, readSensitivityReport, sensitivityPlanesStage, type SensitivityReport } from '@cbnn/sensitivity';
import { pruningPlanStage, readPlan } from '@cbnn/pruning';
// The sensitivity package's fixture: a real engine model and a dataset labelled by it.
import { engineFixture } from '../../sensitivity/test/engine-fixture';

let root: string;
let fx: ReturnType<typeof engineFixture>;
let sensitivityDir: string;
let table: SensitivityReport;

function context(name: string, inputs: Record<string, string>, params: unknown, handler: { params: { parse(x: unknown): any } }) {
  const outDir = path.join(root, name);
  fs.mkdirSync(outDir);
  return standaloneStageContext({
    stage: name,
    params: handler.params.parse(params),
    inputs,
    outDir,
    tmpDir: path.join(root, 'tmp'),
    seed: 77,
  });
}

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'cbnn-plan-'));
  fx = engineFixture(path.join(root, 'fx'), { test: 200 });
  const ctx = context('sensitivity', { model: fx.modelDir, dataset: fx.datasetDir }, { repeats: 2 }, sensitivityPlanesStage);
  await sensitivityPlanesStage.run(ctx);
  sensitivityDir = ctx.outDir;
  table = readSensitivityReport(path.join(sensitivityDir, 'sensitivity.json'));
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

async function plan(name: string, params: Record<string, unknown>, withModel = true) {
  const inputs: Record<string, string> = { sensitivity: sensitivityDir };
  if (withModel) Object.assign(inputs, { model: fx.modelDir, dataset: fx.datasetDir });
  const ctx = context(name, inputs, params, pruningPlanStage);
  await pruningPlanStage.run(ctx);
  return readPlan(path.join(ctx.outDir, 'plan.json'));
}

describe('pruning.plan on a real engine model', () => {
  const cumulative = (k: number) => table.rows.find((r) => r.scope === 'cumulative' && r.mode === 'randomize' && r.bits.length === k)!;

  it('lsb-first walks the cumulative rows of the table (no model needed for one channel)', async () => {
    // A budget that admits the first two cumulative sets and no more, whatever the model.
    const budget = Math.max(cumulative(1).dropPoints, cumulative(2).dropPoints);
    const p = await plan('lsb', { budgetPoints: budget }, false);
    expect(p.steps[0]).toMatchObject({ drop: 'grey:b0', accuracy: cumulative(1).accuracy, source: 'table' });
    expect(p.steps[1]).toMatchObject({ drop: 'grey:b1', accuracy: cumulative(2).accuracy, accepted: true });
    const keptCount = p.keptPlanes.grey.length;
    expect(keptCount).toBeLessThanOrEqual(6);
    expect(p.keptPlanes.grey).toEqual([7, 6, 5, 4, 3, 2, 1, 0].slice(0, keptCount));
    expect(p.baselineAccuracy).toBe(table.baselineAccuracy);
  });

  it('greedy re-measures on the engine; its numbers reproduce independently and respect the budget', async () => {
    const p = await plan('greedy', { policy: 'greedy', budgetPoints: 15 });
    const bestSingle = Math.max(...table.rows.filter((r) => r.scope === 'single' && r.mode === 'randomize').map((r) => r.accuracy));
    expect(p.steps[0].accuracy).toBe(bestSingle);
    const accepted = p.steps.filter((s) => s.accepted);
    for (const s of accepted) expect(s.dropPoints).toBeLessThanOrEqual(15 + 1e-9);
    const last = p.steps[p.steps.length - 1];
    if (!last.accepted) expect(last.dropPoints).toBeGreaterThan(15);
    // The fixture's planes cost more the more significant they are: a 15-point budget drops some.
    expect(accepted.length).toBeGreaterThanOrEqual(2);
    expect(last.accepted).toBe(false);
    {
      // Re-measure every accepted prefix outside the stage: same split, records, seed, repeats.
      const ev = loadModelEvaluation(fx.modelDir, fx.datasetDir, { split: table.split });
      accepted.forEach((step, i) => {
        const bits = accepted.slice(0, i + 1).map((s) => Number(s.drop.slice('grey:b'.length)));
        const m = perturbedAccuracy(ev.classify, ev.input, ev.data, [{ channel: 'grey', bits }], {
          mode: 'randomize',
          repeats: table.repeats,
          seed: table.seed,
        });
        expect(m.accuracy).toBe(step.accuracy);
      });
      expect(p.droppedPlanes.grey).toEqual(accepted.map((s) => Number(s.drop.slice('grey:b'.length))).sort((a, b) => a - b));
    }
    const all = [...p.keptPlanes.grey, ...(p.droppedPlanes.grey ?? [])].sort();
    expect(all).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it("decides on validation; refuses a table measured on test unless the authors' variant is asked for by name", async () => {
    expect(table.split).toBe('validation');
    const p = await plan('onvalidation', { budgetPoints: 5 }, false);
    expect(p).toMatchObject({ split: 'validation', records: table.records });
    const onTest = path.join(root, 'on-test');
    fs.mkdirSync(onTest);
    fs.writeFileSync(path.join(onTest, 'sensitivity.json'), JSON.stringify({ ...table, split: 'test' }));
    const refused = pruningPlanStage.run(context('refused', { sensitivity: onTest }, {}, pruningPlanStage));
    await expect(refused).rejects.toMatchObject({ location: { file: path.join(onTest, 'sensitivity.json'), field: 'split' } });
    await expect(pruningPlanStage.run(context('refused2', { sensitivity: onTest }, {}, pruningPlanStage))).rejects.toThrow(
      /stage 'refused2' \(pruning.plan\) decides on the validation split, but the sensitivity table was measured on the test split/,
    );
    const ctx = context('authors', { sensitivity: onTest }, { split: 'test', budgetPoints: 5 }, pruningPlanStage);
    await pruningPlanStage.run(ctx);
    expect(readPlan(path.join(ctx.outDir, 'plan.json'))).toMatchObject({ split: 'test' });
  });

  it('fails clearly: greedy without the model, a mode the table lacks, a malformed table', async () => {
    await expect(plan('nomodel', { policy: 'greedy', budgetPoints: 100 }, false)).rejects.toThrow(/model and dataset/);
    const zeroOnly = path.join(root, 'zero-only');
    fs.mkdirSync(zeroOnly);
    fs.writeFileSync(path.join(zeroOnly, 'sensitivity.json'), JSON.stringify({ ...table, rows: table.rows.filter((r) => r.mode === 'zero') }));
    const ctx = context('zeromode', { sensitivity: zeroOnly }, {}, pruningPlanStage);
    await expect(pruningPlanStage.run(ctx)).rejects.toMatchObject({ location: { file: path.join(zeroOnly, 'sensitivity.json'), field: 'rows' } });
    fs.writeFileSync(path.join(zeroOnly, 'sensitivity.json'), '{"format": "cbnn.sensitivity"');
    await expect(pruningPlanStage.run(context('broken', { sensitivity: zeroOnly }, {}, pruningPlanStage))).rejects.toThrow(/sensitivity.json.*|not valid JSON/);
    fs.writeFileSync(path.join(zeroOnly, 'sensitivity.json'), JSON.stringify({ ...table, baselineAccuracy: 7 }));
    await expect(pruningPlanStage.run(context('range', { sensitivity: zeroOnly }, {}, pruningPlanStage))).rejects.toMatchObject({
      location: { field: 'baselineAccuracy' },
    });
  });
});
