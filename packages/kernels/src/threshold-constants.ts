/**
 * Folded batch norm + sign as the kernels' branch-free test on a raw popcount.
 *
 * A kernel counts pop = popcount(a ^ w) over the bits it reads. With `validBits` bits that
 * count and a `correction` (popcount of weight bits read against zero padding, which are not
 * part of the dot product) the ±1 dot product is x = validBits - 2*(pop - correction), and the
 * bit `flip ? x <= t : x >= t` equals `((pop ^ m) + c) >= 0` with
 *   m = -1, c = floor(D/2) + 1   for x >= t  (pop <= floor(D/2); pop ^ -1 = -pop - 1)
 *   m =  0, c = -ceil(D/2)       for x <= t  (pop >= ceil(D/2))
 * where D = validBits + 2*correction - t. Clamping to [-1, maxPop + 1] keeps c small whatever
 * the threshold (thresholds may be +-2^31 for constant channels).
 */
export function thresholdConstants(validBits: number, correction: number, threshold: number, flip: number, maxPop: number): { m: number; c: number } {
  const d = validBits + 2 * correction - threshold;
  if (flip) return { m: 0, c: -clamp(Math.ceil(d / 2), 0, maxPop + 1) };
  return { m: -1, c: clamp(Math.floor(d / 2), -1, maxPop) + 1 };
}

/** Constant for output channels that only pad the kernel's blocks: never set. */
export function neverSet(maxPop: number): { m: number; c: number } {
  return { m: 0, c: -(maxPop + 1) };
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

/**
 * Weights rows [rows][words] (core's packing) re-laid out for the scalar kernels: 4 rows
 * interleaved per 64-bit word, [ceil(rows/4)][kWords][4] u64 (as u32 pairs), zero-padded.
 * `wordOf(row, i)` gives 32-bit word i of a row; `kBits` bits per row.
 */
export function interleave4(
  rows: number,
  kBits: number,
  wordOf: (row: number, word32: number) => number,
): { data: Uint32Array; kWords: number; rowsPad: number } {
  const kWords = Math.max(1, Math.ceil(kBits / 64));
  const rowsPad = Math.ceil(rows / 4) * 4;
  const data = new Uint32Array(rowsPad * kWords * 2);
  const words32 = Math.ceil(kBits / 32);
  for (let r = 0; r < rows; r++) {
    const base = Math.floor(r / 4) * kWords * 4 + (r % 4);
    for (let w = 0; w < words32; w++) data[(base + (w >> 1) * 4) * 2 + (w & 1)] = wordOf(r, w);
  }
  return { data, kWords, rowsPad };
}
