import type { PlaneLayout } from '@cbnn/core';

/**
 * Inverse of plane extraction: rebuild the uint8 pixels (N*H*W*C, channels innermost) from plane
 * values (N*H*W*F; a value > 0 or a bit 1 is a set bit). Bits not in the layout come back 0, so
 * with all 8 planes of every channel this gives the original pixels exactly.
 */
export function recomposePixels(
  planes: ArrayLike<number>,
  pixelCount: number,
  channels: number,
  layout: PlaneLayout,
  out: Uint8Array = new Uint8Array(pixelCount * channels),
): Uint8Array {
  const f = layout.planes.length;
  out.fill(0, 0, pixelCount * channels);
  for (let p = 0; p < pixelCount; p++) {
    for (let k = 0; k < f; k++) {
      if (planes[p * f + k] > 0) out[p * channels + layout.planes[k].channelIndex] |= 1 << layout.planes[k].bit;
    }
  }
  return out;
}
