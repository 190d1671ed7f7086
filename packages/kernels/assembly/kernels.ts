// XNOR-popcount kernels in AssemblyScript, compiled with --enable simd by tools/build-wasm.mjs.
//
// Memory is managed by the JavaScript side (src/wasm-kernels.ts): every argument is a byte
// offset into this module's memory, and every buffer has at least 16 bytes of slack after it,
// because a tail chunk loads a whole v128 and masks the words it does not own.
//
// Packed bits follow core's layout: bit 1 = +1, 32 channels per u32 word, padding bits 0.
// For two packed vectors a and w of n valid bits, the ±1 dot product is n - 2*popcount(a ^ w);
// padding bits are 0 in both, so they add nothing to the popcount.
//
// The core (`xnorRow`) computes, for a row of output items (pixels or batch rows) and all output
// channels, the popcount of a patch of R segments of S words each, blocked 2 items x 4 output
// channels: per 128-bit chunk, 2 + 4 loads feed 8 xor/popcnt/add, accumulated per byte lane in
// i8x16 registers (at most 8 per chunk, so 31 chunks fit in a byte) and reduced to scalars.
// It serves the dense layers and the GEMM; the binary conv is in conv-im2col.ts.

const MODE_DOTS: i32 = 0; // store the i32 dot product
const MODE_BITS: i32 = 1; // threshold into packed bits: flip ? x <= t : x >= t
const MODE_SCORES: i32 = 2; // store f32 scale*x + bias

export { convIm2col } from './conv-im2col';
export { convLut9 } from './conv-lut9';
export { convTapLut } from './conv-tap-lut';
export { denseScalar } from './dense-scalar';

export function heapBase(): usize {
  return __heap_base;
}

@inline function hsum(v: v128): i32 {
  const t = i32x4.extadd_pairwise_i16x8_u(i16x8.extadd_pairwise_i8x16_u(v));
  return i32x4.extract_lane(t, 0) + i32x4.extract_lane(t, 1) + i32x4.extract_lane(t, 2) + i32x4.extract_lane(t, 3);
}

// Epilogue of one (item, output channel) popcount.
@inline function emit(
  mode: i32, pop: i32, item: i32, o: i32,
  nBits: i32, outPtr: usize, outItemStride: usize,
  p0: usize, p1: usize,
): void {
  const x = nBits - 2 * pop;
  const at = outPtr + <usize>item * outItemStride;
  if (mode == MODE_BITS) {
    const t = load<i32>(p0 + (<usize>o << 2));
    const bit = load<u8>(p1 + <usize>o) ? x <= t : x >= t;
    if (bit) {
      const w = at + (<usize>(o >>> 5) << 2);
      store<u32>(w, load<u32>(w) | (<u32>1 << (<u32>o & 31)));
    }
  } else if (mode == MODE_DOTS) {
    store<i32>(at + (<usize>o << 2), x);
  } else {
    const s = load<f32>(p0 + (<usize>o << 2)) * <f32>x + load<f32>(p1 + (<usize>o << 2));
    store<f32>(at + (<usize>o << 2), s);
  }
}

// One row of output items against all n output channels.
//   items at aBase + i*itemStride; item patch = r in [0, R): S words at + r*aRowStride
//   weights of channel o at wPtr + o*R*S*4, row r at + r*S*4
function xnorRow(
  aBase: usize, items: i32, itemStride: usize, R: i32, aRowStride: usize, S: i32,
  wPtr: usize, n: i32,
  mode: i32, nBits: i32, outPtr: usize, outItemStride: usize, p0: usize, p1: usize,
): void {
  const full = S >> 2;
  const tail = S & 3;
  const mask = i32x4(-1, tail > 1 ? -1 : 0, tail > 2 ? -1 : 0, 0);
  const wRowStride = <usize>S << 2;
  const wItemStride = <usize>(R * S) << 2;
  const zero = i32x4.splat(0);
  for (let i = 0; i < items; i += 2) {
    const i1 = min<i32>(i + 1, items - 1);
    const a0 = aBase + <usize>i * itemStride;
    const a1 = aBase + <usize>i1 * itemStride;
    for (let o = 0; o < n; o += 4) {
      const o1 = min<i32>(o + 1, n - 1);
      const o2 = min<i32>(o + 2, n - 1);
      const o3 = min<i32>(o + 3, n - 1);
      const w0 = wPtr + <usize>o * wItemStride;
      const w1 = wPtr + <usize>o1 * wItemStride;
      const w2 = wPtr + <usize>o2 * wItemStride;
      const w3 = wPtr + <usize>o3 * wItemStride;
      let c00 = zero, c01 = zero, c02 = zero, c03 = zero;
      let c10 = zero, c11 = zero, c12 = zero, c13 = zero;
      let s00: i32 = 0, s01: i32 = 0, s02: i32 = 0, s03: i32 = 0;
      let s10: i32 = 0, s11: i32 = 0, s12: i32 = 0, s13: i32 = 0;
      let pending: i32 = 0;
      for (let r = 0; r < R; r++) {
        const ra = <usize>r * aRowStride;
        const rw = <usize>r * wRowStride;
        let pa0 = a0 + ra, pa1 = a1 + ra;
        let pw0 = w0 + rw, pw1 = w1 + rw, pw2 = w2 + rw, pw3 = w3 + rw;
        let k = 0;
        while (k < full) {
          const steps = min<i32>(full - k, 31 - pending);
          pending += steps;
          k += steps;
          for (let j = 0; j < steps; j++) {
            const x0 = v128.load(pa0);
            const x1 = v128.load(pa1);
            const y0 = v128.load(pw0);
            const y1 = v128.load(pw1);
            const y2 = v128.load(pw2);
            const y3 = v128.load(pw3);
            c00 = i8x16.add(c00, i8x16.popcnt(v128.xor(x0, y0)));
            c01 = i8x16.add(c01, i8x16.popcnt(v128.xor(x0, y1)));
            c02 = i8x16.add(c02, i8x16.popcnt(v128.xor(x0, y2)));
            c03 = i8x16.add(c03, i8x16.popcnt(v128.xor(x0, y3)));
            c10 = i8x16.add(c10, i8x16.popcnt(v128.xor(x1, y0)));
            c11 = i8x16.add(c11, i8x16.popcnt(v128.xor(x1, y1)));
            c12 = i8x16.add(c12, i8x16.popcnt(v128.xor(x1, y2)));
            c13 = i8x16.add(c13, i8x16.popcnt(v128.xor(x1, y3)));
            pa0 += 16; pa1 += 16; pw0 += 16; pw1 += 16; pw2 += 16; pw3 += 16;
          }
          if (pending == 31) {
            s00 += hsum(c00); s01 += hsum(c01); s02 += hsum(c02); s03 += hsum(c03);
            s10 += hsum(c10); s11 += hsum(c11); s12 += hsum(c12); s13 += hsum(c13);
            c00 = zero; c01 = zero; c02 = zero; c03 = zero; c10 = zero; c11 = zero; c12 = zero; c13 = zero;
            pending = 0;
          }
        }
        if (tail) {
          const x0 = v128.load(pa0);
          const x1 = v128.load(pa1);
          const y0 = v128.load(pw0);
          const y1 = v128.load(pw1);
          const y2 = v128.load(pw2);
          const y3 = v128.load(pw3);
          c00 = i8x16.add(c00, i8x16.popcnt(v128.and(v128.xor(x0, y0), mask)));
          c01 = i8x16.add(c01, i8x16.popcnt(v128.and(v128.xor(x0, y1), mask)));
          c02 = i8x16.add(c02, i8x16.popcnt(v128.and(v128.xor(x0, y2), mask)));
          c03 = i8x16.add(c03, i8x16.popcnt(v128.and(v128.xor(x0, y3), mask)));
          c10 = i8x16.add(c10, i8x16.popcnt(v128.and(v128.xor(x1, y0), mask)));
          c11 = i8x16.add(c11, i8x16.popcnt(v128.and(v128.xor(x1, y1), mask)));
          c12 = i8x16.add(c12, i8x16.popcnt(v128.and(v128.xor(x1, y2), mask)));
          c13 = i8x16.add(c13, i8x16.popcnt(v128.and(v128.xor(x1, y3), mask)));
          pending++;
          if (pending == 31) {
            s00 += hsum(c00); s01 += hsum(c01); s02 += hsum(c02); s03 += hsum(c03);
            s10 += hsum(c10); s11 += hsum(c11); s12 += hsum(c12); s13 += hsum(c13);
            c00 = zero; c01 = zero; c02 = zero; c03 = zero; c10 = zero; c11 = zero; c12 = zero; c13 = zero;
            pending = 0;
          }
        }
      }
      s00 += hsum(c00); s01 += hsum(c01); s02 += hsum(c02); s03 += hsum(c03);
      s10 += hsum(c10); s11 += hsum(c11); s12 += hsum(c12); s13 += hsum(c13);
      // Clamped duplicates (odd item count, n not a multiple of 4) are computed but not emitted.
      emit(mode, s00, i, o, nBits, outPtr, outItemStride, p0, p1);
      if (o1 != o) emit(mode, s01, i, o1, nBits, outPtr, outItemStride, p0, p1);
      if (o2 != o1) emit(mode, s02, i, o2, nBits, outPtr, outItemStride, p0, p1);
      if (o3 != o2) emit(mode, s03, i, o3, nBits, outPtr, outItemStride, p0, p1);
      if (i1 != i) {
        emit(mode, s10, i1, o, nBits, outPtr, outItemStride, p0, p1);
        if (o1 != o) emit(mode, s11, i1, o1, nBits, outPtr, outItemStride, p0, p1);
        if (o2 != o1) emit(mode, s12, i1, o2, nBits, outPtr, outItemStride, p0, p1);
        if (o3 != o2) emit(mode, s13, i1, o3, nBits, outPtr, outItemStride, p0, p1);
      }
    }
  }
}

@inline function words(bits: i32): i32 {
  return (bits + 31) >>> 5;
}

// Binary dense with folded thresholds: batch rows of words(inBits) -> batch rows of words(outC).
export function denseBinary(inPtr: usize, batch: i32, inBits: i32, wPtr: usize, outC: i32, thrPtr: usize, flipPtr: usize, outPtr: usize): void {
  const kw = words(inBits);
  const outItem = <usize>words(outC) << 2;
  memory.fill(outPtr, 0, <usize>batch * outItem);
  xnorRow(inPtr, batch, <usize>kw << 2, 1, 0, kw, wPtr, outC, MODE_BITS, inBits, outPtr, outItem, thrPtr, flipPtr);
}

// Last layer: f32 scores [batch][outC] = scale*x + bias.
export function denseOut(inPtr: usize, batch: i32, inBits: i32, wPtr: usize, outC: i32, scalePtr: usize, biasPtr: usize, outPtr: usize): void {
  const kw = words(inBits);
  xnorRow(inPtr, batch, <usize>kw << 2, 1, 0, kw, wPtr, outC, MODE_SCORES, inBits, outPtr, <usize>outC << 2, scalePtr, biasPtr);
}

// Binary GEMM: i32 dots [m][n] of a [m][words(kBits)] and b [n][words(kBits)].
export function gemmDots(aPtr: usize, m: i32, kBits: i32, bPtr: usize, n: i32, outPtr: usize): void {
  const kw = words(kBits);
  xnorRow(aPtr, m, <usize>kw << 2, 1, 0, kw, bPtr, n, MODE_DOTS, kBits, outPtr, <usize>n << 2, 0, 0);
}

// 2x2 stride 2 max-pool (floor) on packed bits: OR of the four words.
export function maxPool2(inPtr: usize, batch: i32, h: i32, w: i32, wordsC: i32, outPtr: usize): void {
  const ho = h >> 1;
  const wo = w >> 1;
  const px = <usize>wordsC << 2;
  const row = <usize>w * px;
  for (let b = 0; b < batch; b++) {
    const img = inPtr + <usize>(b * h) * row;
    const out = outPtr + <usize>(b * ho * wo) * px;
    for (let y = 0; y < ho; y++) {
      for (let x = 0; x < wo; x++) {
        const p = img + <usize>(2 * y) * row + <usize>(2 * x) * px;
        const q = out + <usize>(y * wo + x) * px;
        for (let k: usize = 0; k < px; k += 4) {
          store<u32>(q + k, load<u32>(p + k) | load<u32>(p + px + k) | load<u32>(p + row + k) | load<u32>(p + row + px + k));
        }
      }
    }
  }
}

// Per-pixel packed HWC (words(C) per pixel) -> one contiguous bit vector per image, bit
// (p*C + c): the flatten order of TensorFlow.js on NHWC. Needed only when C % 32 != 0.
export function flattenPacked(inPtr: usize, batch: i32, pixels: i32, c: i32, outPtr: usize): void {
  const wordsC = words(c);
  const outWords = words(pixels * c);
  memory.fill(outPtr, 0, <usize>(batch * outWords) << 2);
  if (c < 32) {
    // one word per pixel: stream the pixels' c bits through a 64-bit accumulator
    const mask: u64 = (<u64>1 << <u64>c) - 1;
    const cc = <u64>c;
    for (let b = 0; b < batch; b++) {
      let src = inPtr + (<usize>(b * pixels) << 2);
      let d = outPtr + (<usize>(b * outWords) << 2);
      const end = d + (<usize>outWords << 2);
      let acc: u64 = 0;
      let n: u64 = 0;
      for (let p = 0; p < pixels; p++, src += 4) {
        const v = <u64>load<u32>(src) & mask;
        acc |= v << n;
        n += cc;
        if (n >= 32) {
          store<u32>(d, <u32>acc);
          d += 4;
          acc >>= 32;
          n -= 32;
        }
      }
      if (n > 0 && d < end) store<u32>(d, <u32>acc);
    }
    return;
  }
  for (let b = 0; b < batch; b++) {
    const src = inPtr + (<usize>(b * pixels * wordsC) << 2);
    const dst = outPtr + (<usize>(b * outWords) << 2);
    let bit = 0;
    for (let p = 0; p < pixels; p++) {
      for (let ch = 0; ch < c; ch++, bit++) {
        const v = (load<u32>(src + (<usize>(p * wordsC + (ch >>> 5)) << 2)) >>> (<u32>ch & 31)) & 1;
        if (v) {
          const at = dst + (<usize>(bit >>> 5) << 2);
          store<u32>(at, load<u32>(at) | (<u32>1 << (<u32>bit & 31)));
        }
      }
    }
  }
}

// Real-valued first layer on ±1 planes: f32 sum over valid taps (dy, dx, c in that order) of
// ±w, then bit = scale*x + bias >= 0. The order matches the TypeScript reference exactly.
export function convReal(
  inPtr: usize, batch: i32, h: i32, w: i32, inC: i32, same: bool,
  wPtr: usize, outC: i32, scalePtr: usize, biasPtr: usize, outPtr: usize,
): void {
  const wordsC = words(inC);
  const outWords = words(outC);
  const pad = same ? 1 : 0;
  const ho = same ? h : h - 2;
  const wo = same ? w : w - 2;
  memory.fill(outPtr, 0, <usize>(batch * ho * wo * outWords) << 2);
  for (let b = 0; b < batch; b++) {
    for (let y = 0; y < ho; y++) {
      for (let x = 0; x < wo; x++) {
        const q = outPtr + (<usize>(((b * ho + y) * wo + x) * outWords) << 2);
        for (let o = 0; o < outC; o++) {
          let acc: f32 = 0;
          for (let dy = 0; dy < 3; dy++) {
            const iy = y + dy - pad;
            if (iy < 0 || iy >= h) continue;
            for (let dx = 0; dx < 3; dx++) {
              const ix = x + dx - pad;
              if (ix < 0 || ix >= w) continue;
              const p = inPtr + (<usize>(((b * h + iy) * w + ix) * wordsC) << 2);
              const wb = wPtr + (<usize>(((o * 3 + dy) * 3 + dx) * inC) << 2);
              for (let c = 0; c < inC; c++) {
                const wv = load<f32>(wb + (<usize>c << 2));
                const on = (load<u32>(p + (<usize>(c >>> 5) << 2)) >>> (<u32>c & 31)) & 1;
                acc += on ? wv : -wv;
              }
            }
          }
          const s = load<f32>(scalePtr + (<usize>o << 2)) * acc + load<f32>(biasPtr + (<usize>o << 2));
          if (s >= 0) {
            const at = q + (<usize>(o >>> 5) << 2);
            store<u32>(at, load<u32>(at) | (<u32>1 << (<u32>o & 31)));
          }
        }
      }
    }
  }
}
