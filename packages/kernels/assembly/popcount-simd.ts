// The i8x16.popcnt GEMM block of the im2col conv (see conv-im2col.ts): 2 columns (pixels) x 4
// output channels, byte-lane accumulators, thresholds for 4 channels at once. On x64 the scalar
// block (popcount-scalar.ts) is faster and is the one used; this one is for CPUs with a vector
// popcount instruction (arm64). It is kept as a plain loop: unrolling the chunk loop (a
// fallthrough switch) made it about 10% faster on x64, not worth the code for a fallback there.

// Sums of the 16 byte lanes of four i8x16 accumulators: i32x4 [sum c0, sum c1, sum c2, sum c3].
// Lanes are at most 31*8 = 248, so the u16 stages cannot overflow.
@inline export function reduce4(c0: v128, c1: v128, c2: v128, c3: v128): v128 {
  const a0 = i16x8.extadd_pairwise_i8x16_u(c0);
  const a1 = i16x8.extadd_pairwise_i8x16_u(c1);
  const a2 = i16x8.extadd_pairwise_i8x16_u(c2);
  const a3 = i16x8.extadd_pairwise_i8x16_u(c3);
  const s01 = i16x8.add(i16x8.shuffle(a0, a1, 0, 2, 4, 6, 8, 10, 12, 14), i16x8.shuffle(a0, a1, 1, 3, 5, 7, 9, 11, 13, 15));
  const s23 = i16x8.add(i16x8.shuffle(a2, a3, 0, 2, 4, 6, 8, 10, 12, 14), i16x8.shuffle(a2, a3, 1, 3, 5, 7, 9, 11, 13, 15));
  const s = i16x8.add(i16x8.shuffle(s01, s23, 0, 2, 4, 6, 8, 10, 12, 14), i16x8.shuffle(s01, s23, 1, 3, 5, 7, 9, 11, 13, 15));
  return i32x4.extadd_pairwise_i16x8_u(s);
}

// Threshold 4 channels' popcounts into 4 bits (bit j = channel o+j).
@inline export function thresholdBits(pop: v128, m: v128, c: v128): i32 {
  return ~i32x4.bitmask(i32x4.add(v128.xor(pop, m), c)) & 0xf;
}

// One pair of columns (pixels) against all output channels, blocked 2 pixels x 4 channels:
// popcount(a_i ^ w_o) over K chunks in byte accumulators (at most 31 chunks of at most 8 per
// lane fit in a byte; longer K is summed in segments of 31 into i32x4), then 4 channels at a
// time are thresholded and ORed into the pixels' output words.
export function pairAllChannels(
  a0: usize, a1: usize, wPtr: usize, kChunks: i32, outCPad: i32, mPtr: usize,
  c0Base: usize, c1Base: usize, q0: usize, q1: usize,
): void {
  const zero = i32x4.splat(0);
  const wStride = <usize>kChunks << 4;
  let bits0: u32 = 0, bits1: u32 = 0;
  for (let o = 0; o < outCPad; o += 4) {
    const w0 = wPtr + <usize>o * wStride;
    const w1 = w0 + wStride, w2 = w1 + wStride, w3 = w2 + wStride;
    let sA = zero, sB = zero;
    let off: usize = 0;
    let k = 0;
    while (k < kChunks) {
      const end = min<i32>(kChunks, k + 31);
      let c00 = zero, c01 = zero, c02 = zero, c03 = zero;
      let c10 = zero, c11 = zero, c12 = zero, c13 = zero;
      for (; k < end; k++) {
        const x0 = v128.load(a0 + off);
        const x1 = v128.load(a1 + off);
        let y = v128.load(w0 + off);
        c00 = i8x16.add(c00, i8x16.popcnt(v128.xor(x0, y)));
        c10 = i8x16.add(c10, i8x16.popcnt(v128.xor(x1, y)));
        y = v128.load(w1 + off);
        c01 = i8x16.add(c01, i8x16.popcnt(v128.xor(x0, y)));
        c11 = i8x16.add(c11, i8x16.popcnt(v128.xor(x1, y)));
        y = v128.load(w2 + off);
        c02 = i8x16.add(c02, i8x16.popcnt(v128.xor(x0, y)));
        c12 = i8x16.add(c12, i8x16.popcnt(v128.xor(x1, y)));
        y = v128.load(w3 + off);
        c03 = i8x16.add(c03, i8x16.popcnt(v128.xor(x0, y)));
        c13 = i8x16.add(c13, i8x16.popcnt(v128.xor(x1, y)));
        off += 16;
      }
      sA = i32x4.add(sA, reduce4(c00, c01, c02, c03));
      sB = i32x4.add(sB, reduce4(c10, c11, c12, c13));
    }
    const m = v128.load(mPtr + (<usize>o << 2));
    bits0 |= <u32>thresholdBits(sA, m, v128.load(c0Base + (<usize>o << 2))) << (<u32>o & 31);
    bits1 |= <u32>thresholdBits(sB, m, v128.load(c1Base + (<usize>o << 2))) << (<u32>o & 31);
    if ((o & 31) == 28 || o + 4 >= outCPad) {
      const wq = <usize>(o >>> 5) << 2;
      store<u32>(q0 + wq, load<u32>(q0 + wq) | bits0);
      store<u32>(q1 + wq, load<u32>(q1 + wq) | bits1);
      bits0 = 0;
      bits1 = 0;
    }
  }
}
