import type { Rng } from '@cbnn/core';
import { BITS_PER_CHANNEL } from '@cbnn/core';

/**
 * How a perturbed plane is replaced: `randomize` draws uniform random bits (the authors' choice,
 * averaged over repeats), `zero` forces the plane to bit 0 (which the network sees as -1).
 */
export const PERTURBATION_MODES = ['randomize', 'zero'] as const;
export type PerturbationMode = (typeof PERTURBATION_MODES)[number];

/** A set of planes, by dataset channel: `[{ channel: 'grey', bits: [0, 1] }]`. */
export interface PlaneGroup {
  channel: string;
  bits: number[];
}

/**
 * Per-channel 8-bit masks of the planes to perturb (mask[c] has bit b set when plane b of
 * channel c is perturbed). Channel names not in `channelNames` are an error: a silent no-op
 * would report a plane as harmless when it was never touched.
 */
export function perturbationMasks(groups: readonly PlaneGroup[], channelNames: readonly string[]): Uint8Array {
  const masks = new Uint8Array(channelNames.length);
  for (const g of groups) {
    const c = channelNames.indexOf(g.channel);
    if (c < 0) throw new Error(`perturbation names channel '${g.channel}', not one of ${channelNames.join(', ')}`);
    for (const bit of g.bits) {
      if (!Number.isInteger(bit) || bit < 0 || bit >= BITS_PER_CHANNEL) throw new Error(`plane bit ${bit} is not in 0..7`);
      masks[c] |= 1 << bit;
    }
  }
  return masks;
}

/**
 * Perturb the pixels (N*H*W*C uint8, channels innermost) before they are bit-sliced and packed,
 * so that every consumer (the packed engine, a TensorFlow.js model) sees the very same input.
 * Returns a new array; the input is not modified. `rng` is used only by `randomize`.
 */
export function perturbPixels(images: Uint8Array, channels: number, masks: Uint8Array, mode: PerturbationMode, rng: Rng, out?: Uint8Array): Uint8Array {
  if (masks.length !== channels) throw new Error(`perturbPixels: ${masks.length} masks for ${channels} channels`);
  if (images.length % channels !== 0) throw new Error(`perturbPixels: ${images.length} bytes is not a multiple of ${channels} channels`);
  const result = out ?? new Uint8Array(images.length);
  if (result !== images) result.set(images);
  const pixels = images.length / channels;
  for (let c = 0; c < channels; c++) {
    const mask = masks[c];
    if (mask === 0) continue;
    const keep = ~mask & 0xff;
    if (mode === 'zero') {
      for (let p = 0, i = c; p < pixels; p++, i += channels) result[i] &= keep;
    } else {
      // One fresh random byte per pixel: each perturbed bit of it is an independent fair coin.
      const noise = rng.fillBytes(new Uint8Array(pixels));
      for (let p = 0, i = c; p < pixels; p++, i += channels) result[i] = (result[i] & keep) | (noise[p] & mask);
    }
  }
  return result;
}
