import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildDataset } from '@cbnn/bitslice';
import { InvalidInputError, standaloneStageContext, type StageContext } from '@cbnn/core';
import { budgetStopRule, earlyStopSchema, modelInfoSchema, readReferenceCurve, trainBnnStage, type TrainBnnParams } from '../src';

let root: string;
beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'cbnn-early-stop-'));
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function referenceFolder(name: string, curve: number[]): string {
  const dir = path.join(root, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'epochs.jsonl'), curve.map((v, i) => JSON.stringify({ epoch: i + 1, validationAccuracy: v })).join('\n') + '\n');
  return dir;
}

describe('the budget stop rule', () => {
  // The reference gains 3 points after its first quarter (0.95 at epoch 2 of 8, best 0.98).
  const reference = { validation: [0.9, 0.95, 0.96, 0.97, 0.975, 0.978, 0.98, 0.98], best: 0.98 };
  const params = earlyStopSchema.parse({ budgetPoints: 1 });

  it('stops only at a rung, and only when even the reference-shaped gain cannot reach the floor', () => {
    const rule = budgetStopRule(reference, params);
    // Floor 97%. At the 25% rung (epoch 4 of 16) the reference still had 3 points to gain: 2 x 3 + 0.5.
    expect(rule(3, 16, 0.5)).toBeUndefined(); // not a rung
    expect(rule(4, 16, 0.905)).toBeUndefined(); // 90.5 + 6 + 0.5 = 97.0: reaches the floor
    expect(rule(4, 16, 0.9)).toMatch(/^stopped at epoch 4\/16 \(rung 25%\): best validation 90\.00% \+ 2 x 3\.00 pts .* = 96\.50% < 97\.00%/);
    // At 50% the reference had 1 point left: a candidate at 94% cannot make it, one at 95.5% can.
    expect(rule(8, 16, 0.94)).toMatch(/rung 50%/);
    expect(rule(8, 16, 0.955)).toBeUndefined();
    // Never at the last epoch, never after the rungs.
    expect(rule(12, 16, 0.1)).toBeUndefined();
  });

  it('reads the reference curve from epochs.jsonl, naming the file and line of bad records', () => {
    const dir = referenceFolder('ref-ok', reference.validation);
    expect(readReferenceCurve(dir, 'epochs.jsonl')).toEqual(reference);
    const bad = referenceFolder('ref-bad', [0.9]);
    fs.appendFileSync(path.join(bad, 'epochs.jsonl'), '{"validationAccuracy": 7}\n');
    expect(() => readReferenceCurve(bad, 'epochs.jsonl')).toThrow(InvalidInputError);
    try {
      readReferenceCurve(bad, 'epochs.jsonl');
    } catch (e) {
      expect((e as InvalidInputError).location).toMatchObject({ file: path.join(bad, 'epochs.jsonl'), line: 2, field: 'validationAccuracy' });
    }
    expect(() => readReferenceCurve(path.join(root, 'nowhere'), 'epochs.jsonl')).toThrow(/no per-epoch validation record/);
  });
});

describe('train.bnn with earlyStop', () => {
  let datasetDir: string;
  beforeAll(() => {
    datasetDir = path.join(root, 'dataset');
    buildDataset(datasetDir, { source: 'mnist', seed: 1, limit: { total: 400 } });
  });

  /** A tiny real candidate (an MLP on 400 digits), trained into its own folder. */
  async function trainCandidate(
    name: string,
    extra: Record<string, unknown>,
    inputs: Record<string, string>,
  ): Promise<{ outDir: string; ctx: StageContext<TrainBnnParams> }> {
    const params = trainBnnStage.params.parse({ arch: 'mlp', width: 0.05, epochs: 8, batchSize: 50, backend: 'wasm', ...extra }) as TrainBnnParams;
    const outDir = path.join(root, name);
    fs.mkdirSync(outDir);
    const ctx: StageContext<TrainBnnParams> = standaloneStageContext({
      stage: 'search',
      params,
      inputs: { dataset: datasetDir, ...inputs },
      outDir,
      tmpDir: path.join(root, `${name}-tmp`),
      seed: 3,
    });
    await trainBnnStage.run(ctx);
    return { outDir, ctx };
  }
  const infoOf = (outDir: string) => modelInfoSchema.parse(JSON.parse(fs.readFileSync(path.join(outDir, 'model-info.json'), 'utf8')));

  it('stops a candidate that cannot reach the reference, and records why and when', async () => {
    // A reference that reached 100% and gained 10 points after its first quarter: no tiny MLP on 300 digits gets there.
    const reference = referenceFolder('reference', [0.9, 0.95, 1, 1]);
    const { outDir, ctx } = await trainCandidate('out', { earlyStop: { budgetPoints: 0, slack: 1, marginPoints: 0 } }, { reference });
    const info = infoOf(outDir);
    expect(info.metrics.stoppedEarly).toBe(true);
    expect(info.metrics.epochs).toBe(2);
    expect(info.metrics.stopReason).toMatch(/^stopped at epoch 2\/8 \(rung 25%\)/);
    expect(fs.existsSync(path.join(outDir, 'model.cbnn'))).toBe(true);

    await expect(trainBnnStage.run({ ...ctx, inputs: { dataset: datasetDir } })).rejects.toThrow(/earlyStop needs a 'reference' input/);
  });

  // Why an early-stopped search chooses what full training would whenever it stops nothing: the
  // rule only reads validation accuracies, so a candidate it lets run is trained exactly as
  // without it, to the same bytes (the search's record then says "0 stopped").
  it('leaves a candidate it does not stop byte-identical to full training', async () => {
    const easy = referenceFolder('easy-reference', [0.2, 0.2, 0.2, 0.2]);
    const watched = await trainCandidate('watched', { epochs: 4, earlyStop: { budgetPoints: 1 } }, { reference: easy });
    const full = await trainCandidate('full', { epochs: 4 }, {});
    expect(infoOf(watched.outDir).metrics.stoppedEarly).toBeFalsy();
    expect(infoOf(watched.outDir).metrics.epochs).toBe(4);
    expect(fs.readFileSync(path.join(watched.outDir, 'model.cbnn')).equals(fs.readFileSync(path.join(full.outDir, 'model.cbnn')))).toBe(true);
    expect(fs.readFileSync(path.join(watched.outDir, 'epochs.jsonl'), 'utf8')).toBe(fs.readFileSync(path.join(full.outDir, 'epochs.jsonl'), 'utf8'));
  });
});
