import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { KERNELS_WASM_PATH, WasmKernelInstance } from '@cbnn/kernels';
import { heapKernelsActive } from './heap-kernels';

/**
 * The forward pass of a binary conv layer (±1 inputs, ±1 weights) as an XNOR-popcount GEMM on
 * @cbnn/kernels' WebAssembly SIMD `gemmDots`, for training on tfjs-wasm.
 *
 * A float conv of ±1 values is exact (integer sums far below 2^24), so this returns the same
 * numbers as tfjs's Conv2D, ~4x cheaper: the ±1 operands are bit-packed (bit 1 = +1, each tap
 * padded to whole 32-bit words), the input im2col'ed in the packed domain, and the dots
 * corrected for the padding bits (both 0: they count +1 each) and for the zero padding at the
 * image borders (an outside tap reads bits 0 = -1, so its -sum(w) is added back).
 * The backward pass is the float one (Conv2DBackpropInput/Filter): dy is real-valued.
 */
export const BINARY_CONV_KERNEL = 'CbnnBinaryConv2D';
const BACKEND = 'wasm';

type TensorInfo = tf.TensorInfo;
interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array;
}

let instance: WasmKernelInstance | null = null;
let registered = false;

function kernels(): WasmKernelInstance {
  instance ??= new WasmKernelInstance();
  return instance;
}

function binaryConv({ inputs, backend, attrs }: { inputs: Record<string, TensorInfo>; backend: WasmHeapBackend; attrs: Record<string, unknown> }): TensorInfo {
  const { x, filter } = inputs;
  const pad = attrs.pad as 'same' | 'valid';
  const [n, h, w, ci] = x.shape;
  const [kh, kw, fci, co] = filter.shape;
  if (fci !== ci) throw new Error(`${BINARY_CONV_KERNEL}: input has ${ci} channels, the filter ${fci}`);
  const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filter.shape as [number, number, number, number], 1, 1, pad);
  const { outHeight: ho, outWidth: wo } = info;
  const { top: pt, left: pl } = info.padInfo;
  const wordsC = (ci + 31) >>> 5;
  const taps = kh * kw;
  const rowWords = taps * wordsC;
  const pixelsIn = n * h * w;
  const rows = n * ho * wo;

  const k = kernels();
  const mark = k.mark();
  try {
    const packedPtr = k.alloc(pixelsIn * wordsC * 4);
    const colPtr = k.alloc(rows * rowWords * 4);
    const weightPtr = k.alloc(co * rowWords * 4);
    const dotsPtr = k.alloc(rows * co * 4);
    const out = backend.makeOutput([n, ho, wo, co], 'float32');
    // Views after every allocation (a growth detaches earlier ones).
    const xFloats = backend.typedArrayFromHeap(x);
    const xBits = new Int32Array(xFloats.buffer, xFloats.byteOffset, pixelsIn * ci);
    const fv = backend.typedArrayFromHeap(filter);
    const y = backend.typedArrayFromHeap(out);
    const packed = k.u32(packedPtr, pixelsIn * wordsC);
    const col = k.u32(colPtr, rows * rowWords);
    const weights = k.u32(weightPtr, co * rowWords);
    const dots = k.i32(dotsPtr, rows * co);

    // Pack the input: bit c of pixel p = 1 for +1 (sign bit of the float clear).
    for (let p = 0; p < pixelsIn; p++) {
      const base = p * ci;
      for (let q = 0; q < wordsC; q++) {
        const end = Math.min(ci, q * 32 + 32);
        let word = 0;
        for (let c = q * 32; c < end; c++) word |= (~xBits[base + c] >>> 31) << (c & 31);
        packed[p * wordsC + q] = word;
      }
    }
    // Pack the filter rows (one per output channel) and each tap's weight sum per output channel.
    weights.fill(0);
    const tapSum = new Int32Array(taps * co);
    for (let t = 0; t < taps; t++) {
      for (let c = 0; c < ci; c++) {
        for (let o = 0; o < co; o++) {
          const plus = fv[(t * ci + c) * co + o] >= 0;
          if (plus) weights[o * rowWords + t * wordsC + (c >>> 5)] |= 1 << (c & 31);
          tapSum[t * co + o] += plus ? 1 : -1;
        }
      }
    }
    // im2col on words; outside taps stay 0.
    col.fill(0);
    for (let b = 0, r = 0; b < n; b++) {
      for (let i = 0; i < ho; i++) {
        for (let j = 0; j < wo; j++, r++) {
          for (let di = 0; di < kh; di++) {
            const hi = i + di - pt;
            if (hi < 0 || hi >= h) continue;
            for (let dj = 0; dj < kw; dj++) {
              const wj = j + dj - pl;
              if (wj < 0 || wj >= w) continue;
              const src = ((b * h + hi) * w + wj) * wordsC;
              const dst = r * rowWords + (di * kw + dj) * wordsC;
              for (let q = 0; q < wordsC; q++) col[dst + q] = packed[src + q];
            }
          }
        }
      }
    }
    k.exports.gemmDots(colPtr, rows, rowWords * 32, weightPtr, co, dotsPtr);
    // Per output position: minus the padding bits, plus the weight sums of the outside taps.
    const padBits = taps * (wordsC * 32 - ci);
    const correction = new Int32Array(ho * wo * co);
    for (let i = 0; i < ho; i++) {
      for (let j = 0; j < wo; j++) {
        const base = (i * wo + j) * co;
        for (let o = 0; o < co; o++) correction[base + o] = -padBits;
        for (let di = 0; di < kh; di++) {
          for (let dj = 0; dj < kw; dj++) {
            const hi = i + di - pt;
            const wj = j + dj - pl;
            if (hi >= 0 && hi < h && wj >= 0 && wj < w) continue;
            const t = di * kw + dj;
            for (let o = 0; o < co; o++) correction[base + o] += tapSum[t * co + o];
          }
        }
      }
    }
    const perImage = ho * wo * co;
    for (let b = 0; b < n; b++) {
      const off = b * perImage;
      for (let e = 0; e < perImage; e++) y[off + e] = dots[off + e] + correction[e];
    }
    return out;
  } finally {
    k.release(mark);
  }
}

/** Register the kernel on the wasm backend if @cbnn/kernels' wasm is built (idempotent). */
export function registerBinaryConv(): boolean {
  if (registered) return true;
  if (!fs.existsSync(KERNELS_WASM_PATH)) return false;
  tf.registerKernel({ kernelName: BINARY_CONV_KERNEL, backendName: BACKEND, kernelFunc: binaryConv as unknown as tf.KernelFunc });
  registered = true;
  return true;
}

export function binaryConvActive(): boolean {
  return registered && heapKernelsActive();
}

type Conv = (x: tf.Tensor4D, filter: tf.Tensor4D) => tf.Tensor4D;
const convs = new Map<string, Conv>();

/**
 * conv2d (stride 1) of ±1 inputs with a ±1 filter: the popcount kernel forward, float gradients.
 * Callers guarantee the ±1 values (outputs of a sign quantizer).
 */
export function binaryConv2d(x: tf.Tensor4D, filter: tf.Tensor4D, pad: 'same' | 'valid'): tf.Tensor4D {
  let conv = convs.get(pad);
  if (!conv) {
    conv = tf.customGrad(((xi: tf.Tensor4D, fi: tf.Tensor4D, save: tf.GradSaveFunc) => {
      save([xi, fi]);
      return {
        value: tf.engine().runKernel(BINARY_CONV_KERNEL, { x: xi, filter: fi }, { pad }) as tf.Tensor4D,
        gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
          const [sx, sf] = saved as tf.Tensor4D[];
          const common = { strides: 1, pad, dataFormat: 'NHWC' };
          return [
            tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: sf }, { ...common, inputShape: sx.shape }) as tf.Tensor,
            tf.engine().runKernel('Conv2DBackpropFilter', { x: sx, dy }, { ...common, filterShape: sf.shape }) as tf.Tensor,
          ];
        },
      };
    }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as Conv;
    convs.set(pad, conv);
  }
  return conv(x, filter);
}
