import { searchCandidates, searchMatrix, DEFAULT_SEARCH_WIDTHS, type Plan } from '@cbnn/pruning';

function plan(partial: Partial<Plan>): Plan {
  return {
    format: 'cbnn.plan',
    version: 1,
    policy: 'lsb-first',
    mode: 'randomize',
    budgetPoints: 1,
    baselineAccuracy: 0.99,
    keptPlanes: { grey: [7, 6, 5, 4] },
    droppedPlanes: { grey: [0, 1, 2, 3] },
    steps: [
      { drop: 'grey:b0', accuracy: 0.99, dropPoints: 0, accepted: true },
      { drop: 'grey:b1', accuracy: 0.988, dropPoints: 0.2, accepted: true },
      { drop: 'grey:b2', accuracy: 0.985, dropPoints: 0.5, accepted: true },
      { drop: 'grey:b3', accuracy: 0.981, dropPoints: 0.9, accepted: true },
      { drop: 'grey:b4', accuracy: 0.95, dropPoints: 4, accepted: false },
    ],
    ...partial,
  };
}

describe('searchCandidates', () => {
  it('gives the plan set, one fewer and one more plane, at every width', () => {
    const c = searchCandidates(plan({}));
    expect(c).toHaveLength(3 * DEFAULT_SEARCH_WIDTHS.length);
    const byName = Object.fromEntries(c.map((x) => [x.name, x]));
    expect(byName['p4-w0.5']).toMatchObject({ planeDelta: 0, planes: { grey: [7, 6, 5, 4] }, width: 0.5 });
    expect(byName['p3m1-w1']).toMatchObject({ planeDelta: -1, changedPlane: 'grey:b4', planes: { grey: [7, 6, 5] }, planeCount: 3 });
    expect(byName['p5p1-w0.25']).toMatchObject({ planeDelta: 1, changedPlane: 'grey:b3', planes: { grey: [7, 6, 5, 4, 3] } });
    expect(new Set(c.map((x) => x.name)).size).toBe(c.length);
    // dropExtra is what a pipeline's matrix passes to train.bnn for each set.
    expect(byName['p3m1-w1'].dropExtra).toBe(1);
    expect(byName['p5p1-w0.25'].dropExtra).toBe(-1);
    expect(searchMatrix()).toEqual({ width: [1, 0.75, 0.5, 0.35, 0.25], dropExtra: [-1, 0, 1] });
  });

  it('has no "one more" when nothing was dropped and no "one fewer" when nothing was rejected', () => {
    const nothingDropped = searchCandidates(
      plan({ keptPlanes: { grey: [7, 6, 5, 4, 3, 2, 1, 0] }, droppedPlanes: {}, steps: [{ drop: 'grey:b0', accuracy: 0.9, dropPoints: 9, accepted: false }] }),
      [1],
    );
    expect(nothingDropped.map((x) => x.name)).toEqual(['p8-w1', 'p7m1-w1']);
    const allDropped = searchCandidates(
      plan({ keptPlanes: { grey: [7] }, steps: [{ drop: 'grey:b6', accuracy: 0.99, dropPoints: 0, accepted: true }] }),
      [1, 0.5],
    );
    expect(allDropped.map((x) => x.name)).toEqual(['p1-w1', 'p1-w0.5', 'p2p1-w1', 'p2p1-w0.5']);
  });

  it('works per channel (RGB): the next plane is the best rejected step', () => {
    const c = searchCandidates(
      plan({
        keptPlanes: { red: [7, 6, 5], green: [7, 6, 5, 4], blue: [7, 6] },
        steps: [
          { drop: 'blue:b5', accuracy: 0.9, dropPoints: 1, accepted: true },
          { drop: 'red:b4', accuracy: 0.8, dropPoints: 11, accepted: false },
          { drop: 'green:b4', accuracy: 0.85, dropPoints: 6, accepted: false },
        ],
      }),
      [1],
    );
    expect(c.find((x) => x.planeDelta === -1)?.planes).toEqual({ red: [7, 6, 5], green: [7, 6, 5], blue: [7, 6] });
    expect(c.find((x) => x.planeDelta === 1)?.planes).toEqual({ red: [7, 6, 5], green: [7, 6, 5, 4], blue: [7, 6, 5] });
  });

  it('rejects widths outside (0, 1]', () => {
    expect(() => searchCandidates(plan({}), [0])).toThrow(RangeError);
    expect(() => searchCandidates(plan({}), [1.5])).toThrow(/1.5/);
  });
});
