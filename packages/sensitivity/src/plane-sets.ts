import type { PlaneLayout } from '@cbnn/core';
import type { PlaneGroup } from './perturbation';

/**
 * Canonical key of a set of planes: channels in layout order, bits ascending, e.g.
 * `grey:0,1,2` or `red:0|green:0,1`. Identical sets get identical keys, hence identical random
 * streams, so a re-measurement reproduces the table's number exactly.
 */
export function planeSetKey(groups: readonly PlaneGroup[], channelOrder: readonly string[]): string {
  return normalizeGroups(groups, channelOrder)
    .map((g) => `${g.channel}:${g.bits.join(',')}`)
    .join('|');
}

/** Merge groups by channel, bits ascending and distinct, channels in `channelOrder`, empty dropped. */
export function normalizeGroups(groups: readonly PlaneGroup[], channelOrder: readonly string[]): PlaneGroup[] {
  const byChannel = new Map<string, Set<number>>();
  for (const g of groups) {
    const set = byChannel.get(g.channel) ?? new Set<number>();
    for (const b of g.bits) set.add(b);
    byChannel.set(g.channel, set);
  }
  const order = [...channelOrder, ...[...byChannel.keys()].filter((c) => !channelOrder.includes(c))];
  return order.filter((c) => (byChannel.get(c)?.size ?? 0) > 0).map((c) => ({ channel: c, bits: [...byChannel.get(c)!].sort((a, b) => a - b) }));
}

/** `grey:b0`, `grey:b0-b2` (a contiguous run), `grey:b3+b5` (not contiguous). */
export function planeGroupLabel(group: PlaneGroup): string {
  const bits = [...group.bits].sort((a, b) => a - b);
  if (bits.length === 1) return `${group.channel}:b${bits[0]}`;
  const contiguous = bits.every((b, i) => i === 0 || b === bits[i - 1] + 1);
  if (contiguous) return `${group.channel}:b${bits[0]}-b${bits[bits.length - 1]}`;
  return `${group.channel}:${bits.map((b) => `b${b}`).join('+')}`;
}

/** Bits of each channel that the model reads, least significant first. */
export function bitsByChannel(layout: PlaneLayout): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const channel of layout.channels) {
    const bits = layout.planes.filter((p) => p.channel === channel).map((p) => p.bit);
    if (bits.length > 0)
      out.set(
        channel,
        bits.sort((a, b) => a - b),
      );
  }
  return out;
}

export interface PerturbationSpec {
  scope: 'single' | 'cumulative';
  group: PlaneGroup;
}

/**
 * The perturbations of the analysis: each plane the model reads alone, then per channel the
 * cumulative sets from the least significant plane up (b0, b0-b1, ..., all of the channel).
 */
export function sensitivityPerturbations(layout: PlaneLayout): PerturbationSpec[] {
  const specs: PerturbationSpec[] = [];
  const byChannel = bitsByChannel(layout);
  for (const [channel, bits] of byChannel) for (const bit of bits) specs.push({ scope: 'single', group: { channel, bits: [bit] } });
  for (const [channel, bits] of byChannel) {
    for (let k = 1; k <= bits.length; k++) specs.push({ scope: 'cumulative', group: { channel, bits: bits.slice(0, k) } });
  }
  return specs;
}
