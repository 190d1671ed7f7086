import { wordsForChannels, type PlaneLayout } from '@cbnn/core';
import { createPlanePacker } from '@cbnn/kernels';

/**
 * Bit-slice and pack pixels for the engine: for every pixel, the layout's planes in order, one
 * bit each (bit 1 = +1), 32 features per little-endian uint32 word, padding bits 0 — the packed
 * layout of `@cbnn/core` `bit-packing.ts`. `images` holds `pixelCount` pixels of `channels` bytes.
 * The packing is the engine's own (`@cbnn/kernels` createPlanePacker): one packer in the
 * toolkit, tested against core's plain extractPlaneBits + packBits.
 */
export function packPixelPlanes(images: Uint8Array, pixelCount: number, channels: number, layout: PlaneLayout, out?: Uint32Array): Uint32Array {
  const words = wordsForChannels(layout.planes.length);
  const result = out ?? new Uint32Array(pixelCount * words);
  if (result.length < pixelCount * words) throw new Error(`packPixelPlanes: output holds ${result.length} words, needs ${pixelCount * words}`);
  createPlanePacker(layout, 1, channels).pack(images, 0, pixelCount, result);
  return result;
}
