import { wordsForChannels, type PlaneLayout } from '@cbnn/core';

/**
 * Bit-slice and pack pixels for the engine: for every pixel, the layout's planes in order, one
 * bit each (bit 1 = +1), 32 features per little-endian uint32 word, padding bits 0 — the packed
 * layout of `@cbnn/core` `bit-packing.ts`. `images` holds `pixelCount` pixels of `channels` bytes.
 */
export function packPixelPlanes(
  images: Uint8Array,
  pixelCount: number,
  channels: number,
  layout: PlaneLayout,
  out?: Uint32Array,
): Uint32Array {
  const features = layout.planes.length;
  const words = wordsForChannels(features);
  const result = out ?? new Uint32Array(pixelCount * words);
  if (result.length < pixelCount * words) throw new Error(`packPixelPlanes: output holds ${result.length} words, needs ${pixelCount * words}`);
  const channelOf = Int32Array.from(layout.planes, (p) => p.channelIndex);
  const bitOf = Int32Array.from(layout.planes, (p) => p.bit);
  for (let p = 0; p < pixelCount; p++) {
    const base = p * channels;
    for (let w = 0; w < words; w++) {
      let word = 0;
      const end = Math.min(features, (w + 1) * 32);
      for (let k = w * 32; k < end; k++) word |= ((images[base + channelOf[k]] >>> bitOf[k]) & 1) << (k & 31);
      result[p * words + w] = word >>> 0;
    }
  }
  return result;
}
