import type { ConvLayer, ConvRealLayer, DenseLayer, DenseOutLayer } from './model-format';

/**
 * The kernels, on typed arrays, with one signature for both implementations (the TypeScript
 * reference and WebAssembly SIMD). Inputs are core's packed layout (channels last, 32 channels
 * per word, bit 1 = +1, padding bits 0); `batch` images/rows are read from the start of
 * `input` and written to the start of `out`.
 *
 * Output sizes per item: conv -> Ho*Wo*words(outC) (Ho = H for 'same', H-2 for 'valid');
 * maxPool2 -> floor(H/2)*floor(W/2)*words(C); flattenPacked -> words(pixels*C);
 * denseBinary -> words(outC); denseOut -> outC floats; gemmDots -> n ints per row of a.
 */
export interface KernelSet {
  readonly impl: KernelImpl;
  convBinary(input: Uint32Array, batch: number, height: number, width: number, layer: ConvLayer, out: Uint32Array): void;
  convReal(input: Uint32Array, batch: number, height: number, width: number, layer: ConvRealLayer, out: Uint32Array): void;
  maxPool2(input: Uint32Array, batch: number, height: number, width: number, channels: number, out: Uint32Array): void;
  /** Per-pixel packed HWC -> one bit vector per image in flatten order (h*W + w)*C + c. */
  flattenPacked(input: Uint32Array, batch: number, pixels: number, channels: number, out: Uint32Array): void;
  denseBinary(input: Uint32Array, batch: number, layer: DenseLayer, out: Uint32Array): void;
  denseOut(input: Uint32Array, batch: number, layer: DenseOutLayer, out: Float32Array): void;
  /** ±1 dot products of every row of a [m][words(kBits)] with every row of b [n][words(kBits)]. */
  gemmDots(a: Uint32Array, m: number, kBits: number, b: Uint32Array, n: number, out: Int32Array): void;
}

export type KernelImpl = 'reference' | 'wasm';

export function convOutputSize(height: number, width: number, padding: 'same' | 'valid'): { height: number; width: number } {
  return padding === 'same' ? { height, width } : { height: height - 2, width: width - 2 };
}
