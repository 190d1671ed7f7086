// The scalar 64-bit popcount GEMM blocks of the im2col conv (see conv-im2col.ts). On x64, V8
// lowers i8x16.popcnt to about 10 instructions per 128 bits (nibble table lookups, constants
// reloaded each time), while i64.popcnt is one native instruction: 3 ALU operations per 64 bits
// and channel (xor, popcnt, add) beat the SIMD block by about a quarter on this kind of CPU.

import { thresholdBits } from './popcount-simd';

// 2 columns x all channels for a window of at most 128 bits (first layer on bit planes: 9 taps x 8 planes
// = 72 bits, x 4 planes = 36): scalar 64-bit popcounts are native instructions, so with one
// chunk they beat i8x16.popcnt plus the byte-lane reduction it needs.
export function pairAllChannelsNarrow(
  a0: usize, a1: usize, wPtr: usize, twoWords: bool, outCPad: i32, mPtr: usize,
  c0Base: usize, c1Base: usize, q0: usize, q1: usize,
): void {
  // two copies with the word count constant, so the loop has no branch on it
  if (twoWords) narrowBlock(a0, a1, wPtr, true, outCPad, mPtr, c0Base, c1Base, q0, q1);
  else narrowBlock(a0, a1, wPtr, false, outCPad, mPtr, c0Base, c1Base, q0, q1);
}

@inline function narrowBlock(
  a0: usize, a1: usize, wPtr: usize, twoWords: bool, outCPad: i32, mPtr: usize,
  c0Base: usize, c1Base: usize, q0: usize, q1: usize,
): void {
  const x0 = load<u64>(a0), x1 = load<u64>(a1);
  const y0 = twoWords ? load<u64>(a0, 8) : 0;
  const y1 = twoWords ? load<u64>(a1, 8) : 0;
  let bits0: u32 = 0, bits1: u32 = 0;
  let w = wPtr;
  for (let o = 0; o < outCPad; o += 4) {
    // each weight word is loaded once and used for both pixels
    let lo = load<u64>(w);
    let hi = twoWords ? load<u64>(w, 8) : 0;
    let v0 = i32x4.splat(narrowPop(x0, y0, lo, hi, twoWords));
    let v1 = i32x4.splat(narrowPop(x1, y1, lo, hi, twoWords));
    lo = load<u64>(w, 16);
    hi = twoWords ? load<u64>(w, 24) : 0;
    v0 = i32x4.replace_lane(v0, 1, narrowPop(x0, y0, lo, hi, twoWords));
    v1 = i32x4.replace_lane(v1, 1, narrowPop(x1, y1, lo, hi, twoWords));
    lo = load<u64>(w, 32);
    hi = twoWords ? load<u64>(w, 40) : 0;
    v0 = i32x4.replace_lane(v0, 2, narrowPop(x0, y0, lo, hi, twoWords));
    v1 = i32x4.replace_lane(v1, 2, narrowPop(x1, y1, lo, hi, twoWords));
    lo = load<u64>(w, 48);
    hi = twoWords ? load<u64>(w, 56) : 0;
    v0 = i32x4.replace_lane(v0, 3, narrowPop(x0, y0, lo, hi, twoWords));
    v1 = i32x4.replace_lane(v1, 3, narrowPop(x1, y1, lo, hi, twoWords));
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

@inline function narrowPop(xLo: u64, xHi: u64, wLo: u64, wHi: u64, twoWords: bool): i32 {
  let p = <i32>popcnt<u64>(xLo ^ wLo);
  if (twoWords) p += <i32>popcnt<u64>(xHi ^ wHi);
  return p;
}

// Two columns (pixels) against all output channels with scalar 64-bit popcounts, 2 pixels x 4
// channels blocked: each weight word is loaded once for both pixels (measured 3-8% faster than
// one pixel at a time on 24 and 32 channels, equal on 64). Weights interleaved for it:
// [outCPad/4][kWords][4] u64 (src/wasm-conv.ts).
export function pairAllChannelsScalar(
  a0: usize, a1: usize, wPtr: usize, kWords: i32, outCPad: i32, mPtr: usize,
  c0Base: usize, c1Base: usize, q0: usize, q1: usize,
): void {
  let bits0: u32 = 0, bits1: u32 = 0;
  let pw = wPtr;
  const kBytes = <usize>kWords << 3;
  for (let o = 0; o < outCPad; o += 4) {
    let s0: u64 = 0, s1: u64 = 0, s2: u64 = 0, s3: u64 = 0;
    let t0: u64 = 0, t1: u64 = 0, t2: u64 = 0, t3: u64 = 0;
    for (let k: usize = 0; k < kBytes; k += 8) {
      const x = load<u64>(a0 + k);
      const z = load<u64>(a1 + k);
      const w0 = load<u64>(pw);
      s0 += popcnt<u64>(w0 ^ x);
      t0 += popcnt<u64>(w0 ^ z);
      const w1 = load<u64>(pw, 8);
      s1 += popcnt<u64>(w1 ^ x);
      t1 += popcnt<u64>(w1 ^ z);
      const w2 = load<u64>(pw, 16);
      s2 += popcnt<u64>(w2 ^ x);
      t2 += popcnt<u64>(w2 ^ z);
      const w3 = load<u64>(pw, 24);
      s3 += popcnt<u64>(w3 ^ x);
      t3 += popcnt<u64>(w3 ^ z);
      pw += 32;
    }
    const at = <usize>o << 2;
    const m = v128.load(mPtr + at);
    let v = i32x4.splat(<i32>s0);
    v = i32x4.replace_lane(v, 1, <i32>s1);
    v = i32x4.replace_lane(v, 2, <i32>s2);
    v = i32x4.replace_lane(v, 3, <i32>s3);
    bits0 |= <u32>thresholdBits(v, m, v128.load(c0Base + at)) << (<u32>o & 31);
    let u = i32x4.splat(<i32>t0);
    u = i32x4.replace_lane(u, 1, <i32>t1);
    u = i32x4.replace_lane(u, 2, <i32>t2);
    u = i32x4.replace_lane(u, 3, <i32>t3);
    bits1 |= <u32>thresholdBits(u, m, v128.load(c1Base + at)) << (<u32>o & 31);
    if ((o & 31) == 28 || o + 4 >= outCPad) {
      const wq = <usize>(o >>> 5) << 2;
      store<u32>(q0 + wq, load<u32>(q0 + wq) | bits0);
      store<u32>(q1 + wq, load<u32>(q1 + wq) | bits1);
      bits0 = 0;
      bits1 = 0;
    }
  }
}
