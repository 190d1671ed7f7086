import { createRng } from '@cbnn/core';
import type { ConvLayer } from './model-format';
import { randomPackedWeights } from './random-model';
import { bindLut9Conv, lut9Applies } from './wasm-conv-lut';
import { bindTapLutConv, tapLutApplies } from './wasm-conv-tap-lut';
import { bindIm2colConv, im2colOutputWords, type WasmConvBinding } from './wasm-conv';
import { WasmKernelInstance } from './wasm-kernels';

/**
 * The binary conv kernels, same results (tested against the reference): `lut9` (one lookup per
 * pixel, 1-channel inputs), `taplut` (per-tap byte tables, 2..28 channels), `im2col` (bit im2col
 * + popcount GEMM, any width).
 */
export const CONV_KERNELS = ['lut9', 'taplut', 'im2col'] as const;
export type ConvKernel = (typeof CONV_KERNELS)[number];

export function convKernelApplies(kernel: ConvKernel, layer: Pick<ConvLayer, 'inC'>): boolean {
  if (kernel === 'lut9') return lut9Applies(layer);
  if (kernel === 'taplut') return tapLutApplies(layer);
  return true;
}

function bindKernel(kernel: ConvKernel, wasm: WasmKernelInstance, layer: ConvLayer, height: number, width: number, pool: boolean): WasmConvBinding {
  if (kernel === 'lut9') return bindLut9Conv(wasm, layer, height, width, pool);
  if (kernel === 'taplut') return bindTapLutConv(wasm, layer, height, width, pool);
  return bindIm2colConv(wasm, layer, height, width, pool);
}

const chosen = new Map<string, ConvKernel>();
let scratch: WasmKernelInstance | undefined;

/**
 * The kernel the engine runs for a conv of this shape: lut9 for a 1-channel input (a single
 * lookup per pixel); where the tap-table conv applies, whichever of it and the im2col GEMM is
 * faster on this shape, timed once per process and shape (both on the same random images,
 * interleaved, best of 7; 2-17 ms per shape measured); the im2col GEMM otherwise.
 */
export function chooseConvKernel(layer: ConvLayer, height: number, width: number, pool: boolean): ConvKernel {
  if (lut9Applies(layer)) return 'lut9';
  if (!tapLutApplies(layer)) return 'im2col';
  const key = `${layer.inC},${layer.outC},${height},${width},${layer.padding},${pool}`;
  const known = chosen.get(key);
  if (known) return known;
  scratch ??= new WasmKernelInstance();
  const wasm = scratch;
  const mark = wasm.mark();
  try {
    const rng = createRng(1);
    const batch = 2;
    const input = wasm.put(randomPackedWeights(rng, batch * height * width, layer.inC));
    const out = wasm.alloc(batch * im2colOutputWords(height, width, layer, pool) * 4);
    const candidates = (['taplut', 'im2col'] as const).map((kernel) => ({
      kernel,
      binding: bindKernel(kernel, wasm, layer, height, width, pool),
      best: Infinity,
    }));
    // warm-up: let both functions reach V8's optimising tier before they are timed
    for (let i = 0; i < 4; i++) for (const c of candidates) c.binding.run(input, batch, out);
    for (let round = 0; round < 7; round++) {
      for (const c of candidates) {
        const t0 = process.hrtime.bigint();
        for (let r = 0; r < 3; r++) c.binding.run(input, batch, out);
        c.best = Math.min(c.best, Number(process.hrtime.bigint() - t0));
      }
    }
    const best = candidates[0].best <= candidates[1].best ? candidates[0].kernel : candidates[1].kernel;
    chosen.set(key, best);
    return best;
  } finally {
    wasm.release(mark);
  }
}

/**
 * The binary conv kernel for a layer: `kernel` when given (it must apply to the layer), else
 * chooseConvKernel's. Results are identical whichever runs; `variant` names it.
 */
export function bindBinaryConv(wasm: WasmKernelInstance, layer: ConvLayer, height: number, width: number, pool: boolean, kernel?: ConvKernel): WasmConvBinding {
  if (kernel && !convKernelApplies(kernel, layer)) {
    throw new Error(`conv kernel '${kernel}' does not run a layer of ${layer.inC} input channels`);
  }
  return bindKernel(kernel ?? chooseConvKernel(layer, height, width, pool), wasm, layer, height, width, pool);
}
