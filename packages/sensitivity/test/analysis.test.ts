import { allPlanes, createRng, resolvePlanes } from '@cbnn/core';
import { analyseSensitivity, perturbedAccuracy, sensitivityCsv, sensitivityReportSchema, type ClassifierInput, type PackedClassifier } from '@cbnn/sensitivity';

// A 4x4 grey "model" that answers the most significant bit of pixel 0: feature 0 (plane b7) of
// the first packed word of each image. The label is that same bit, so the unperturbed accuracy
// is 1 and only plane b7 matters.
const H = 4;
const W = 4;
const input: ClassifierInput = { height: H, width: W, channelNames: ['grey'], layout: resolvePlanes(allPlanes(['grey']), ['grey']) };
const msbOfFirstPixel: PackedClassifier = (packed, count) => {
  const out = new Uint8Array(count);
  for (let i = 0; i < count; i++) out[i] = packed[i * H * W] & 1;
  return out;
};

function data(n: number) {
  const images = createRng(11).fillBytes(new Uint8Array(n * H * W));
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) labels[i] = images[i * H * W] >> 7;
  return { split: 'test' as const, images, labels };
}

describe('analyseSensitivity on a model that reads one plane', () => {
  const set = data(2000);
  const zeros = set.labels.filter((l) => l === 0).length / set.labels.length;
  const report = analyseSensitivity(msbOfFirstPixel, input, set, { modes: ['randomize', 'zero'], repeats: 4, seed: 99, batchSize: 300 });
  const row = (scope: string, mode: string, label: string) => {
    const r = report.rows.find((x) => x.scope === scope && x.mode === mode && x.label === label);
    if (!r) throw new Error(`no row ${scope} ${mode} ${label}`);
    return r;
  };

  it('has the contract shape and every plane alone and cumulatively, in both modes', () => {
    expect(sensitivityReportSchema.parse(report)).toEqual(report);
    expect(report.baselineAccuracy).toBe(1);
    expect(report.records).toBe(2000);
    expect(report.rows).toHaveLength((8 + 8) * 2);
  });

  it('finds the one plane that matters and no other', () => {
    for (let b = 0; b < 7; b++) {
      expect(row('single', 'randomize', `grey:b${b}`).accuracy).toBe(1);
      expect(row('single', 'zero', `grey:b${b}`).dropPoints).toBe(0);
    }
    expect(row('cumulative', 'randomize', 'grey:b0-b6').accuracy).toBe(1);
    const random = row('single', 'randomize', 'grey:b7');
    expect(Math.abs(random.accuracy - 0.5)).toBeLessThan(0.05);
    expect(random.accuracyStd).toBeGreaterThan(0);
    expect(random.repeats).toBe(4);
    expect(random.dropPoints).toBeCloseTo((1 - random.accuracy) * 100, 10);
    const zero = row('single', 'zero', 'grey:b7');
    expect(zero.accuracy).toBeCloseTo(zeros, 12);
    expect(zero.repeats).toBe(1);
    expect(zero.accuracyStd).toBe(0);
    // The same plane set draws the same random stream, whichever row it appears in.
    expect(row('cumulative', 'randomize', 'grey:b0').accuracy).toBe(row('single', 'randomize', 'grey:b0').accuracy);
  });

  it('re-measures a set to exactly the table value, independent of batch size', () => {
    const again = perturbedAccuracy(msbOfFirstPixel, input, set, [{ channel: 'grey', bits: [7] }], { mode: 'randomize', repeats: 4, seed: 99, batchSize: 7 });
    expect(again.accuracy).toBe(row('single', 'randomize', 'grey:b7').accuracy);
    const other = perturbedAccuracy(msbOfFirstPixel, input, set, [{ channel: 'grey', bits: [7] }], { mode: 'randomize', repeats: 4, seed: 100 });
    expect(other.accuracy).not.toBe(again.accuracy);
  });

  it('writes a CSV with one line per row', () => {
    const csv = sensitivityCsv(report).trim().split('\n');
    expect(csv[0]).toBe('scope,mode,channel,bits,label,accuracy,accuracy_std,drop_points,repeats');
    expect(csv).toHaveLength(report.rows.length + 1);
    expect(csv[csv.length - 1]).toMatch(/^cumulative,zero,grey,0;1;2;3;4;5;6;7,grey:b0-b7,/);
  });
});
