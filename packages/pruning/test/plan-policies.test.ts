import { allPlanes, resolvePlanes } from '@cbnn/core';
import { planeSetKey, type PlaneGroup, type SensitivityReport, type SensitivityRow } from '@cbnn/sensitivity';
import { planPruning, planSchema } from '@cbnn/pruning';

const grey = resolvePlanes(allPlanes(['grey']), ['grey']);

/** A grey table: dropping b0..b(k-1) cumulatively costs `cumulativeDrop[k-1]` points. */
function greyTable(cumulativeDrop: number[], singleDrop: number[], baseline = 0.99): SensitivityReport {
  const rows: SensitivityRow[] = [];
  const row = (scope: 'single' | 'cumulative', bits: number[], drop: number): SensitivityRow => ({
    scope,
    mode: 'randomize',
    channel: 'grey',
    bits,
    label: `grey:${bits.join('-')}`,
    accuracy: baseline - drop / 100,
    accuracyStd: 0,
    dropPoints: drop,
    repeats: 1,
  });
  singleDrop.forEach((d, b) => rows.push(row('single', [b], d)));
  cumulativeDrop.forEach((d, k) =>
    rows.push(
      row(
        'cumulative',
        Array.from({ length: k + 1 }, (_, i) => i),
        d,
      ),
    ),
  );
  // A zero-mode row that would be harmless: a plan in randomize mode must not read it.
  rows.push({ ...row('single', [7], 0), mode: 'zero' });
  return { format: 'cbnn.sensitivity', version: 1, split: 'test', records: 1000, seed: 1, repeats: 1, baselineAccuracy: baseline, rows };
}

const singles = [0.0, 0.1, 0.2, 0.4, 3, 8, 20, 40];
const cumulative = [0.0, 0.2, 0.5, 0.9, 4, 12, 30, 50];

describe('lsb-first', () => {
  it('drops the least significant planes while the cumulative drop stays within the budget', async () => {
    const plan = await planPruning(greyTable(cumulative, singles), { policy: 'lsb-first', mode: 'randomize', budgetPoints: 1, layout: grey });
    expect(planSchema.parse(plan)).toEqual(plan);
    expect(plan.keptPlanes).toEqual({ grey: [7, 6, 5, 4] });
    expect(plan.droppedPlanes).toEqual({ grey: [0, 1, 2, 3] });
    expect(plan.steps.map((s) => [s.drop, s.accepted])).toEqual([
      ['grey:b0', true],
      ['grey:b1', true],
      ['grey:b2', true],
      ['grey:b3', true],
      ['grey:b4', false],
    ]);
    expect(plan.steps[3].dropPoints).toBeCloseTo(0.9, 9);
    // The neighbours train.bnn's dropExtra selects: one fewer (the rejected b4), one more (b3 back).
    expect(plan.alternatives).toEqual({
      fewer: { planes: { grey: [7, 6, 5] }, changedPlane: 'grey:b4' },
      more: { planes: { grey: [7, 6, 5, 4, 3] }, changedPlane: 'grey:b3' },
    });
  });

  it('accepts a drop exactly at the budget and rejects one just above', async () => {
    const atEdge = await planPruning(greyTable([0, 0.5, 1.0, 1.0000001, 5, 6, 7, 8], singles), {
      policy: 'lsb-first',
      mode: 'randomize',
      budgetPoints: 1,
      layout: grey,
    });
    expect(atEdge.keptPlanes).toEqual({ grey: [7, 6, 5, 4, 3] });
  });

  it('keeps everything under a zero budget when b0 already costs, and always keeps the MSB', async () => {
    const none = await planPruning(greyTable([0.3, 1, 2, 3, 4, 5, 6, 7], singles), { policy: 'lsb-first', mode: 'randomize', budgetPoints: 0, layout: grey });
    expect(none.keptPlanes).toEqual({ grey: [7, 6, 5, 4, 3, 2, 1, 0] });
    expect(none.droppedPlanes).toEqual({});
    const all = await planPruning(greyTable([0, 0, 0, 0, 0, 0, 0, 0], singles), { policy: 'lsb-first', mode: 'randomize', budgetPoints: 1, layout: grey });
    expect(all.keptPlanes).toEqual({ grey: [7] });
    expect(all.steps).toHaveLength(7);
  });

  it('only considers planes the model reads', async () => {
    const layout = resolvePlanes({ grey: [7, 6, 5, 2] }, ['grey']);
    const table = greyTable(cumulative, singles);
    // The table of a model on planes 2,5,6,7 has cumulative sets {2}, {2,5}, ...
    table.rows = table.rows.filter((r) => r.scope === 'single');
    table.rows.push({ ...table.rows[2], scope: 'cumulative', bits: [2], accuracy: 0.985 });
    table.rows.push({ ...table.rows[2], scope: 'cumulative', bits: [2, 5], accuracy: 0.95 });
    const plan = await planPruning(table, { policy: 'lsb-first', mode: 'randomize', budgetPoints: 1, layout });
    expect(plan.keptPlanes).toEqual({ grey: [7, 6, 5] });
    expect(plan.steps.map((s) => s.drop)).toEqual(['grey:b2', 'grey:b5']);
  });
});

describe('greedy', () => {
  // A fake engine: each plane has a cost, the cost of a set is the sum (so greedy's order is known).
  const cost = (groups: PlaneGroup[]) => groups.flatMap((g) => g.bits.map((b) => [0.05, 0.3, 0.1, 0.45, 2, 9, 20, 40][b])).reduce((a, b) => a + b, 0);
  it('drops the cheapest plane first, re-measuring after each drop', async () => {
    const measured: string[] = [];
    const measure = (groups: PlaneGroup[]) => {
      measured.push(planeSetKey(groups, ['grey']));
      return 0.99 - cost(groups) / 100;
    };
    const singleCosts = [0.05, 0.3, 0.1, 0.45, 2, 9, 20, 40];
    const plan = await planPruning(greyTable(cumulative, singleCosts), { policy: 'greedy', mode: 'randomize', budgetPoints: 1, layout: grey, measure });
    // b0 (0.05), then b2 (0.15), then b1 (0.45), then b3 would make 0.9 -> accepted; b4 -> 2.9 rejected.
    expect(plan.steps.filter((s) => s.accepted).map((s) => s.drop)).toEqual(['grey:b0', 'grey:b2', 'grey:b1', 'grey:b3']);
    expect(plan.steps[plan.steps.length - 1]).toMatchObject({ drop: 'grey:b4', accepted: false });
    expect(plan.keptPlanes).toEqual({ grey: [7, 6, 5, 4] });
    // First round reads singles from the table; later rounds measure pairs etc.
    expect(plan.steps[0].source).toBe('table');
    expect(measured).toContain('grey:0,2');
    expect(measured.every((k) => k.includes(','))).toBe(true);
  });

  it('can drop non-contiguous planes (unlike lsb-first)', async () => {
    const costs = [0.05, 3, 0.1, 5, 6, 7, 8, 9];
    const prefix = costs.map((_, k) => costs.slice(0, k + 1).reduce((a, b) => a + b, 0));
    const plan = await planPruning(greyTable(prefix, costs), {
      policy: 'greedy',
      mode: 'randomize',
      budgetPoints: 0.5,
      layout: grey,
      measure: (g) => 0.99 - g.flatMap((x) => x.bits).reduce((a, b) => a + costs[b], 0) / 100,
    });
    expect(plan.droppedPlanes).toEqual({ grey: [0, 2] });
    expect(plan.keptPlanes).toEqual({ grey: [7, 6, 5, 4, 3, 1] });
  });

  it('fails clearly when it must re-measure and has no engine', async () => {
    await expect(planPruning(greyTable(cumulative, singles), { policy: 'greedy', mode: 'randomize', budgetPoints: 1, layout: grey })).rejects.toThrow(
      /model and dataset/,
    );
  });
});

describe('per colour channel', () => {
  const channels = ['red', 'green', 'blue'];
  const layout = resolvePlanes(allPlanes(channels), channels);
  // Blue's planes are cheap, red's expensive; costs add up across channels.
  const perPlane: Record<string, number[]> = {
    red: [0.3, 0.6, 2, 4, 8, 16, 32, 64],
    green: [0.1, 0.2, 0.4, 2, 8, 16, 32, 64],
    blue: [0, 0, 0.1, 0.2, 0.3, 5, 32, 64],
  };
  const measure = (groups: PlaneGroup[]) => 0.9 - groups.flatMap((g) => g.bits.map((b) => perPlane[g.channel][b])).reduce((a, b) => a + b, 0) / 100;
  const table: SensitivityReport = {
    format: 'cbnn.sensitivity',
    version: 1,
    split: 'test',
    records: 100,
    seed: 1,
    repeats: 1,
    baselineAccuracy: 0.9,
    rows: channels.flatMap((channel) =>
      [0, 1, 2, 3, 4, 5, 6, 7].map((b): SensitivityRow => {
        const accuracy = measure([{ channel, bits: [b] }]);
        return {
          scope: 'single',
          mode: 'randomize',
          channel,
          bits: [b],
          label: `${channel}:b${b}`,
          accuracy,
          accuracyStd: 0,
          dropPoints: (0.9 - accuracy) * 100,
          repeats: 1,
        };
      }),
    ),
  };

  it('lsb-first goes level by level across channels and closes a channel at its first rejection', async () => {
    const plan = await planPruning(table, { policy: 'lsb-first', mode: 'randomize', budgetPoints: 1, layout, measure });
    // Level 0: red b0 (0.3) ok, green b0 (0.4) ok, blue b0 (0.4) ok; level 1: red b1 (1.0) ok,
    // green b1 (1.2) no -> green closed, blue b1 (1.0) ok; level 2: red b2 (3.0) no, blue b2 (1.1) no.
    expect(plan.droppedPlanes).toEqual({ red: [0, 1], green: [0], blue: [0, 1] });
    expect(plan.keptPlanes).toEqual({ red: [7, 6, 5, 4, 3, 2], green: [7, 6, 5, 4, 3, 2, 1], blue: [7, 6, 5, 4, 3, 2] });
    expect(plan.steps.every((s) => s.dropPoints <= 1 + 1e-9 || !s.accepted)).toBe(true);
  });

  it('greedy spends the budget on the cheapest planes of any channel', async () => {
    const plan = await planPruning(table, { policy: 'greedy', mode: 'randomize', budgetPoints: 1, layout, measure });
    // blue b0, blue b1 (0), green b0 (0.1), blue b2 (0.2), green b1 (0.4), blue b3 (0.6), red b0 (0.9)
    expect(plan.droppedPlanes).toEqual({ red: [0], green: [0, 1], blue: [0, 1, 2, 3] });
    const last = plan.steps[plan.steps.length - 1];
    expect(last.accepted).toBe(false);
  });
});
