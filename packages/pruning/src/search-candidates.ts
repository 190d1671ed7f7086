import type { PlaneSelection } from '@cbnn/core';
import type { Plan } from './plan-format';

export const DEFAULT_SEARCH_WIDTHS: readonly number[] = [1, 0.75, 0.5, 0.35, 0.25];

export interface SearchCandidateSpec {
  /** A name usable as a matrix instance / folder name, e.g. `p4-w0.5`, `p4m1-w0.5`. */
  name: string;
  /** -1: one plane fewer than the plan keeps, 0: the plan's planes, +1: one more. */
  planeDelta: -1 | 0 | 1;
  /** The train.bnn `dropExtra` param that selects this set from plan.json (= -planeDelta). */
  dropExtra: -1 | 0 | 1;
  /** The plane taken away (-1) or given back (+1), e.g. 'grey:b4'. */
  changedPlane?: string;
  planes: PlaneSelection;
  planeCount: number;
  width: number;
}

export interface PlaneSetAlternative {
  planes: PlaneSelection;
  /** The plane taken away (fewer) or given back (more), e.g. 'grey:b4'. */
  changedPlane: string;
}

/**
 * The kept-plane sets next to the plan's:
 *  - fewer: the plane the policy would have dropped next (the rejected step with the best
 *    accuracy) also dropped, when there is one and more than one plane is kept;
 *  - more: the last plane the policy accepted to drop, given back, when it dropped any.
 * Retraining often recovers more than post-training sensitivity suggests, hence "fewer"; "more"
 * is the fallback when the narrow networks lose too much.
 */
export function neighbourPlaneSets(plan: Pick<Plan, 'keptPlanes' | 'steps'>): { fewer?: PlaneSetAlternative; more?: PlaneSetAlternative } {
  const kept = plan.keptPlanes;
  const out: { fewer?: PlaneSetAlternative; more?: PlaneSetAlternative } = {};
  const rejected = plan.steps.filter((s) => !s.accepted).sort((a, b) => b.accuracy - a.accuracy)[0];
  if (rejected && planeCount(kept) > 1) {
    const { channel, bit } = parsePlaneLabel(rejected.drop);
    const bits = (kept[channel] ?? []).filter((b) => b !== bit);
    const fewer: PlaneSelection = { ...kept };
    if (bits.length > 0) fewer[channel] = bits;
    else delete fewer[channel];
    if (planeCount(fewer) === planeCount(kept) - 1) out.fewer = { planes: fewer, changedPlane: rejected.drop };
  }
  const lastAccepted = [...plan.steps].reverse().find((s) => s.accepted);
  if (lastAccepted) {
    const { channel, bit } = parsePlaneLabel(lastAccepted.drop);
    out.more = { planes: { ...kept, [channel]: [...(kept[channel] ?? []), bit].sort((a, b) => b - a) }, changedPlane: lastAccepted.drop };
  }
  return out;
}

/**
 * The static matrix for the search stage of a pipeline (the plan is only known at run time, so
 * the matrix names plane sets relative to it): `dropExtra` 0 = the plan's kept planes, 1 = one
 * plane fewer (`plan.alternatives.fewer`), -1 = one more (`plan.alternatives.more`).
 */
export function searchMatrix(widths: readonly number[] = DEFAULT_SEARCH_WIDTHS): { width: number[]; dropExtra: number[] } {
  checkWidths(widths);
  return { width: [...widths], dropExtra: [-1, 0, 1] };
}

/**
 * Candidates of the compact-network search for a known plan: {plan's set, one fewer, one more}
 * x widths (a set that does not exist for this plan is left out).
 */
export function searchCandidates(plan: Pick<Plan, 'keptPlanes' | 'steps'>, widths: readonly number[] = DEFAULT_SEARCH_WIDTHS): SearchCandidateSpec[] {
  checkWidths(widths);
  const { fewer, more } = neighbourPlaneSets(plan);
  const sets: Array<{ planeDelta: -1 | 0 | 1; changedPlane?: string; planes: PlaneSelection }> = [{ planeDelta: 0, planes: plan.keptPlanes }];
  if (fewer) sets.push({ planeDelta: -1, ...fewer });
  if (more) sets.push({ planeDelta: 1, ...more });
  const out: SearchCandidateSpec[] = [];
  for (const set of sets) {
    const count = planeCount(set.planes);
    const tag = set.planeDelta === 0 ? `p${count}` : `p${count}${set.planeDelta < 0 ? 'm1' : 'p1'}`;
    for (const width of widths) {
      out.push({
        name: `${tag}-w${width}`,
        planeDelta: set.planeDelta,
        dropExtra: -set.planeDelta as -1 | 0 | 1,
        changedPlane: set.changedPlane,
        planes: set.planes,
        planeCount: count,
        width,
      });
    }
  }
  return out;
}

function checkWidths(widths: readonly number[]): void {
  for (const w of widths) if (!(w > 0 && w <= 1)) throw new RangeError(`width multiplier ${w} is not in (0, 1]`);
}

function planeCount(s: PlaneSelection): number {
  return Object.values(s).reduce((n, bits) => n + bits.length, 0);
}

function parsePlaneLabel(label: string): { channel: string; bit: number } {
  const m = /^(.+):b([0-7])$/.exec(label);
  if (!m) throw new Error(`plan step names '${label}', not a single plane like 'grey:b3'`);
  return { channel: m[1], bit: Number(m[2]) };
}
