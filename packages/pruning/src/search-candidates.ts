import type { PlaneSelection } from '@cbnn/core';
import type { Plan } from './plan-format';

export const DEFAULT_SEARCH_WIDTHS: readonly number[] = [1, 0.75, 0.5, 0.35, 0.25];

export interface SearchCandidateSpec {
  /** A name usable as a matrix instance / folder name, e.g. `p4-w0.5`, `p4m1-w0.5`. */
  name: string;
  /** -1: one plane fewer than the plan keeps, 0: the plan's planes, +1: one more. */
  planeDelta: -1 | 0 | 1;
  /** The plane taken away (-1) or given back (+1), e.g. 'grey:b4'. */
  changedPlane?: string;
  planes: PlaneSelection;
  planeCount: number;
  width: number;
}

/**
 * Candidates of the compact-network search: kept-plane sets near the plan x widths.
 *  - the plan's kept planes;
 *  - one fewer: the plane the policy would have dropped next (the rejected step with the best
 *    accuracy), when there is one and more than one plane is kept;
 *  - one more: the last plane the policy accepted to drop, given back, when it dropped any.
 * Retraining often recovers more than the post-training sensitivity suggests, hence "one
 * fewer"; "one more" is the fallback when the narrow networks lose too much.
 */
export function searchCandidates(plan: Plan, widths: readonly number[] = DEFAULT_SEARCH_WIDTHS): SearchCandidateSpec[] {
  for (const w of widths) if (!(w > 0 && w <= 1)) throw new RangeError(`width multiplier ${w} is not in (0, 1]`);
  const kept = plan.keptPlanes;
  const count = (s: PlaneSelection) => Object.values(s).reduce((n, bits) => n + bits.length, 0);
  const sets: Array<{ planeDelta: -1 | 0 | 1; changedPlane?: string; planes: PlaneSelection }> = [{ planeDelta: 0, planes: kept }];

  const rejected = plan.steps.filter((s) => !s.accepted).sort((a, b) => b.accuracy - a.accuracy)[0];
  if (rejected && count(kept) > 1) {
    const { channel, bit } = parsePlaneLabel(rejected.drop);
    const bits = (kept[channel] ?? []).filter((b) => b !== bit);
    const fewer: PlaneSelection = { ...kept };
    if (bits.length > 0) fewer[channel] = bits;
    else delete fewer[channel];
    if (count(fewer) === count(kept) - 1) sets.push({ planeDelta: -1, changedPlane: rejected.drop, planes: fewer });
  }
  const lastAccepted = [...plan.steps].reverse().find((s) => s.accepted);
  if (lastAccepted) {
    const { channel, bit } = parsePlaneLabel(lastAccepted.drop);
    const more: PlaneSelection = { ...kept, [channel]: [...(kept[channel] ?? []), bit].sort((a, b) => b - a) };
    sets.push({ planeDelta: 1, changedPlane: lastAccepted.drop, planes: more });
  }

  const out: SearchCandidateSpec[] = [];
  for (const set of sets) {
    const planeCount = count(set.planes);
    const tag = set.planeDelta === 0 ? `p${planeCount}` : `p${planeCount}${set.planeDelta < 0 ? 'm1' : 'p1'}`;
    for (const width of widths) out.push({ name: `${tag}-w${width}`, planeDelta: set.planeDelta, changedPlane: set.changedPlane, planes: set.planes, planeCount, width });
  }
  return out;
}

function parsePlaneLabel(label: string): { channel: string; bit: number } {
  const m = /^(.+):b([0-7])$/.exec(label);
  if (!m) throw new Error(`plan step names '${label}', not a single plane like 'grey:b3'`);
  return { channel: m[1], bit: Number(m[2]) };
}
