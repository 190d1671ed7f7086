import type { ConvLayer } from './model-format';
import { bindLut9Conv, lut9Applies } from './wasm-conv-lut';
import { bindIm2colConv, type WasmConvBinding } from './wasm-conv';
import type { WasmKernelInstance } from './wasm-kernels';

/**
 * The binary conv kernel the engine runs for a layer: the table lookup for a 1-channel input
 * (the first layer on one plane: 9-bit windows, where the im2col GEMM's per-pixel overhead is
 * most of the work), the im2col GEMM otherwise. Results are identical (tested).
 */
export function bindBinaryConv(wasm: WasmKernelInstance, layer: ConvLayer, height: number, width: number, pool: boolean): WasmConvBinding {
  return lut9Applies(layer) ? bindLut9Conv(wasm, layer, height, width, pool) : bindIm2colConv(wasm, layer, height, width, pool);
}
