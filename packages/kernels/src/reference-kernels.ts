import { wordsForChannels } from '@cbnn/core';
import type { KernelSet } from './kernel-set';
import { convOutputSize } from './kernel-set';
import type { ConvLayer, ConvRealLayer, DenseLayer, DenseOutLayer } from './model-format';

/**
 * The plain TypeScript reference: obvious and slow, one bit at a time, straight from the
 * definitions in docs/contracts.md. The WebAssembly kernels must equal it bit for bit.
 */

function bitAt(words: Uint32Array, wordBase: number, index: number): number {
  return (words[wordBase + (index >>> 5)] >>> (index & 31)) & 1;
}

function setBit(words: Uint32Array, wordBase: number, index: number): void {
  words[wordBase + (index >>> 5)] |= 1 << (index & 31);
}

/** Folded batch norm + sign. */
export function thresholdBit(x: number, threshold: number, flip: number): boolean {
  return flip ? x <= threshold : x >= threshold;
}

function convBinary(input: Uint32Array, batch: number, height: number, width: number, layer: ConvLayer, out: Uint32Array): void {
  const inWords = wordsForChannels(layer.inC);
  const outWords = wordsForChannels(layer.outC);
  const { height: ho, width: wo } = convOutputSize(height, width, layer.padding);
  const pad = layer.padding === 'same' ? 1 : 0;
  out.fill(0, 0, batch * ho * wo * outWords);
  for (let b = 0; b < batch; b++) {
    for (let y = 0; y < ho; y++) {
      for (let x = 0; x < wo; x++) {
        const outBase = ((b * ho + y) * wo + x) * outWords;
        for (let o = 0; o < layer.outC; o++) {
          let dot = 0;
          for (let dy = 0; dy < 3; dy++) {
            for (let dx = 0; dx < 3; dx++) {
              const iy = y + dy - pad;
              const ix = x + dx - pad;
              // Zero padding: a tap outside the image contributes nothing.
              if (iy < 0 || iy >= height || ix < 0 || ix >= width) continue;
              const inBase = ((b * height + iy) * width + ix) * inWords;
              const wBase = ((o * 3 + dy) * 3 + dx) * inWords;
              for (let c = 0; c < layer.inC; c++) dot += bitAt(input, inBase, c) === bitAt(layer.weights, wBase, c) ? 1 : -1;
            }
          }
          if (thresholdBit(dot, layer.thresholds[o], layer.flip[o])) setBit(out, outBase, o);
        }
      }
    }
  }
}

function convReal(input: Uint32Array, batch: number, height: number, width: number, layer: ConvRealLayer, out: Uint32Array): void {
  const f = Math.fround;
  const inWords = wordsForChannels(layer.inC);
  const outWords = wordsForChannels(layer.outC);
  const { height: ho, width: wo } = convOutputSize(height, width, layer.padding);
  const pad = layer.padding === 'same' ? 1 : 0;
  out.fill(0, 0, batch * ho * wo * outWords);
  for (let b = 0; b < batch; b++) {
    for (let y = 0; y < ho; y++) {
      for (let x = 0; x < wo; x++) {
        const outBase = ((b * ho + y) * wo + x) * outWords;
        for (let o = 0; o < layer.outC; o++) {
          // float32 arithmetic in a fixed order (taps dy, dx, then channels) so that the
          // WebAssembly kernel, which sums in the same order, gives the same bits.
          let acc = 0;
          for (let dy = 0; dy < 3; dy++) {
            for (let dx = 0; dx < 3; dx++) {
              const iy = y + dy - pad;
              const ix = x + dx - pad;
              if (iy < 0 || iy >= height || ix < 0 || ix >= width) continue;
              const inBase = ((b * height + iy) * width + ix) * inWords;
              const wBase = ((o * 3 + dy) * 3 + dx) * layer.inC;
              for (let c = 0; c < layer.inC; c++) {
                const wv = layer.weights[wBase + c];
                acc = f(acc + (bitAt(input, inBase, c) ? wv : -wv));
              }
            }
          }
          if (f(f(layer.scale[o] * acc) + layer.bias[o]) >= 0) setBit(out, outBase, o);
        }
      }
    }
  }
}

function maxPool2(input: Uint32Array, batch: number, height: number, width: number, channels: number, out: Uint32Array): void {
  const words = wordsForChannels(channels);
  const ho = Math.floor(height / 2);
  const wo = Math.floor(width / 2);
  for (let b = 0; b < batch; b++) {
    for (let y = 0; y < ho; y++) {
      for (let x = 0; x < wo; x++) {
        for (let k = 0; k < words; k++) {
          let v = 0;
          for (let dy = 0; dy < 2; dy++) {
            for (let dx = 0; dx < 2; dx++) v |= input[((b * height + 2 * y + dy) * width + 2 * x + dx) * words + k];
          }
          out[((b * ho + y) * wo + x) * words + k] = v >>> 0;
        }
      }
    }
  }
}

function flattenPacked(input: Uint32Array, batch: number, pixels: number, channels: number, out: Uint32Array): void {
  const inWords = wordsForChannels(channels);
  const outWords = wordsForChannels(pixels * channels);
  out.fill(0, 0, batch * outWords);
  for (let b = 0; b < batch; b++) {
    for (let p = 0; p < pixels; p++) {
      for (let c = 0; c < channels; c++) {
        if (bitAt(input, (b * pixels + p) * inWords, c)) setBit(out, b * outWords, p * channels + c);
      }
    }
  }
}

function dot(a: Uint32Array, aBase: number, w: Uint32Array, wBase: number, bits: number): number {
  let s = 0;
  for (let i = 0; i < bits; i++) s += bitAt(a, aBase, i) === bitAt(w, wBase, i) ? 1 : -1;
  return s;
}

function denseBinary(input: Uint32Array, batch: number, layer: DenseLayer, out: Uint32Array): void {
  const inWords = wordsForChannels(layer.inBits);
  const outWords = wordsForChannels(layer.outC);
  out.fill(0, 0, batch * outWords);
  for (let b = 0; b < batch; b++) {
    for (let o = 0; o < layer.outC; o++) {
      const x = dot(input, b * inWords, layer.weights, o * inWords, layer.inBits);
      if (thresholdBit(x, layer.thresholds[o], layer.flip[o])) setBit(out, b * outWords, o);
    }
  }
}

function denseOut(input: Uint32Array, batch: number, layer: DenseOutLayer, out: Float32Array): void {
  const inWords = wordsForChannels(layer.inBits);
  for (let b = 0; b < batch; b++) {
    for (let o = 0; o < layer.outC; o++) {
      const x = dot(input, b * inWords, layer.weights, o * inWords, layer.inBits);
      out[b * layer.outC + o] = Math.fround(Math.fround(layer.scale[o] * x) + layer.bias[o]);
    }
  }
}

function gemmDots(a: Uint32Array, m: number, kBits: number, b: Uint32Array, n: number, out: Int32Array): void {
  const words = wordsForChannels(kBits);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) out[i * n + j] = dot(a, i * words, b, j * words, kBits);
}

export const referenceKernels: KernelSet = {
  impl: 'reference',
  convBinary,
  convReal,
  maxPool2,
  flattenPacked,
  denseBinary,
  denseOut,
  gemmDots,
};
