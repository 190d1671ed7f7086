/**
 * The one packed-bit layout of cbnn:
 *  - a bit 1 means +1, a bit 0 means -1;
 *  - channels last: a pixel's C channels occupy ceil(C / 32) little-endian uint32 words, channel c
 *    in bit (c % 32) of word floor(c / 32);
 *  - padding bits (channels C..32*words-1) are 0; kernels mask them out, so they never change a
 *    result.
 * Kernels may re-block these words into 64/128-bit groups internally.
 */
export const BITS_PER_WORD = 32;

export function wordsForChannels(channels: number): number {
  return Math.ceil(channels / BITS_PER_WORD);
}

/** Pack 0/1 values (`count` groups of `channels`) into words, channels last. */
export function packBits(bits01: ArrayLike<number>, count: number, channels: number, out?: Uint32Array): Uint32Array {
  const words = wordsForChannels(channels);
  const result = out ?? new Uint32Array(count * words);
  result.fill(0, 0, count * words);
  for (let i = 0; i < count; i++) {
    for (let c = 0; c < channels; c++) {
      if (bits01[i * channels + c]) result[i * words + (c >>> 5)] |= 1 << (c & 31);
    }
  }
  return result;
}

/** Inverse of packBits. */
export function unpackBits(packed: Uint32Array, count: number, channels: number, out?: Uint8Array): Uint8Array {
  const words = wordsForChannels(channels);
  const result = out ?? new Uint8Array(count * channels);
  for (let i = 0; i < count; i++) {
    for (let c = 0; c < channels; c++) result[i * channels + c] = (packed[i * words + (c >>> 5)] >>> (c & 31)) & 1;
  }
  return result;
}

/** Sign convention of ±1 tensors: x >= 0 is +1 (bit 1), x < 0 is -1 (bit 0). Sign(0) = +1. */
export function bitOfSign(x: number): 0 | 1 {
  return x >= 0 ? 1 : 0;
}
