// Fast binary conv 3x3 (stride 1): an im2col in bits, then a register-blocked XNOR-popcount
// GEMM whose epilogue thresholds four output channels at once and writes packed bits.
//
// Three GEMM kernels, same results: `pairAllChannelsNarrow` for windows of at most 128 bits
// (first layer on planes), and for wider windows `pairAllChannelsScalar` (native 64-bit
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

import { im2colRow } from './im2col';
import { pairAllChannelsNarrow, pairAllChannelsScalar } from './popcount-scalar';
import { pairAllChannels } from './popcount-simd';

// Binary conv 3x3 stride 1 ('same' when same != 0, else 'valid'), optionally fused with a 2x2
// max-pool. Weights: outCPad rows of kChunks*16 bytes (src/wasm-conv.ts packs them); m: outCPad
// i32; c: 16 classes x outCPad i32; col: scratch of (output width) x kChunks*16 bytes;
// kWords > 0 selects the scalar kernel with its weights at wScalarPtr, 0 the SIMD one;
// im2colOnly != 0 runs the im2col alone (the per-phase profile subtracts it from the whole).
// Output: packed bits, words(outC) per (pooled) output pixel.
export function convIm2col(
  inPtr: usize, batch: i32, h: i32, w: i32, inC: i32, same: i32, pool: i32,
  wPtr: usize, kChunks: i32, outC: i32, outCPad: i32, mPtr: usize, cPtr: usize,
  colPtr: usize, outPtr: usize, wScalarPtr: usize, kWords: i32, im2colOnly: i32,
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
      if (im2colOnly) continue; // the profile's im2col phase
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
        else if (kWords > 0) pairAllChannelsScalar(a0, a1, wScalarPtr, kWords, outCPad, mPtr, c0Base, c1Base, q0, q1);
        else pairAllChannels(a0, a1, wPtr, kChunks, outCPad, mPtr, c0Base, c1Base, q0, q1);
      }
    }
  }
}
