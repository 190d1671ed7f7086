import type { PlaneLayout, PlaneSelection } from '@cbnn/core';
import { bitsByChannel, dropPoints, normalizeGroups, planeSetKey, type PerturbationMode, type PlaneGroup, type SensitivityReport } from '@cbnn/sensitivity';
import type { Plan, PlanPolicy, PlanStep } from './plan-format';
import { neighbourPlaneSets } from './search-candidates';

/** Accuracy with every plane of `dropped` perturbed at once (the engine, re-measuring). */
export type MeasureDropped = (dropped: PlaneGroup[]) => Promise<number> | number;

export interface PlanOptions {
  policy: PlanPolicy;
  mode: PerturbationMode;
  budgetPoints: number;
  /** The planes the model reads (only those can be dropped). */
  layout: PlaneLayout;
  /**
   * Needed when the table lacks a set the policy must judge: greedy after its first drop, and
   * lsb-first across several channels. Without it such a plan fails with a clear error.
   */
  measure?: MeasureDropped;
  /** Called after each step (progress). */
  onStep?: (step: PlanStep) => void;
}

/** Float noise in the accuracy arithmetic must not flip an exact-budget decision. */
const BUDGET_EPSILON = 1e-9;

export function withinBudget(drop: number, budgetPoints: number): boolean {
  return drop <= budgetPoints + BUDGET_EPSILON;
}

interface Plane {
  channel: string;
  bit: number;
}

/**
 * Accuracy of a dropped set: from the table when it holds that exact set in this mode (single
 * planes, cumulative LSB-up sets), otherwise re-measured. The table and the re-measurement use
 * the same random stream per set (sensitivity's `perturbedAccuracy`), so they agree.
 */
class DroppedSetJudge {
  private readonly table = new Map<string, number>();
  constructor(
    report: SensitivityReport,
    private readonly options: PlanOptions,
  ) {
    for (const row of report.rows) {
      if (row.mode !== options.mode) continue;
      this.table.set(planeSetKey([{ channel: row.channel, bits: row.bits }], options.layout.channels), row.accuracy);
    }
  }

  async accuracy(dropped: readonly Plane[]): Promise<{ accuracy: number; source: 'table' | 'measured' }> {
    const groups = toGroups(dropped, this.options.layout.channels);
    const cached = this.table.get(planeSetKey(groups, this.options.layout.channels));
    if (cached !== undefined) return { accuracy: cached, source: 'table' };
    if (!this.options.measure) {
      throw new Error(
        `policy '${this.options.policy}' needs the accuracy with ${planeSetKey(groups, this.options.layout.channels)} perturbed, which the sensitivity table does not hold; give the stage the model and dataset to re-measure`,
      );
    }
    const accuracy = await this.options.measure(groups);
    this.table.set(planeSetKey(groups, this.options.layout.channels), accuracy);
    return { accuracy, source: 'measured' };
  }
}

/** Pick the planes to keep from a sensitivity table under the budget. */
export async function planPruning(report: SensitivityReport, options: PlanOptions): Promise<Plan> {
  const judge = new DroppedSetJudge(report, options);
  const baseline = report.baselineAccuracy;
  const steps: PlanStep[] = [];
  const dropped: Plane[] = [];
  const record = (plane: Plane, accuracy: number, source: 'table' | 'measured', accepted: boolean) => {
    const step: PlanStep = { drop: `${plane.channel}:b${plane.bit}`, accuracy, dropPoints: dropPoints(baseline, accuracy), accepted, source };
    steps.push(step);
    options.onStep?.(step);
    return step;
  };

  if (options.policy === 'lsb-first') {
    // Round robin over bit levels: at each level, every channel still open tries to drop its next
    // least significant plane on top of everything accepted so far; a rejection closes the
    // channel (planes are dropped only as a contiguous run from the LSB). The most significant
    // plane of each channel is always kept. With one channel this walks the cumulative rows.
    const open = new Map([...bitsByChannel(options.layout)].map(([c, bits]) => [c, bits.slice(0, -1)]));
    for (let level = 0; [...open.values()].some((bits) => bits.length > level); level++) {
      for (const [channel, bits] of open) {
        if (bits.length <= level) continue;
        const plane = { channel, bit: bits[level] };
        const { accuracy, source } = await judge.accuracy([...dropped, plane]);
        const accepted = withinBudget(dropPoints(baseline, accuracy), options.budgetPoints);
        record(plane, accuracy, source, accepted);
        if (accepted) dropped.push(plane);
        else open.set(channel, bits.slice(0, level));
      }
    }
  } else {
    // Greedy: among the planes still kept, drop the one whose removal (on top of those already
    // dropped) costs least; stop when even that one breaks the budget. One plane is always kept.
    let remaining: Plane[] = options.layout.planes.map((p) => ({ channel: p.channel, bit: p.bit }));
    while (remaining.length > 1) {
      let best: { plane: Plane; accuracy: number; source: 'table' | 'measured' } | undefined;
      for (const plane of remaining) {
        const { accuracy, source } = await judge.accuracy([...dropped, plane]);
        // Ties go to the less significant plane (remaining is not sorted, so compare bits).
        if (!best || accuracy > best.accuracy || (accuracy === best.accuracy && plane.bit < best.plane.bit)) best = { plane, accuracy, source };
      }
      const accepted = withinBudget(dropPoints(baseline, best!.accuracy), options.budgetPoints);
      record(best!.plane, best!.accuracy, best!.source, accepted);
      if (!accepted) break;
      dropped.push(best!.plane);
      remaining = remaining.filter((p) => p !== best!.plane);
    }
  }

  const droppedKeys = new Set(dropped.map((p) => `${p.channel}:${p.bit}`));
  const keptPlanes: PlaneSelection = {};
  for (const p of options.layout.planes) if (!droppedKeys.has(`${p.channel}:${p.bit}`)) (keptPlanes[p.channel] ??= []).push(p.bit);
  const droppedPlanes: PlaneSelection = Object.fromEntries(toGroups(dropped, options.layout.channels).map((g) => [g.channel, g.bits]));
  const plan: Plan = {
    format: 'cbnn.plan',
    version: 2,
    policy: options.policy,
    split: report.split as Plan['split'],
    records: report.records,
    mode: options.mode,
    budgetPoints: options.budgetPoints,
    baselineAccuracy: baseline,
    keptPlanes,
    droppedPlanes,
    steps,
  };
  plan.alternatives = neighbourPlaneSets(plan);
  return plan;
}

function toGroups(planes: readonly Plane[], channels: readonly string[]): PlaneGroup[] {
  return normalizeGroups(
    planes.map((p) => ({ channel: p.channel, bits: [p.bit] })),
    channels,
  );
}
