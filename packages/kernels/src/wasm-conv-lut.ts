import { wordsForChannels } from '@cbnn/core';
import type { ConvLayer } from './model-format';
import { BORDER_CLASSES, prepareIm2colConv, type WasmConvBinding } from './wasm-conv';
import type { WasmKernelInstance } from './wasm-kernels';

/** Variant names of the table-lookup conv (assembly/conv-lut9.ts): one lookup per output pixel, or per two (one output word). */
export const LUT9_CONV_VARIANT = 'b-conv3x3-lut9-1xall';
export const LUT9_PAIR_CONV_VARIANT = 'b-conv3x3-lut9-2xall';

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

const PAIR_WINDOWS = 4096;

/**
 * Outputs of two neighbouring pixels (x, x + 1) per 3x4 window (row r, column c at bit 4r + c),
 * from the one-pixel table, for a layer with one output word: [16 pair classes][4096][2] u32,
 * pixel x's word first. Pair class = row class | 4 if x is the first column | 8 if x + 1 is the
 * last (x is never the last, x + 1 never the first).
 */
export function lut9PairTable(single: Uint32Array): Uint32Array {
  const table = new Uint32Array(BORDER_CLASSES * PAIR_WINDOWS * 2);
  for (let pc = 0; pc < BORDER_CLASSES; pc++) {
    const c0 = pc & 7;
    const c1 = (pc & 3) | (pc & 8);
    for (let win = 0; win < PAIR_WINDOWS; win++) {
      let w0 = 0;
      let w1 = 0;
      for (let r = 0; r < 3; r++) {
        w0 |= ((win >>> (4 * r)) & 7) << (3 * r);
        w1 |= ((win >>> (4 * r + 1)) & 7) << (3 * r);
      }
      table[(pc * PAIR_WINDOWS + win) * 2] = single[c0 * WINDOWS + w0];
      table[(pc * PAIR_WINDOWS + win) * 2 + 1] = single[c1 * WINDOWS + w1];
    }
  }
  return table;
}

export function bindLut9Conv(wasm: WasmKernelInstance, layer: ConvLayer, height: number, width: number, pool: boolean): WasmConvBinding {
  const single = lut9Table(layer);
  const lut = wasm.put(single);
  const same = layer.padding === 'same' ? 1 : 0;
  const outWords = wordsForChannels(layer.outC);
  // two pixels per lookup where the output is one word (outC <= 32: the first layer of a narrow model)
  const pairs = outWords === 1 ? wasm.put(lut9PairTable(single)) : 0;
  const k = wasm.exports;
  const run = (inPtr: number, batch: number, outPtr: number): void => k.convLut9(inPtr, batch, height, width, same, pool ? 1 : 0, lut, outWords, outPtr, pairs);
  return { run, variant: pairs ? LUT9_PAIR_CONV_VARIANT : LUT9_CONV_VARIANT };
}
