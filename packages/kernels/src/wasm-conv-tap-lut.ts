import { wordsForChannels } from '@cbnn/core';
import type { ConvLayer } from './model-format';
import { BORDER_CLASSES, prepareIm2colConv, type WasmConvBinding } from './wasm-conv';
import type { WasmKernelInstance } from './wasm-kernels';

/**
 * The tap-table conv (assembly/conv-tap-lut.ts) needs every window's popcount in a byte:
 * 9 * inC <= 252. One-channel inputs have their own table conv (lut9), so 2..28 channels.
 */
export function tapLutApplies(layer: Pick<ConvLayer, 'inC'>): boolean {
  return layer.inC >= 2 && layer.inC <= 28;
}

/** Bits per chunk of a tap: a table has 64 entries per (chunk, tap), so offsets are constants in the kernel. */
export const TAP_LUT_CHUNK_BITS = 6;

/** Chunks per tap: ceil(inC / 6). */
export function tapLutChunks(inC: number): number {
  return Math.ceil(inC / TAP_LUT_CHUNK_BITS);
}

/** Variant name: tables of 6-bit chunks x <chunks> per tap, tile 2 pixels x 16|32 channels, i8x16 adds. */
export function tapLutVariant(inC: number, outC: number): string {
  return `b-conv3x3-taplut6x${tapLutChunks(inC)}-2x${outC > 16 ? 32 : 16}-i8x16add`;
}

export interface TapLutConv {
  chunks: number;
  /** 32 channels (two vectors) per pass, else one pass of 16. */
  pairs: boolean;
  /** [passes][chunks][9 taps][64][16 | 32] popcounts, u8. */
  tables: Uint8Array;
  /** [passes][16 classes][16 | 32] bytes: bit = (pop >= u) ^ f. */
  u: Uint8Array;
  /** [passes][16 | 32] bytes: 0xff where the test is `pop < u` (lanes of real channels with m = -1). */
  f: Uint8Array;
}

function popcount(v: number): number {
  let n = 0;
  for (let x = v; x; x &= x - 1) n++;
  return n;
}

/**
 * Tables and byte thresholds of a layer. The thresholds are the im2col kernel's per-class
 * constants on the same raw popcount (taps outside the image count popcount(weights) in both),
 * rewritten from ((pop ^ m) + c) >= 0: m = -1 gives pop < c = !(pop >= c), m = 0 gives pop >= -c.
 * Lanes past outC get u = 0, f = 0xff: !(pop >= 0), never set.
 */
export function prepareTapLutConv(layer: ConvLayer): TapLutConv {
  const { inC, outC } = layer;
  if (!tapLutApplies(layer)) throw new Error(`the tap-table conv needs 2..28 input channels, got ${inC}`);
  const chunks = tapLutChunks(inC);
  const chunkBits = TAP_LUT_CHUNK_BITS;
  const pairs = outC > 16;
  const lanes = pairs ? 32 : 16;
  const passes = pairs ? wordsForChannels(outC) : 1;
  const entries = 1 << chunkBits;
  const inMask = (1 << inC) - 1;
  const chunkMask = entries - 1;
  const tables = new Uint8Array(passes * 9 * chunks * entries * lanes);
  for (let o = 0; o < outC; o++) {
    const pass = pairs ? o >>> 5 : 0;
    const lane = o - pass * 32;
    for (let t = 0; t < 9; t++) {
      const w = layer.weights[o * 9 + t] & inMask;
      for (let j = 0; j < chunks; j++) {
        const wc = (w >>> (j * chunkBits)) & chunkMask;
        const base = ((pass * chunks + j) * 9 + t) * entries;
        for (let v = 0; v < entries; v++) tables[(base + v) * lanes + lane] = popcount(v ^ wc);
      }
    }
  }
  const prepared = prepareIm2colConv(layer);
  const u = new Uint8Array(passes * BORDER_CLASSES * lanes);
  const f = new Uint8Array(passes * lanes).fill(0xff);
  for (let o = 0; o < outC; o++) {
    const pass = pairs ? o >>> 5 : 0;
    const lane = o - pass * 32;
    const flipped = prepared.m[o] === 0;
    f[pass * lanes + lane] = flipped ? 0 : 0xff;
    for (let cls = 0; cls < BORDER_CLASSES; cls++) {
      const c = prepared.c[cls * prepared.outCPad + o];
      const bound = flipped ? -c : c;
      if (bound < 0 || bound > 255) throw new Error(`tap-table threshold ${bound} outside a byte (inC ${inC})`);
      u[(pass * BORDER_CLASSES + cls) * lanes + lane] = bound;
    }
  }
  return { chunks, pairs, tables, u, f };
}

export function bindTapLutConv(wasm: WasmKernelInstance, layer: ConvLayer, height: number, width: number, pool: boolean): WasmConvBinding {
  const p = prepareTapLutConv(layer);
  const tables = wasm.put(p.tables);
  const u = wasm.put(p.u);
  const f = wasm.put(p.f);
  const same = layer.padding === 'same' ? 1 : 0;
  const idx = wasm.alloc(p.chunks * (height + 2 * same) * (width + 2 * same) * 2);
  const k = wasm.exports;
  const call = (inPtr: number, batch: number, outPtr: number, indexOnly: number): void =>
    k.convTapLut(inPtr, batch, height, width, layer.inC, same, pool ? 1 : 0, tables, p.chunks, p.pairs ? 1 : 0, layer.outC, u, f, idx, outPtr, indexOnly);
  return {
    run: (inPtr, batch, outPtr) => call(inPtr, batch, outPtr, 0),
    runIm2col: (inPtr, batch, outPtr) => call(inPtr, batch, outPtr, 1),
    variant: tapLutVariant(layer.inC, layer.outC),
  };
}
