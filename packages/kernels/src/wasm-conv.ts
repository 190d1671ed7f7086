import { createRng, wordsForChannels } from '@cbnn/core';
import type { ConvLayer } from './model-format';
import { randomPackedWeights } from './random-model';
import { interleave4, neverSet, thresholdConstants } from './threshold-constants';
import { WasmKernelInstance } from './wasm-kernels';

/**
 * A binary conv layer re-laid out for the im2col kernel (assembly/conv-im2col.ts): weights of
 * each output channel as one dense bit vector (tap t = dy*3 + dx at bits [t*inC, (t+1)*inC)),
 * zero-padded to whole 128-bit chunks and to a multiple of 4 output channels; and the folded
 * thresholds as per-border-class constants, so that the kernel decides a bit with
 * `((pop ^ m[o]) + c[class][o]) >= 0` where pop is the raw popcount of column ^ weights.
 */
export interface Im2colConv {
  inC: number;
  outC: number;
  outCPad: number;
  /** 128-bit chunks per column (and per weight row). */
  kChunks: number;
  /** SIMD kernel layout: outCPad rows of kChunks*4 words. */
  weights: Uint32Array;
  /** outCPad values: -1 for `x >= t`, 0 for the flipped `x <= t`. */
  m: Int32Array;
  /** 64-bit words per window (scalar kernel). */
  kWords: number;
  /** Scalar kernel layout: [outCPad/4][kWords][4 channels] 64-bit words (as u32 pairs). */
  scalarWeights: Uint32Array;
  /** 16 border classes x outCPad: class bits 1 top row, 2 bottom row, 4 left column, 8 right column. */
  c: Int32Array;
}

export const BORDER_CLASSES = 16;

export function prepareIm2colConv(layer: ConvLayer): Im2colConv {
  const { inC, outC } = layer;
  const wordsC = wordsForChannels(inC);
  const kBits = 9 * inC;
  const kChunks = Math.ceil(kBits / 128);
  const rowWords = kChunks * 4;
  const outCPad = Math.ceil(outC / 4) * 4;
  const weights = new Uint32Array(outCPad * rowWords);
  const tapPop = new Int32Array(outC * 9);
  for (let o = 0; o < outC; o++) {
    for (let t = 0; t < 9; t++) {
      const src = (o * 9 + t) * wordsC;
      for (let c = 0; c < inC; c++) {
        if ((layer.weights[src + (c >>> 5)] >>> (c & 31)) & 1) {
          const bit = t * inC + c;
          weights[o * rowWords + (bit >>> 5)] |= 1 << (bit & 31);
          tapPop[o * 9 + t]++;
        }
      }
    }
  }
  const m = new Int32Array(outCPad);
  const c = new Int32Array(BORDER_CLASSES * outCPad);
  for (let cls = 0; cls < BORDER_CLASSES; cls++) {
    const rowOut = (r: number): boolean => (r === 0 && (cls & 1) !== 0) || (r === 2 && (cls & 2) !== 0);
    const colOut = (q: number): boolean => (q === 0 && (cls & 4) !== 0) || (q === 2 && (cls & 8) !== 0);
    for (let o = 0; o < outCPad; o++) {
      if (o >= outC) {
        c[cls * outCPad + o] = neverSet(kBits).c; // m stays 0
        continue;
      }
      let valid = 0;
      let correction = 0;
      for (let t = 0; t < 9; t++) {
        if (rowOut(Math.floor(t / 3)) || colOut(t % 3)) correction += tapPop[o * 9 + t];
        else valid++;
      }
      const k = thresholdConstants(valid * inC, correction, layer.thresholds[o], layer.flip[o], kBits);
      m[o] = k.m;
      c[cls * outCPad + o] = k.c;
    }
  }
  const scalar = interleave4(outC, kBits, (o, w) => weights[o * rowWords + w]);
  return { inC, outC, outCPad, kChunks, weights, m, c, kWords: scalar.kWords, scalarWeights: scalar.data };
}

/** Output words per image of a conv (optionally followed by a fused 2x2 max-pool). */
export function im2colOutputWords(height: number, width: number, layer: { outC: number; padding: 'same' | 'valid' }, pool: boolean): number {
  let ho = layer.padding === 'same' ? height : height - 2;
  let wo = layer.padding === 'same' ? width : width - 2;
  if (pool) {
    ho >>= 1;
    wo >>= 1;
  }
  return Math.max(0, ho) * Math.max(0, wo) * wordsForChannels(layer.outC);
}

/**
 * Which popcount the im2col GEMM uses for windows wider than 128 bits. Results are identical;
 * speed depends on the CPU: V8 lowers i8x16.popcnt to a nibble-table sequence (about 10
 * instructions per 128 bits) on x64 CPUs, where native scalar 64-bit popcounts win; on CPUs with
 * a vector popcount instruction (arm64) SIMD wins. 'auto' times both once per process.
 * Windows of at most 128 bits (first layer on planes) always use the scalar narrow kernel.
 */
export type Im2colKernel = 'auto' | 'scalar' | 'simd';

let fastest: 'scalar' | 'simd' | undefined;

/** The faster kernel on this CPU, measured once per process on a 64 -> 64 channel conv (a few ms). */
export function fastestIm2colKernel(): 'scalar' | 'simd' {
  if (fastest) return fastest;
  const wasm = new WasmKernelInstance();
  const rng = createRng(1);
  const inC = 64;
  const outC = 64;
  const side = 10;
  const batch = 2;
  const layer: ConvLayer = {
    type: 'conv',
    inC,
    outC,
    padding: 'same',
    weights: randomPackedWeights(rng, outC * 9, inC),
    thresholds: new Int32Array(outC),
    flip: new Uint8Array(outC),
  };
  const input = wasm.put(randomPackedWeights(rng, batch * side * side, inC));
  const out = wasm.alloc(batch * im2colOutputWords(side, side, layer, false) * 4);
  const kernels = { scalar: bindIm2colConv(wasm, layer, side, side, false, 'scalar'), simd: bindIm2colConv(wasm, layer, side, side, false, 'simd') };
  const best = { scalar: Infinity, simd: Infinity };
  for (let round = 0; round < 7; round++) {
    for (const name of ['scalar', 'simd'] as const) {
      const t0 = process.hrtime.bigint();
      for (let r = 0; r < 4; r++) kernels[name].run(input, batch, out);
      best[name] = Math.min(best[name], Number(process.hrtime.bigint() - t0));
    }
  }
  fastest = best.scalar <= best.simd ? 'scalar' : 'simd';
  return fastest;
}

/**
 * A conv layer placed in a kernels instance for inputs of height x width: weights and
 * constants copied in once, column scratch allocated once. `run` allocates nothing.
 */
export interface WasmConvBinding {
  /**
   * Conv (then 2x2 max-pool when `pool`) of `batch` images at `inPtr` into `outPtr`. The input
   * buffer needs the 16 bytes of slack that WasmKernelInstance.alloc leaves after every buffer:
   * the im2col copies whole v128s.
   */
  run(inPtr: number, batch: number, outPtr: number): void;
  /** The im2col phase alone, where the kernel has one (for the per-phase profile). */
  runIm2col?(inPtr: number, batch: number, outPtr: number): void;
  /** The kernel variant that runs: op, tile (pixels x channels) and popcount ISA. */
  readonly variant: string;
}

/**
 * Variant names: `b-conv3x3-im2col[128]-<pixels>x<channels>-<popcount instruction>`; im2col128 is
 * the kernel for windows of at most 128 bits, held in two 64-bit registers per pixel.
 */
export function im2colConvVariant(kChunks: number, kernel: 'scalar' | 'simd'): string {
  if (kChunks === 1) return 'b-conv3x3-im2col128-2x4-i64popcnt';
  return kernel === 'scalar' ? 'b-conv3x3-im2col-2x4-i64popcnt' : 'b-conv3x3-im2col-2x4-i8x16popcnt';
}

export function bindIm2colConv(
  wasm: WasmKernelInstance,
  layer: ConvLayer,
  height: number,
  width: number,
  pool: boolean,
  kernel: Im2colKernel = 'auto',
): WasmConvBinding {
  const chosen = kernel === 'auto' ? fastestIm2colKernel() : kernel;
  const prepared = prepareIm2colConv(layer);
  const wt = wasm.put(prepared.weights);
  const m = wasm.put(prepared.m);
  const c = wasm.put(prepared.c);
  const wo = layer.padding === 'same' ? width : width - 2;
  const ws = wasm.put(prepared.scalarWeights);
  // kWords = 0 selects the SIMD kernel in convIm2col
  const kWords = chosen === 'scalar' ? prepared.kWords : 0;
  const col = wasm.alloc(Math.max(1, wo) * prepared.kChunks * 16);
  const same = layer.padding === 'same' ? 1 : 0;
  const k = wasm.exports;
  const call = (inPtr: number, batch: number, outPtr: number, im2colOnly: number): void =>
    k.convIm2col(
      inPtr,
      batch,
      height,
      width,
      layer.inC,
      same,
      pool ? 1 : 0,
      wt,
      prepared.kChunks,
      layer.outC,
      prepared.outCPad,
      m,
      c,
      col,
      outPtr,
      ws,
      kWords,
      im2colOnly,
    );
  return {
    run: (inPtr, batch, outPtr) => call(inPtr, batch, outPtr, 0),
    runIm2col: (inPtr, batch, outPtr) => call(inPtr, batch, outPtr, 1),
    variant: im2colConvVariant(prepared.kChunks, chosen),
  };
}
