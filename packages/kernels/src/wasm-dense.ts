import { wordsForChannels } from '@cbnn/core';
import type { DenseLayer, DenseOutLayer } from './model-format';
import { interleave4, neverSet, thresholdConstants } from './threshold-constants';
import { fastestIm2colKernel, type Im2colKernel } from './wasm-conv';
import type { WasmKernelInstance } from './wasm-kernels';

/** Modes of assembly/dense-scalar.ts. */
const MODE_DOTS = 0;
const MODE_BITS = 1;
const MODE_SCORES = 2;

/**
 * A dense layer (or a GEMM's right-hand matrix) placed in a kernels instance: weights copied
 * in once, re-laid out for the scalar kernel when that is the faster one on this CPU (see
 * Im2colKernel), otherwise run by the SIMD kernel on core's layout. `run` allocates nothing.
 */
export interface WasmDenseBinding {
  /** `rows` rows of words(inBits) at `inPtr` -> packed bits / scores / dots at `outPtr`. */
  run(inPtr: number, rows: number, outPtr: number): void;
  /** The kernel variant that runs: op, tile (rows x channels) and popcount ISA. */
  readonly variant: string;
}

const SIMD_VARIANT = (op: string): string => `${op}-2x4-i8x16popcnt`;
const SCALAR_VARIANT = (op: string): string => `${op}-1x4-i64popcnt`;

function scalarChosen(kernel: Im2colKernel): boolean {
  return (kernel === 'auto' ? fastestIm2colKernel() : kernel) === 'scalar';
}

function putInterleaved(wasm: WasmKernelInstance, weights: Uint32Array, rows: number, kBits: number): { ptr: number; rowsPad: number } {
  const words = wordsForChannels(kBits);
  const { data, rowsPad } = interleave4(rows, kBits, (r, w) => weights[r * words + w]);
  return { ptr: wasm.put(data), rowsPad };
}

export function bindDense(wasm: WasmKernelInstance, layer: DenseLayer, kernel: Im2colKernel = 'auto'): WasmDenseBinding {
  const k = wasm.exports;
  if (!scalarChosen(kernel)) {
    const wt = wasm.put(layer.weights);
    const thr = wasm.put(layer.thresholds);
    const flip = wasm.put(layer.flip);
    return { run: (inp, rows, out) => k.denseBinary(inp, rows, layer.inBits, wt, layer.outC, thr, flip, out), variant: SIMD_VARIANT('b-dense') };
  }
  const { ptr, rowsPad } = putInterleaved(wasm, layer.weights, layer.outC, layer.inBits);
  const m = new Int32Array(rowsPad);
  const c = new Int32Array(rowsPad);
  for (let o = 0; o < rowsPad; o++) {
    const t = o < layer.outC ? thresholdConstants(layer.inBits, 0, layer.thresholds[o], layer.flip[o], layer.inBits) : neverSet(layer.inBits);
    m[o] = t.m;
    c[o] = t.c;
  }
  const mp = wasm.put(m);
  const cp = wasm.put(c);
  const rowWords = wordsForChannels(layer.inBits);
  return {
    run: (inp, rows, out) => k.denseScalar(inp, rows, rowWords, layer.inBits, ptr, layer.outC, rowsPad, MODE_BITS, mp, cp, out),
    variant: SCALAR_VARIANT('b-dense'),
  };
}

export function bindDenseOut(wasm: WasmKernelInstance, layer: DenseOutLayer, kernel: Im2colKernel = 'auto'): WasmDenseBinding {
  const k = wasm.exports;
  const scale = wasm.put(layer.scale);
  const bias = wasm.put(layer.bias);
  if (!scalarChosen(kernel)) {
    const wt = wasm.put(layer.weights);
    return { run: (inp, rows, out) => k.denseOut(inp, rows, layer.inBits, wt, layer.outC, scale, bias, out), variant: SIMD_VARIANT('b-dense-out') };
  }
  const { ptr, rowsPad } = putInterleaved(wasm, layer.weights, layer.outC, layer.inBits);
  const rowWords = wordsForChannels(layer.inBits);
  return {
    run: (inp, rows, out) => k.denseScalar(inp, rows, rowWords, layer.inBits, ptr, layer.outC, rowsPad, MODE_SCORES, scale, bias, out),
    variant: SCALAR_VARIANT('b-dense-out'),
  };
}

/** GEMM dots of rows of A against the n rows of `b` (fixed, like weights): i32 [rows][n]. */
export function bindGemm(wasm: WasmKernelInstance, b: Uint32Array, n: number, kBits: number, kernel: Im2colKernel = 'auto'): WasmDenseBinding {
  const k = wasm.exports;
  if (!scalarChosen(kernel)) {
    const bp = wasm.put(b.subarray(0, n * wordsForChannels(kBits)));
    return { run: (inp, rows, out) => k.gemmDots(inp, rows, kBits, bp, n, out), variant: SIMD_VARIANT('b-gemm') };
  }
  const { ptr, rowsPad } = putInterleaved(wasm, b, n, kBits);
  const rowWords = wordsForChannels(kBits);
  return { run: (inp, rows, out) => k.denseScalar(inp, rows, rowWords, kBits, ptr, n, rowsPad, MODE_DOTS, 0, 0, out), variant: SCALAR_VARIANT('b-gemm') };
}
