import { z } from 'zod';
import { InvalidInputError } from './errors';

/**
 * Bit planes. Every 8-bit channel value splits into 8 binary planes; bit 7 is the most
 * significant. In the network a plane bit 1 is +1 and 0 is -1.
 *
 * A plane selection names, per channel, the bits kept, in order: `{ grey: [7, 6, 5, 4] }`.
 * Feature (tensor channel) order is always: channels in the dataset's channel order, and within
 * a channel the bits in the order listed. The resolved order is written into every artifact.
 */
export const BITS_PER_CHANNEL = 8;
export const ALL_BITS: readonly number[] = [7, 6, 5, 4, 3, 2, 1, 0];

export const planeSelectionSchema = z.record(
  z.string().min(1),
  z
    .array(z.number().int().min(0).max(7))
    .min(1)
    .refine((bits) => new Set(bits).size === bits.length, { message: 'bits must be distinct' }),
);
export type PlaneSelection = z.infer<typeof planeSelectionSchema>;

export interface PlaneRef {
  channel: string;
  channelIndex: number;
  bit: number;
}

/** The ordered feature list of a selection over a dataset's channels. */
export interface PlaneLayout {
  channels: string[];
  planes: PlaneRef[];
}

export function allPlanes(channelNames: readonly string[]): PlaneSelection {
  return Object.fromEntries(channelNames.map((c) => [c, [...ALL_BITS]]));
}

export function resolvePlanes(selection: PlaneSelection, channelNames: readonly string[]): PlaneLayout {
  for (const key of Object.keys(selection)) {
    if (!channelNames.includes(key)) {
      throw new InvalidInputError(`plane selection names channel '${key}', but the dataset's channels are ${channelNames.map((c) => `'${c}'`).join(', ')}`, {
        field: 'planes',
      });
    }
  }
  const planes: PlaneRef[] = [];
  channelNames.forEach((channel, channelIndex) => {
    for (const bit of selection[channel] ?? []) planes.push({ channel, channelIndex, bit });
  });
  if (planes.length === 0) throw new InvalidInputError('plane selection keeps no plane', { field: 'planes' });
  return { channels: [...channelNames], planes };
}

export function selectionOfLayout(layout: PlaneLayout): PlaneSelection {
  const out: PlaneSelection = {};
  for (const p of layout.planes) (out[p.channel] ??= []).push(p.bit);
  return out;
}

export function planeLabel(p: { channel: string; bit: number }): string {
  return `${p.channel}:b${p.bit}`;
}

/**
 * Reference plane extraction: for each pixel, the selected bits as 0/1, features innermost
 * (NHWC with planes as channels). `images` is N*H*W*C uint8, channels innermost.
 */
export function extractPlaneBits(images: Uint8Array, pixelsPerImage: number, channels: number, layout: PlaneLayout, out?: Uint8Array): Uint8Array {
  const n = images.length / (pixelsPerImage * channels);
  const f = layout.planes.length;
  const result = out ?? new Uint8Array(n * pixelsPerImage * f);
  for (let p = 0; p < n * pixelsPerImage; p++) {
    for (let k = 0; k < f; k++) {
      const ref = layout.planes[k];
      result[p * f + k] = (images[p * channels + ref.channelIndex] >> ref.bit) & 1;
    }
  }
  return result;
}
