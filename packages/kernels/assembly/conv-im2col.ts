// Fast binary conv 3x3 (stride 1): an im2col in bits, then a register-blocked XNOR-popcount
// GEMM whose epilogue thresholds four output channels at once and writes packed bits.
//
// Three GEMM kernels, same results: `pairAllChannelsNarrow` for windows of at most 128 bits
// (first layer on planes), and for wider windows `pixelAllChannelsScalar` (native 64-bit
// popcount: the faster one on x64, where V8 lowers i8x16.popcnt to ~10 instructions) or
// `pairAllChannels` (i8x16.popcnt: the faster one where the CPU has a vector popcount). The
// JavaScript side picks by timing both once (src/wasm-conv.ts, fastestIm2colKernel).
//
// Why this shape: the 3x3 window of a pixel is packed densely, tap t = dy*3 + dx at bits
// [t*inC, (t+1)*inC) of one bit vector padded with zeros to whole 128-bit chunks (K chunks).
// Narrow inputs get dense chunks (8 planes: 72 bits = 1 chunk instead of 3 mostly empty ones;
// 64 channels: 576 bits = 5 chunks instead of 6), and the GEMM's inner loop has no borders.
//
// Borders ('same'): a tap outside the image is left 0 in the column, so the raw popcount counts
// popcount(w_tap) for it. Which taps are outside depends only on the pixel's border class
// (top, bottom, left, right: 16 classes), so the correction is folded into per-class constants
// prepared on the JavaScript side (src/wasm-conv.ts):
//   bit = ((pop ^ m[o]) + c[class][o]) >= 0
// with m = -1, c = floor(D/2) + 1 for `x >= t` and m = 0, c = -ceil(D/2) for the flipped
// `x <= t`, where D = validBits + 2*correction - t. Padding output channels (up to a multiple
// of 4) have m = 0, c = -(K bits + 1): never set.
//
// Max-pool 2x2 (floor) can be fused: the bits of the 4 pixels of a window are ORed into one
// output pixel (max over ±1 is OR), and rows/columns the pool drops are never computed.

// Sums of the 16 byte lanes of four i8x16 accumulators: i32x4 [sum c0, sum c1, sum c2, sum c3].
// Lanes are at most 31*8 = 248, so the u16 stages cannot overflow.
@inline function reduce4(c0: v128, c1: v128, c2: v128, c3: v128): v128 {
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
@inline function thresholdBits(pop: v128, m: v128, c: v128): i32 {
  return ~i32x4.bitmask(i32x4.add(v128.xor(pop, m), c)) & 0xf;
}

// One pair of columns (pixels) against all output channels, blocked 2 pixels x 4 channels:
// popcount(a_i ^ w_o) over K chunks in byte accumulators (at most 31 chunks of at most 8 per
// lane fit in a byte; longer K is summed in segments of 31 into i32x4), then 4 channels at a
// time are thresholded and ORed into the pixels' output words.
function pairAllChannels(
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
    if (kChunks <= 12) {
      // Short windows (every VGG-small layer): the chunk loop fully unrolled, entered at the
      // right step (fallthrough), so no loop counter, interrupt check or spill per chunk.
      let c00 = zero, c01 = zero, c02 = zero, c03 = zero;
      let c10 = zero, c11 = zero, c12 = zero, c13 = zero;
      let pa0 = a0, pa1 = a1, p0 = w0, p1 = w1, p2 = w2, p3 = w3;
      switch (12 - kChunks) {
        case 0: {
          const x0 = v128.load(pa0);
          const x1 = v128.load(pa1);
          let y = v128.load(p0);
          c00 = i8x16.add(c00, i8x16.popcnt(v128.xor(x0, y)));
          c10 = i8x16.add(c10, i8x16.popcnt(v128.xor(x1, y)));
          y = v128.load(p1);
          c01 = i8x16.add(c01, i8x16.popcnt(v128.xor(x0, y)));
          c11 = i8x16.add(c11, i8x16.popcnt(v128.xor(x1, y)));
          y = v128.load(p2);
          c02 = i8x16.add(c02, i8x16.popcnt(v128.xor(x0, y)));
          c12 = i8x16.add(c12, i8x16.popcnt(v128.xor(x1, y)));
          y = v128.load(p3);
          c03 = i8x16.add(c03, i8x16.popcnt(v128.xor(x0, y)));
          c13 = i8x16.add(c13, i8x16.popcnt(v128.xor(x1, y)));
          pa0 += 16; pa1 += 16; p0 += 16; p1 += 16; p2 += 16; p3 += 16;
        }
        case 1: {
          const x0 = v128.load(pa0);
          const x1 = v128.load(pa1);
          let y = v128.load(p0);
          c00 = i8x16.add(c00, i8x16.popcnt(v128.xor(x0, y)));
          c10 = i8x16.add(c10, i8x16.popcnt(v128.xor(x1, y)));
          y = v128.load(p1);
          c01 = i8x16.add(c01, i8x16.popcnt(v128.xor(x0, y)));
          c11 = i8x16.add(c11, i8x16.popcnt(v128.xor(x1, y)));
          y = v128.load(p2);
          c02 = i8x16.add(c02, i8x16.popcnt(v128.xor(x0, y)));
          c12 = i8x16.add(c12, i8x16.popcnt(v128.xor(x1, y)));
          y = v128.load(p3);
          c03 = i8x16.add(c03, i8x16.popcnt(v128.xor(x0, y)));
          c13 = i8x16.add(c13, i8x16.popcnt(v128.xor(x1, y)));
          pa0 += 16; pa1 += 16; p0 += 16; p1 += 16; p2 += 16; p3 += 16;
        }
        case 2: {
          const x0 = v128.load(pa0);
          const x1 = v128.load(pa1);
          let y = v128.load(p0);
          c00 = i8x16.add(c00, i8x16.popcnt(v128.xor(x0, y)));
          c10 = i8x16.add(c10, i8x16.popcnt(v128.xor(x1, y)));
          y = v128.load(p1);
          c01 = i8x16.add(c01, i8x16.popcnt(v128.xor(x0, y)));
          c11 = i8x16.add(c11, i8x16.popcnt(v128.xor(x1, y)));
          y = v128.load(p2);
          c02 = i8x16.add(c02, i8x16.popcnt(v128.xor(x0, y)));
          c12 = i8x16.add(c12, i8x16.popcnt(v128.xor(x1, y)));
          y = v128.load(p3);
          c03 = i8x16.add(c03, i8x16.popcnt(v128.xor(x0, y)));
          c13 = i8x16.add(c13, i8x16.popcnt(v128.xor(x1, y)));
          pa0 += 16; pa1 += 16; p0 += 16; p1 += 16; p2 += 16; p3 += 16;
        }
        case 3: {
          const x0 = v128.load(pa0);
          const x1 = v128.load(pa1);
          let y = v128.load(p0);
          c00 = i8x16.add(c00, i8x16.popcnt(v128.xor(x0, y)));
          c10 = i8x16.add(c10, i8x16.popcnt(v128.xor(x1, y)));
          y = v128.load(p1);
          c01 = i8x16.add(c01, i8x16.popcnt(v128.xor(x0, y)));
          c11 = i8x16.add(c11, i8x16.popcnt(v128.xor(x1, y)));
          y = v128.load(p2);
          c02 = i8x16.add(c02, i8x16.popcnt(v128.xor(x0, y)));
          c12 = i8x16.add(c12, i8x16.popcnt(v128.xor(x1, y)));
          y = v128.load(p3);
          c03 = i8x16.add(c03, i8x16.popcnt(v128.xor(x0, y)));
          c13 = i8x16.add(c13, i8x16.popcnt(v128.xor(x1, y)));
          pa0 += 16; pa1 += 16; p0 += 16; p1 += 16; p2 += 16; p3 += 16;
        }
        case 4: {
          const x0 = v128.load(pa0);
          const x1 = v128.load(pa1);
          let y = v128.load(p0);
          c00 = i8x16.add(c00, i8x16.popcnt(v128.xor(x0, y)));
          c10 = i8x16.add(c10, i8x16.popcnt(v128.xor(x1, y)));
          y = v128.load(p1);
          c01 = i8x16.add(c01, i8x16.popcnt(v128.xor(x0, y)));
          c11 = i8x16.add(c11, i8x16.popcnt(v128.xor(x1, y)));
          y = v128.load(p2);
          c02 = i8x16.add(c02, i8x16.popcnt(v128.xor(x0, y)));
          c12 = i8x16.add(c12, i8x16.popcnt(v128.xor(x1, y)));
          y = v128.load(p3);
          c03 = i8x16.add(c03, i8x16.popcnt(v128.xor(x0, y)));
          c13 = i8x16.add(c13, i8x16.popcnt(v128.xor(x1, y)));
          pa0 += 16; pa1 += 16; p0 += 16; p1 += 16; p2 += 16; p3 += 16;
        }
        case 5: {
          const x0 = v128.load(pa0);
          const x1 = v128.load(pa1);
          let y = v128.load(p0);
          c00 = i8x16.add(c00, i8x16.popcnt(v128.xor(x0, y)));
          c10 = i8x16.add(c10, i8x16.popcnt(v128.xor(x1, y)));
          y = v128.load(p1);
          c01 = i8x16.add(c01, i8x16.popcnt(v128.xor(x0, y)));
          c11 = i8x16.add(c11, i8x16.popcnt(v128.xor(x1, y)));
          y = v128.load(p2);
          c02 = i8x16.add(c02, i8x16.popcnt(v128.xor(x0, y)));
          c12 = i8x16.add(c12, i8x16.popcnt(v128.xor(x1, y)));
          y = v128.load(p3);
          c03 = i8x16.add(c03, i8x16.popcnt(v128.xor(x0, y)));
          c13 = i8x16.add(c13, i8x16.popcnt(v128.xor(x1, y)));
          pa0 += 16; pa1 += 16; p0 += 16; p1 += 16; p2 += 16; p3 += 16;
        }
        case 6: {
          const x0 = v128.load(pa0);
          const x1 = v128.load(pa1);
          let y = v128.load(p0);
          c00 = i8x16.add(c00, i8x16.popcnt(v128.xor(x0, y)));
          c10 = i8x16.add(c10, i8x16.popcnt(v128.xor(x1, y)));
          y = v128.load(p1);
          c01 = i8x16.add(c01, i8x16.popcnt(v128.xor(x0, y)));
          c11 = i8x16.add(c11, i8x16.popcnt(v128.xor(x1, y)));
          y = v128.load(p2);
          c02 = i8x16.add(c02, i8x16.popcnt(v128.xor(x0, y)));
          c12 = i8x16.add(c12, i8x16.popcnt(v128.xor(x1, y)));
          y = v128.load(p3);
          c03 = i8x16.add(c03, i8x16.popcnt(v128.xor(x0, y)));
          c13 = i8x16.add(c13, i8x16.popcnt(v128.xor(x1, y)));
          pa0 += 16; pa1 += 16; p0 += 16; p1 += 16; p2 += 16; p3 += 16;
        }
        case 7: {
          const x0 = v128.load(pa0);
          const x1 = v128.load(pa1);
          let y = v128.load(p0);
          c00 = i8x16.add(c00, i8x16.popcnt(v128.xor(x0, y)));
          c10 = i8x16.add(c10, i8x16.popcnt(v128.xor(x1, y)));
          y = v128.load(p1);
          c01 = i8x16.add(c01, i8x16.popcnt(v128.xor(x0, y)));
          c11 = i8x16.add(c11, i8x16.popcnt(v128.xor(x1, y)));
          y = v128.load(p2);
          c02 = i8x16.add(c02, i8x16.popcnt(v128.xor(x0, y)));
          c12 = i8x16.add(c12, i8x16.popcnt(v128.xor(x1, y)));
          y = v128.load(p3);
          c03 = i8x16.add(c03, i8x16.popcnt(v128.xor(x0, y)));
          c13 = i8x16.add(c13, i8x16.popcnt(v128.xor(x1, y)));
          pa0 += 16; pa1 += 16; p0 += 16; p1 += 16; p2 += 16; p3 += 16;
        }
        case 8: {
          const x0 = v128.load(pa0);
          const x1 = v128.load(pa1);
          let y = v128.load(p0);
          c00 = i8x16.add(c00, i8x16.popcnt(v128.xor(x0, y)));
          c10 = i8x16.add(c10, i8x16.popcnt(v128.xor(x1, y)));
          y = v128.load(p1);
          c01 = i8x16.add(c01, i8x16.popcnt(v128.xor(x0, y)));
          c11 = i8x16.add(c11, i8x16.popcnt(v128.xor(x1, y)));
          y = v128.load(p2);
          c02 = i8x16.add(c02, i8x16.popcnt(v128.xor(x0, y)));
          c12 = i8x16.add(c12, i8x16.popcnt(v128.xor(x1, y)));
          y = v128.load(p3);
          c03 = i8x16.add(c03, i8x16.popcnt(v128.xor(x0, y)));
          c13 = i8x16.add(c13, i8x16.popcnt(v128.xor(x1, y)));
          pa0 += 16; pa1 += 16; p0 += 16; p1 += 16; p2 += 16; p3 += 16;
        }
        case 9: {
          const x0 = v128.load(pa0);
          const x1 = v128.load(pa1);
          let y = v128.load(p0);
          c00 = i8x16.add(c00, i8x16.popcnt(v128.xor(x0, y)));
          c10 = i8x16.add(c10, i8x16.popcnt(v128.xor(x1, y)));
          y = v128.load(p1);
          c01 = i8x16.add(c01, i8x16.popcnt(v128.xor(x0, y)));
          c11 = i8x16.add(c11, i8x16.popcnt(v128.xor(x1, y)));
          y = v128.load(p2);
          c02 = i8x16.add(c02, i8x16.popcnt(v128.xor(x0, y)));
          c12 = i8x16.add(c12, i8x16.popcnt(v128.xor(x1, y)));
          y = v128.load(p3);
          c03 = i8x16.add(c03, i8x16.popcnt(v128.xor(x0, y)));
          c13 = i8x16.add(c13, i8x16.popcnt(v128.xor(x1, y)));
          pa0 += 16; pa1 += 16; p0 += 16; p1 += 16; p2 += 16; p3 += 16;
        }
        case 10: {
          const x0 = v128.load(pa0);
          const x1 = v128.load(pa1);
          let y = v128.load(p0);
          c00 = i8x16.add(c00, i8x16.popcnt(v128.xor(x0, y)));
          c10 = i8x16.add(c10, i8x16.popcnt(v128.xor(x1, y)));
          y = v128.load(p1);
          c01 = i8x16.add(c01, i8x16.popcnt(v128.xor(x0, y)));
          c11 = i8x16.add(c11, i8x16.popcnt(v128.xor(x1, y)));
          y = v128.load(p2);
          c02 = i8x16.add(c02, i8x16.popcnt(v128.xor(x0, y)));
          c12 = i8x16.add(c12, i8x16.popcnt(v128.xor(x1, y)));
          y = v128.load(p3);
          c03 = i8x16.add(c03, i8x16.popcnt(v128.xor(x0, y)));
          c13 = i8x16.add(c13, i8x16.popcnt(v128.xor(x1, y)));
          pa0 += 16; pa1 += 16; p0 += 16; p1 += 16; p2 += 16; p3 += 16;
        }
        default: {
          const x0 = v128.load(pa0);
          const x1 = v128.load(pa1);
          let y = v128.load(p0);
          c00 = i8x16.add(c00, i8x16.popcnt(v128.xor(x0, y)));
          c10 = i8x16.add(c10, i8x16.popcnt(v128.xor(x1, y)));
          y = v128.load(p1);
          c01 = i8x16.add(c01, i8x16.popcnt(v128.xor(x0, y)));
          c11 = i8x16.add(c11, i8x16.popcnt(v128.xor(x1, y)));
          y = v128.load(p2);
          c02 = i8x16.add(c02, i8x16.popcnt(v128.xor(x0, y)));
          c12 = i8x16.add(c12, i8x16.popcnt(v128.xor(x1, y)));
          y = v128.load(p3);
          c03 = i8x16.add(c03, i8x16.popcnt(v128.xor(x0, y)));
          c13 = i8x16.add(c13, i8x16.popcnt(v128.xor(x1, y)));
          pa0 += 16; pa1 += 16; p0 += 16; p1 += 16; p2 += 16; p3 += 16;
        }
      }
      sA = reduce4(c00, c01, c02, c03);
      sB = reduce4(c10, c11, c12, c13);
    } else {
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

// The same for a window of at most 128 bits (the first layer on bit planes: 9 taps x 8 planes
// = 72 bits, x 4 planes = 36): scalar 64-bit popcounts are native instructions, so with one
// chunk they beat i8x16.popcnt plus the byte-lane reduction it needs.
function pairAllChannelsNarrow(
  a0: usize, a1: usize, wPtr: usize, twoWords: bool, outCPad: i32, mPtr: usize,
  c0Base: usize, c1Base: usize, q0: usize, q1: usize,
): void {
  const x0 = load<u64>(a0), x1 = load<u64>(a1);
  const y0 = twoWords ? load<u64>(a0, 8) : 0;
  const y1 = twoWords ? load<u64>(a1, 8) : 0;
  let bits0: u32 = 0, bits1: u32 = 0;
  let w = wPtr;
  for (let o = 0; o < outCPad; o += 4) {
    let v0 = i32x4.splat(narrowPop(x0, y0, w, twoWords));
    let v1 = i32x4.splat(narrowPop(x1, y1, w, twoWords));
    v0 = i32x4.replace_lane(v0, 1, narrowPop(x0, y0, w + 16, twoWords));
    v1 = i32x4.replace_lane(v1, 1, narrowPop(x1, y1, w + 16, twoWords));
    v0 = i32x4.replace_lane(v0, 2, narrowPop(x0, y0, w + 32, twoWords));
    v1 = i32x4.replace_lane(v1, 2, narrowPop(x1, y1, w + 32, twoWords));
    v0 = i32x4.replace_lane(v0, 3, narrowPop(x0, y0, w + 48, twoWords));
    v1 = i32x4.replace_lane(v1, 3, narrowPop(x1, y1, w + 48, twoWords));
    w += 64;
    const at = <usize>o << 2;
    const m = v128.load(mPtr + at);
    bits0 |= <u32>thresholdBits(v0, m, v128.load(c0Base + at)) << (<u32>o & 31);
    bits1 |= <u32>thresholdBits(v1, m, v128.load(c1Base + at)) << (<u32>o & 31);
    if ((o & 31) == 28 || o + 4 >= outCPad) {
      const wq = <usize>(o >>> 5) << 2;
      store<u32>(q0 + wq, load<u32>(q0 + wq) | bits0);
      store<u32>(q1 + wq, load<u32>(q1 + wq) | bits1);
      bits0 = 0;
      bits1 = 0;
    }
  }
}

@inline function narrowPop(lo: u64, hi: u64, w: usize, twoWords: bool): i32 {
  let p = <i32>popcnt<u64>(lo ^ load<u64>(w));
  if (twoWords) p += <i32>popcnt<u64>(hi ^ load<u64>(w, 8));
  return p;
}

// im2colRow for a window of at most 128 bits (inC <= 14, one word per input pixel): the column
// is assembled in two 64-bit registers and stored once.
@inline function windowRow(src: usize, mask: u64, c: u64): u64 {
  const ab = load<u64>(src);
  return (ab & mask) | (((ab >> 32) & mask) << c) | ((<u64>load<u32>(src, 8) & mask) << (2 * c));
}

function im2colRowNarrow(img: usize, h: i32, w: i32, inC: i32, pad: i32, y: i32, x0: i32, items: i32, col: usize): void {
  const mask: u64 = (<u64>1 << <u64>inC) - 1;
  // the register fast path needs rows 0 and 1 within the low word: 6*inC <= 64
  const rowsIn = inC <= 10 && y - pad >= 0 && y - pad + 2 < h;
  const c = <u64>inC;
  for (let i = 0; i < items; i++) {
    const x = x0 + i;
    let lo: u64 = 0, hi: u64 = 0;
    if (rowsIn && x - pad >= 0 && x - pad + 2 < w) {
      // Interior: each window row is 3 consecutive words, joined into 3*inC <= 30 bits, and the
      // three rows placed at bits 0, 3*inC and 6*inC (<= 60, so only the last one splits).
      let src = img + (<usize>((y - pad) * w + x - pad) << 2);
      const rowBytes = <usize>w << 2;
      const r0 = windowRow(src, mask, c);
      const r1 = windowRow(src + rowBytes, mask, c);
      const r2 = windowRow(src + 2 * rowBytes, mask, c);
      lo = r0 | (r1 << (3 * c)) | (r2 << (6 * c));
      hi = r2 >> (64 - 6 * c);
      const dst = col + (<usize>i << 4);
      store<u64>(dst, lo);
      store<u64>(dst, hi, 8);
      continue;
    }
    for (let dy = 0; dy < 3; dy++) {
      const iy = y + dy - pad;
      if (iy < 0 || iy >= h) continue;
      const rowSrc = img + (<usize>(iy * w) << 2);
      for (let dx = 0; dx < 3; dx++) {
        const ix = x + dx - pad;
        if (ix < 0 || ix >= w) continue;
        const v = <u64>load<u32>(rowSrc + (<usize>ix << 2)) & mask;
        const bit = <u64>((dy * 3 + dx) * inC);
        if (bit < 64) {
          lo |= v << bit;
          if (bit > 0) hi |= v >> (<u64>64 - bit); // the part that spills over (0 if none)
        } else {
          hi |= v << (bit - 64);
        }
      }
    }
    const dst = col + (<usize>i << 4);
    store<u64>(dst, lo);
    store<u64>(dst, hi, 8);
  }
}

// im2colRow for inC a multiple of 32: taps are whole words, copied (or zeroed outside the
// image) with plain loads and stores; memory.copy/fill per tap would cost a call each.
function im2colRowAligned(img: usize, h: i32, w: i32, wordsC: i32, pad: i32, y: i32, x0: i32, items: i32, kChunks: i32, col: usize): void {
  const pixelBytes = <usize>wordsC << 2;
  const kBytes = <usize>kChunks << 4;
  const tailStart = <usize>(9 * wordsC) << 2;
  const even = (wordsC & 1) == 0;
  // Interior pixels: each window row is 3 consecutive input pixels, copied in whole v128s.
  // A copy may run up to 15 bytes past its segment: the next segment overwrites that, the last
  // one is followed by a zero v128 for the column's padding (the column buffer and every input
  // buffer have 16 bytes of slack, and later pixels are written after this one).
  const segBytes = <usize>(3 * wordsC) << 2;
  const rowsIn = y - pad >= 0 && y - pad + 2 < h;
  const zero = i32x4.splat(0);
  for (let i = 0; i < items; i++) {
    const x = x0 + i;
    const dst = col + <usize>i * kBytes;
    if (rowsIn && x - pad >= 0 && x - pad + 2 < w) {
      let src = img + <usize>((y - pad) * w + x - pad) * pixelBytes;
      const rowBytes = <usize>w * pixelBytes;
      let d = dst;
      for (let dy = 0; dy < 3; dy++) {
        for (let off: usize = 0; off < segBytes; off += 16) v128.store(d + off, v128.load(src + off));
        d += segBytes;
        src += rowBytes;
      }
      v128.store(d, zero);
      continue;
    }
    let d = dst;
    for (let dy = 0; dy < 3; dy++) {
      const iy = y + dy - pad;
      const rowOk = iy >= 0 && iy < h;
      const rowSrc = img + <usize>(iy * w) * pixelBytes;
      for (let dx = 0; dx < 3; dx++) {
        const ix = x + dx - pad;
        const end = d + pixelBytes;
        if (rowOk && ix >= 0 && ix < w) {
          let src = rowSrc + <usize>ix * pixelBytes;
          if (even) {
            for (; d < end; d += 8, src += 8) store<u64>(d, load<u64>(src));
          } else {
            for (; d < end; d += 4, src += 4) store<u32>(d, load<u32>(src));
          }
        } else {
          for (; d < end; d += 4) store<u32>(d, 0);
        }
      }
    }
    for (let t = dst + tailStart; t < dst + kBytes; t += 4) store<u32>(t, 0);
  }
}

// One column (pixel) against all output channels with scalar 64-bit popcounts, 4 channels at a
// time. Weights interleaved for it: [outCPad/4][kWords][4] u64.
function pixelAllChannelsScalar(a: usize, wPtr: usize, kWords: i32, outCPad: i32, mPtr: usize, cBase: usize, q: usize): void {
  let bits: u32 = 0;
  let pw = wPtr;
  for (let o = 0; o < outCPad; o += 4) {
    let s0: u64 = 0, s1: u64 = 0, s2: u64 = 0, s3: u64 = 0;
    let pa = a;
    if (kWords <= 18) {
      switch (18 - kWords) {
        case 0: {
          const x = load<u64>(pa);
          s0 += popcnt<u64>(x ^ load<u64>(pw));
          s1 += popcnt<u64>(x ^ load<u64>(pw, 8));
          s2 += popcnt<u64>(x ^ load<u64>(pw, 16));
          s3 += popcnt<u64>(x ^ load<u64>(pw, 24));
          pa += 8;
          pw += 32;
        }
        case 1: {
          const x = load<u64>(pa);
          s0 += popcnt<u64>(x ^ load<u64>(pw));
          s1 += popcnt<u64>(x ^ load<u64>(pw, 8));
          s2 += popcnt<u64>(x ^ load<u64>(pw, 16));
          s3 += popcnt<u64>(x ^ load<u64>(pw, 24));
          pa += 8;
          pw += 32;
        }
        case 2: {
          const x = load<u64>(pa);
          s0 += popcnt<u64>(x ^ load<u64>(pw));
          s1 += popcnt<u64>(x ^ load<u64>(pw, 8));
          s2 += popcnt<u64>(x ^ load<u64>(pw, 16));
          s3 += popcnt<u64>(x ^ load<u64>(pw, 24));
          pa += 8;
          pw += 32;
        }
        case 3: {
          const x = load<u64>(pa);
          s0 += popcnt<u64>(x ^ load<u64>(pw));
          s1 += popcnt<u64>(x ^ load<u64>(pw, 8));
          s2 += popcnt<u64>(x ^ load<u64>(pw, 16));
          s3 += popcnt<u64>(x ^ load<u64>(pw, 24));
          pa += 8;
          pw += 32;
        }
        case 4: {
          const x = load<u64>(pa);
          s0 += popcnt<u64>(x ^ load<u64>(pw));
          s1 += popcnt<u64>(x ^ load<u64>(pw, 8));
          s2 += popcnt<u64>(x ^ load<u64>(pw, 16));
          s3 += popcnt<u64>(x ^ load<u64>(pw, 24));
          pa += 8;
          pw += 32;
        }
        case 5: {
          const x = load<u64>(pa);
          s0 += popcnt<u64>(x ^ load<u64>(pw));
          s1 += popcnt<u64>(x ^ load<u64>(pw, 8));
          s2 += popcnt<u64>(x ^ load<u64>(pw, 16));
          s3 += popcnt<u64>(x ^ load<u64>(pw, 24));
          pa += 8;
          pw += 32;
        }
        case 6: {
          const x = load<u64>(pa);
          s0 += popcnt<u64>(x ^ load<u64>(pw));
          s1 += popcnt<u64>(x ^ load<u64>(pw, 8));
          s2 += popcnt<u64>(x ^ load<u64>(pw, 16));
          s3 += popcnt<u64>(x ^ load<u64>(pw, 24));
          pa += 8;
          pw += 32;
        }
        case 7: {
          const x = load<u64>(pa);
          s0 += popcnt<u64>(x ^ load<u64>(pw));
          s1 += popcnt<u64>(x ^ load<u64>(pw, 8));
          s2 += popcnt<u64>(x ^ load<u64>(pw, 16));
          s3 += popcnt<u64>(x ^ load<u64>(pw, 24));
          pa += 8;
          pw += 32;
        }
        case 8: {
          const x = load<u64>(pa);
          s0 += popcnt<u64>(x ^ load<u64>(pw));
          s1 += popcnt<u64>(x ^ load<u64>(pw, 8));
          s2 += popcnt<u64>(x ^ load<u64>(pw, 16));
          s3 += popcnt<u64>(x ^ load<u64>(pw, 24));
          pa += 8;
          pw += 32;
        }
        case 9: {
          const x = load<u64>(pa);
          s0 += popcnt<u64>(x ^ load<u64>(pw));
          s1 += popcnt<u64>(x ^ load<u64>(pw, 8));
          s2 += popcnt<u64>(x ^ load<u64>(pw, 16));
          s3 += popcnt<u64>(x ^ load<u64>(pw, 24));
          pa += 8;
          pw += 32;
        }
        case 10: {
          const x = load<u64>(pa);
          s0 += popcnt<u64>(x ^ load<u64>(pw));
          s1 += popcnt<u64>(x ^ load<u64>(pw, 8));
          s2 += popcnt<u64>(x ^ load<u64>(pw, 16));
          s3 += popcnt<u64>(x ^ load<u64>(pw, 24));
          pa += 8;
          pw += 32;
        }
        case 11: {
          const x = load<u64>(pa);
          s0 += popcnt<u64>(x ^ load<u64>(pw));
          s1 += popcnt<u64>(x ^ load<u64>(pw, 8));
          s2 += popcnt<u64>(x ^ load<u64>(pw, 16));
          s3 += popcnt<u64>(x ^ load<u64>(pw, 24));
          pa += 8;
          pw += 32;
        }
        case 12: {
          const x = load<u64>(pa);
          s0 += popcnt<u64>(x ^ load<u64>(pw));
          s1 += popcnt<u64>(x ^ load<u64>(pw, 8));
          s2 += popcnt<u64>(x ^ load<u64>(pw, 16));
          s3 += popcnt<u64>(x ^ load<u64>(pw, 24));
          pa += 8;
          pw += 32;
        }
        case 13: {
          const x = load<u64>(pa);
          s0 += popcnt<u64>(x ^ load<u64>(pw));
          s1 += popcnt<u64>(x ^ load<u64>(pw, 8));
          s2 += popcnt<u64>(x ^ load<u64>(pw, 16));
          s3 += popcnt<u64>(x ^ load<u64>(pw, 24));
          pa += 8;
          pw += 32;
        }
        case 14: {
          const x = load<u64>(pa);
          s0 += popcnt<u64>(x ^ load<u64>(pw));
          s1 += popcnt<u64>(x ^ load<u64>(pw, 8));
          s2 += popcnt<u64>(x ^ load<u64>(pw, 16));
          s3 += popcnt<u64>(x ^ load<u64>(pw, 24));
          pa += 8;
          pw += 32;
        }
        case 15: {
          const x = load<u64>(pa);
          s0 += popcnt<u64>(x ^ load<u64>(pw));
          s1 += popcnt<u64>(x ^ load<u64>(pw, 8));
          s2 += popcnt<u64>(x ^ load<u64>(pw, 16));
          s3 += popcnt<u64>(x ^ load<u64>(pw, 24));
          pa += 8;
          pw += 32;
        }
        case 16: {
          const x = load<u64>(pa);
          s0 += popcnt<u64>(x ^ load<u64>(pw));
          s1 += popcnt<u64>(x ^ load<u64>(pw, 8));
          s2 += popcnt<u64>(x ^ load<u64>(pw, 16));
          s3 += popcnt<u64>(x ^ load<u64>(pw, 24));
          pa += 8;
          pw += 32;
        }
        default: {
          const x = load<u64>(pa);
          s0 += popcnt<u64>(x ^ load<u64>(pw));
          s1 += popcnt<u64>(x ^ load<u64>(pw, 8));
          s2 += popcnt<u64>(x ^ load<u64>(pw, 16));
          s3 += popcnt<u64>(x ^ load<u64>(pw, 24));
          pa += 8;
          pw += 32;
        }
      }
    } else {
      for (let k = 0; k < kWords; k++) {
          const x = load<u64>(pa);
          s0 += popcnt<u64>(x ^ load<u64>(pw));
          s1 += popcnt<u64>(x ^ load<u64>(pw, 8));
          s2 += popcnt<u64>(x ^ load<u64>(pw, 16));
          s3 += popcnt<u64>(x ^ load<u64>(pw, 24));
          pa += 8;
          pw += 32;
        }
    }
    const at = <usize>o << 2;
    {
      let v = i32x4.splat(<i32>s0);
      v = i32x4.replace_lane(v, 1, <i32>s1);
      v = i32x4.replace_lane(v, 2, <i32>s2);
      v = i32x4.replace_lane(v, 3, <i32>s3);
      bits |= <u32>thresholdBits(v, v128.load(mPtr + at), v128.load(cBase + at)) << (<u32>o & 31);
    }
    if ((o & 31) == 28 || o + 4 >= outCPad) {
      const wq = q + (<usize>(o >>> 5) << 2);
      store<u32>(wq, load<u32>(wq) | bits);
      bits = 0;
    }
  }
}

// Column of one output row: `items` pixels (x = x0, x0+1, ...), each kChunks*16 bytes.
function im2colRow(
  img: usize, h: i32, w: i32, inC: i32, pad: i32, y: i32, x0: i32, items: i32, kChunks: i32, col: usize,
): void {
  const wordsC = (inC + 31) >>> 5;
  const pixelBytes = <usize>wordsC << 2;
  const kBytes = <usize>kChunks << 4;
  if (kChunks == 1) {
    im2colRowNarrow(img, h, w, inC, pad, y, x0, items, col);
    return;
  }
  const aligned = (inC & 31) == 0;
  if (aligned) {
    im2colRowAligned(img, h, w, wordsC, pad, y, x0, items, kChunks, col);
    return;
  }
  memory.fill(col, 0, <usize>items * kBytes);
  const lastMask: u32 = aligned ? 0xffffffff : ((<u32>1 << (<u32>inC & 31)) - 1);
  for (let i = 0; i < items; i++) {
    const x = x0 + i;
    const dst = col + <usize>i * kBytes;
    for (let dy = 0; dy < 3; dy++) {
      const iy = y + dy - pad;
      if (iy < 0 || iy >= h) continue;
      const rowSrc = img + <usize>(iy * w) * pixelBytes;
      for (let dx = 0; dx < 3; dx++) {
        const ix = x + dx - pad;
        if (ix < 0 || ix >= w) continue;
        const src = rowSrc + <usize>ix * pixelBytes;
        const t = dy * 3 + dx;
        if (aligned) {
          memory.copy(dst + <usize>(t * wordsC) * 4, src, pixelBytes);
        } else {
          // OR each word in at bit offset t*inC + 32*k through a 64-bit window; the column is
          // zeroed and padded to whole chunks, so the window never leaves this pixel's K bytes
          // except by writing back zero bits.
          let bit = t * inC;
          for (let k = 0; k < wordsC; k++, bit += 32) {
            let v = load<u32>(src + (<usize>k << 2));
            if (k == wordsC - 1) v &= lastMask;
            const at = dst + (<usize>(bit >>> 5) << 2);
            store<u64>(at, load<u64>(at) | (<u64>v << <u64>(bit & 31)));
          }
        }
      }
    }
  }
}

// Binary conv 3x3 stride 1 ('same' when same != 0, else 'valid'), optionally fused with a 2x2
// max-pool. Weights: outCPad rows of kChunks*16 bytes (src/wasm-conv.ts packs them); m: outCPad
// i32; c: 16 classes x outCPad i32; col: scratch of (output width) x kChunks*16 bytes;
// kWords > 0 selects the scalar kernel with its weights at wScalarPtr, 0 the SIMD one.
// Output: packed bits, words(outC) per (pooled) output pixel.
export function convIm2col(
  inPtr: usize, batch: i32, h: i32, w: i32, inC: i32, same: i32, pool: i32,
  wPtr: usize, kChunks: i32, outC: i32, outCPad: i32, mPtr: usize, cPtr: usize,
  colPtr: usize, outPtr: usize, wScalarPtr: usize, kWords: i32,
): void {
  const pad = same ? 1 : 0;
  const ho = same ? h : h - 2;
  const wo = same ? w : w - 2;
  const outWords = (outC + 31) >>> 5;
  const outPixBytes = <usize>outWords << 2;
  // Pixels actually computed per row and rows per image: pooling drops an odd last row/column.
  const rows = pool ? (ho >> 1) << 1 : ho;
  const cols = pool ? (wo >> 1) << 1 : wo;
  const outH = pool ? ho >> 1 : ho;
  const outW = pool ? wo >> 1 : wo;
  const imgInBytes = <usize>(h * w * ((inC + 31) >>> 5)) << 2;
  const imgOutBytes = <usize>(outH * outW) * outPixBytes;
  const kBytes = <usize>kChunks << 4;
  const kBits = 9 * inC;
  const classStride = <usize>outCPad << 2;
  memory.fill(outPtr, 0, <usize>batch * imgOutBytes);
  if (cols <= 0) return;
  for (let b = 0; b < batch; b++) {
    const img = inPtr + <usize>b * imgInBytes;
    const outImg = outPtr + <usize>b * imgOutBytes;
    for (let y = 0; y < rows; y++) {
      im2colRow(img, h, w, inC, pad, y, 0, cols, kChunks, colPtr);
      const rowClass = same ? (i32(y == 0) | (i32(y == ho - 1) << 1)) : 0;
      const outRow = outImg + <usize>((pool ? y >> 1 : y) * outW) * outPixBytes;
      for (let i = 0; i < cols; i += 2) {
        const i1 = min<i32>(i + 1, cols - 1);
        const a0 = colPtr + <usize>i * kBytes;
        const a1 = colPtr + <usize>i1 * kBytes;
        const cls0 = same ? rowClass | (i32(i == 0) << 2) | (i32(i == wo - 1) << 3) : 0;
        const cls1 = same ? rowClass | (i32(i1 == 0) << 2) | (i32(i1 == wo - 1) << 3) : 0;
        const c0Base = cPtr + <usize>cls0 * classStride;
        const c1Base = cPtr + <usize>cls1 * classStride;
        const q0 = outRow + <usize>(pool ? i >> 1 : i) * outPixBytes;
        const q1 = outRow + <usize>(pool ? i1 >> 1 : i1) * outPixBytes;
        if (kChunks == 1) pairAllChannelsNarrow(a0, a1, wPtr, kBits > 64, outCPad, mPtr, c0Base, c1Base, q0, q1);
        else if (kWords > 0) {
          pixelAllChannelsScalar(a0, wScalarPtr, kWords, outCPad, mPtr, c0Base, q0);
          if (i1 != i) pixelAllChannelsScalar(a1, wScalarPtr, kWords, outCPad, mPtr, c1Base, q1);
        } else pairAllChannels(a0, a1, wPtr, kChunks, outCPad, mPtr, c0Base, c1Base, q0, q1);
      }
    }
  }
}
