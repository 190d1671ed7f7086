import { wordsForChannels } from '@cbnn/core';
import type { ConvLayer } from './model-format';
import { BORDER_CLASSES, prepareIm2colConv, type WasmConvBinding } from './wasm-conv';
import type { WasmKernelInstance } from './wasm-kernels';

/** Variant name of the table-lookup conv (assembly/conv-lut9.ts): one lookup per output pixel. */
export const LUT9_CONV_VARIANT = 'b-conv3x3-lut9-1xall';

/** The table conv serves 1-channel inputs: a window is 9 bits, 512 entries per border class. */
export function lut9Applies(layer: Pick<ConvLayer, 'inC'>): boolean {
  return layer.inC === 1;
}

const WINDOWS = 512;

function popcount9(v: number): number {
  let n = 0;
  for (let x = v; x; x &= x - 1) n++;
  return n;
}

/**
 * Output words of every (border class, 9-bit window): [16][512][words(outC)] u32, decided by
 * the im2col kernel's folded thresholds on the raw popcount of window ^ weights (taps outside
 * the image are 0 in the window, and the class constant corrects for them), so both kernels
 * agree bit for bit.
 */
export function lut9Table(layer: ConvLayer): Uint32Array {
  if (!lut9Applies(layer)) throw new Error(`lut9Table needs a 1-channel conv, got inC ${layer.inC}`);
  const prepared = prepareIm2colConv(layer);
  const rowWords = prepared.kChunks * 4;
  const outWords = wordsForChannels(layer.outC);
  const table = new Uint32Array(BORDER_CLASSES * WINDOWS * outWords);
  for (let o = 0; o < layer.outC; o++) {
    const w = prepared.weights[o * rowWords] & 0x1ff;
    const m = prepared.m[o];
    for (let cls = 0; cls < BORDER_CLASSES; cls++) {
      const c = prepared.c[cls * prepared.outCPad + o];
      for (let idx = 0; idx < WINDOWS; idx++) {
        if ((popcount9(idx ^ w) ^ m) + c >= 0) table[(cls * WINDOWS + idx) * outWords + (o >>> 5)] |= 1 << (o & 31);
      }
    }
  }
  return table;
}

export function bindLut9Conv(wasm: WasmKernelInstance, layer: ConvLayer, height: number, width: number, pool: boolean): WasmConvBinding {
  const lut = wasm.put(lut9Table(layer));
  const same = layer.padding === 'same' ? 1 : 0;
  const outWords = wordsForChannels(layer.outC);
  const k = wasm.exports;
  const run = (inPtr: number, batch: number, outPtr: number): void => k.convLut9(inPtr, batch, height, width, same, pool ? 1 : 0, lut, outWords, outPtr);
  return { run, variant: LUT9_CONV_VARIANT };
}
