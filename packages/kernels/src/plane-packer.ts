import { wordsForChannels, type PlaneLayout } from '@cbnn/core';

/**
 * Extracts a model's bit planes from uint8 NHWC images and packs them (core's layout: plane k of
 * the layout in bit k % 32 of word k / 32 of each pixel) straight into a caller's buffer,
 * without intermediate arrays. Same result as core's extractPlaneBits + packBits.
 */
export interface PlanePacker {
  readonly wordsPerImage: number;
  /** Pack images [first, first+count) of `images` into `out` from index 0. */
  pack(images: Uint8Array, first: number, count: number, out: Uint32Array): void;
}

export function createPlanePacker(layout: PlaneLayout, pixelsPerImage: number, channels: number): PlanePacker {
  const features = layout.planes.length;
  const words = wordsForChannels(features);
  const channelOf = Int32Array.from(layout.planes, (p) => p.channelIndex);
  const bitOf = Int32Array.from(layout.planes, (p) => p.bit);
  const wordsPerImage = pixelsPerImage * words;
  return {
    wordsPerImage,
    pack(images, first, count, out) {
      const pixels = count * pixelsPerImage;
      let src = first * pixelsPerImage * channels;
      let dst = 0;
      for (let p = 0; p < pixels; p++, src += channels, dst += words) {
        for (let w = 0; w < words; w++) {
          let word = 0;
          const end = Math.min(features, (w + 1) * 32);
          for (let k = w * 32; k < end; k++) word |= ((images[src + channelOf[k]] >> bitOf[k]) & 1) << (k & 31);
          out[dst + w] = word >>> 0;
        }
      }
    },
  };
}
