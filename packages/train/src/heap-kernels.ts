import * as tf from '@tensorflow/tfjs';

/**
 * Single-pass training kernels for tfjs-backend-wasm, written as JavaScript loops over the wasm
 * heap.
 *
 * tfjs-wasm runs every elementwise op as its own pass over memory, and reduces over a non-last
 * axis by transposing first: in a VGG-small training step the sign, the straight-through mask,
 * the batch-norm statistics and their gradients took ~1 s of ~3 s as chains of Sum, Mean,
 * Multiply, Cast, GreaterEqual, LessEqual, Abs passes, and MaxPoolGrad alone ~0.25 s. Each
 * kernel here makes one or two passes with the per-channel factors in registers; V8 compiles
 * such typed-array loops to tight scalar code, which is bandwidth-bound like the wasm ops.
 *
 * Kernels (all channels-last, float32):
 *  - CbnnSign(x) -> x >= 0 ? +1 : -1 (cbnn's sign(0) = +1);
 *  - CbnnSteGrad(dy, x) -> dy where |x| <= 1, else 0;
 *  - CbnnMoments(x) -> [mean, variance] per channel (last axis; biased variance, float64 sums);
 *  - CbnnBatchNormGrad(dy, x, mean, variance, scale) {epsilon} -> [dx, dscale, doffset]: the
 *    closed-form gradient of batch norm in training, through the batch statistics;
 *  - MaxPoolGrad (override) for 2x2 windows with stride 2 and 'valid' padding: the gradient goes
 *    to the first maximum of each window in row-major order, as tfjs's CPU backend does (binary
 *    nets tie often: their conv outputs are integers). Other pool shapes use the original kernel.
 */
type TensorInfo = tf.TensorInfo;
interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array;
}
type Args = { inputs: Record<string, TensorInfo>; backend: WasmHeapBackend; attrs: Record<string, unknown> };

const BACKEND = 'wasm';
export const SIGN_KERNEL = 'CbnnSign';
export const STE_GRAD_KERNEL = 'CbnnSteGrad';
export const MOMENTS_KERNEL = 'CbnnMoments';
export const BATCH_NORM_GRAD_KERNEL = 'CbnnBatchNormGrad';

let registered = false;

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * Allocate the outputs first, then view the heap: an allocation may grow wasm memory, which
 * detaches every view taken before it.
 */
function outputs(backend: WasmHeapBackend, shapes: number[][], inputs: TensorInfo[]): { outs: TensorInfo[]; views: Float32Array[]; ins: Float32Array[] } {
  const outs = shapes.map((s) => backend.makeOutput(s, 'float32'));
  return { outs, views: outs.map((o) => backend.typedArrayFromHeap(o)), ins: inputs.map((i) => backend.typedArrayFromHeap(i)) };
}

function checkFloat(name: string, ...tensors: TensorInfo[]): void {
  for (const t of tensors) if (t.dtype !== 'float32') throw new Error(`${name}: float32 inputs only (got ${t.dtype})`);
}

function sign({ inputs, backend }: Args): TensorInfo {
  const { x } = inputs;
  checkFloat(SIGN_KERNEL, x);
  const {
    outs: [out],
    views: [y],
    ins: [xv],
  } = outputs(backend, [x.shape], [x]);
  // Branch-free: activations are about half negative, and a mispredicted branch per element cost
  // 5x the loop. -0 < 0 is false, so -0 maps to +1 like +0.
  for (let i = 0; i < xv.length; i++) y[i] = 1 - 2 * +(xv[i] < 0);
  return out;
}

function steGrad({ inputs, backend }: Args): TensorInfo {
  const { dy, x } = inputs;
  checkFloat(STE_GRAD_KERNEL, dy, x);
  const {
    outs: [out],
    views: [dx],
    ins: [dyv, xv],
  } = outputs(backend, [x.shape], [dy, x]);
  // Branch-free (see sign); dy * 0 keeps the sign of zero as the CPU backend's mask product does.
  for (let i = 0; i < xv.length; i++) dx[i] = dyv[i] * +(Math.abs(xv[i]) <= 1);
  return out;
}

function moments({ inputs, backend }: Args): TensorInfo[] {
  const { x } = inputs;
  checkFloat(MOMENTS_KERNEL, x);
  const c = x.shape[x.shape.length - 1];
  const { outs, views, ins } = outputs(backend, [[c], [c]], [x]);
  const [meanV, varV] = views;
  const xv = ins[0];
  const rows = size(x.shape) / c;
  const s1 = new Float64Array(c);
  const s2 = new Float64Array(c);
  for (let r = 0, o = 0; r < rows; r++, o += c) {
    for (let k = 0; k < c; k++) {
      const v = xv[o + k];
      s1[k] += v;
      s2[k] += v * v;
    }
  }
  for (let k = 0; k < c; k++) {
    const m = s1[k] / rows;
    meanV[k] = m;
    varV[k] = Math.max(0, s2[k] / rows - m * m);
  }
  return outs;
}

function batchNormGrad({ inputs, backend, attrs }: Args): TensorInfo[] {
  const { dy, x, mean, variance, scale } = inputs;
  checkFloat(BATCH_NORM_GRAD_KERNEL, dy, x, mean, variance, scale);
  const epsilon = attrs.epsilon as number;
  const c = x.shape[x.shape.length - 1];
  const { outs, views, ins } = outputs(backend, [x.shape, [c], [c]], [dy, x, mean, variance, scale]);
  const [dx, dScale, dOffset] = views;
  const [dyv, xv, meanV, varV, scaleV] = ins;
  const rows = size(x.shape) / c;
  // Pass 1: S1 = sum(dy), S2 = sum(dy * (x - mean)) per channel.
  const s1 = new Float64Array(c);
  const s2 = new Float64Array(c);
  for (let r = 0, o = 0; r < rows; r++, o += c) {
    for (let k = 0; k < c; k++) {
      const g = dyv[o + k];
      s1[k] += g;
      s2[k] += g * (xv[o + k] - meanV[k]);
    }
  }
  // dx = g r (dy - S1/P - (x - m) r^2 S2/P) = a dy + b x + d, per channel.
  const a = new Float32Array(c);
  const b = new Float32Array(c);
  const d = new Float32Array(c);
  for (let k = 0; k < c; k++) {
    const r = 1 / Math.sqrt(varV[k] + epsilon);
    const gr = scaleV[k] * r;
    const q = (gr * r * r * s2[k]) / rows;
    a[k] = gr;
    b[k] = -q;
    d[k] = q * meanV[k] - (gr * s1[k]) / rows;
    dScale[k] = s2[k] * r;
    dOffset[k] = s1[k];
  }
  // Pass 2.
  for (let r = 0, o = 0; r < rows; r++, o += c) {
    for (let k = 0; k < c; k++) dx[o + k] = a[k] * dyv[o + k] + b[k] * xv[o + k] + d[k];
  }
  return outs;
}

function isPair(v: unknown, n: number): boolean {
  if (typeof v === 'number') return v === n;
  return Array.isArray(v) && v.length === 2 && v[0] === n && v[1] === n;
}

function maxPoolGrad2x2(original: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args as unknown as Args;
    const { dy, input } = inputs;
    const [n, h, w, c] = input.shape;
    const fast =
      isPair(attrs.filterSize, 2) &&
      isPair(attrs.strides, 2) &&
      attrs.pad === 'valid' &&
      input.dtype === 'float32' &&
      dy.shape[1] === h >> 1 &&
      dy.shape[2] === w >> 1;
    if (!fast) return original(args);
    const ho = h >> 1;
    const wo = w >> 1;
    const {
      outs: [out],
      views: [dx],
      ins: [dyv, xv],
    } = outputs(backend, [input.shape], [dy, input]);
    // Every element of an even-sized input lies in one window, and each window writes all four
    // of its elements below: no zero-fill pass needed (a pass over memory costs as much as the
    // kernel's own). Odd sizes leave a last row or column outside every window.
    if (h & 1 || w & 1) dx.fill(0);
    const row = w * c;
    for (let b = 0; b < n; b++) {
      for (let i = 0; i < ho; i++) {
        const top = (b * h + 2 * i) * row;
        const outRow = (b * ho + i) * wo * c;
        for (let j = 0; j < wo; j++) {
          const p00 = top + 2 * j * c;
          const g = outRow + j * c;
          for (let k = 0; k < c; k++) {
            // Window order: (0,0), (0,1), (1,0), (1,1); a later tap wins only if strictly larger.
            // Branch-free selects (ties are frequent and unpredictable).
            const i00 = p00 + k;
            const v00 = xv[i00];
            const v01 = xv[i00 + c];
            const v10 = xv[i00 + row];
            const v11 = xv[i00 + row + c];
            const t01 = +(v01 > v00);
            let m = t01 * v01 + (1 - t01) * v00;
            let off = t01 * c;
            const t10 = +(v10 > m);
            m = t10 * v10 + (1 - t10) * m;
            off = t10 * row + (1 - t10) * off;
            const t11 = +(v11 > m);
            off = t11 * (row + c) + (1 - t11) * off;
            // gv * 0 is -0 for a negative gv: + 0 makes it +0, as a zero-filled output has.
            const gv = dyv[g + k];
            dx[i00] = gv * +(off === 0) + 0;
            dx[i00 + c] = gv * +(off === c) + 0;
            dx[i00 + row] = gv * +(off === row) + 0;
            dx[i00 + row + c] = gv * +(off === row + c) + 0;
          }
        }
      }
    }
    return out;
  };
}

function register(name: string, kernelFunc: (args: Args) => TensorInfo | TensorInfo[]): void {
  if (tf.getKernel(name, BACKEND)) tf.unregisterKernel(name, BACKEND);
  tf.registerKernel({ kernelName: name, backendName: BACKEND, kernelFunc: kernelFunc as unknown as tf.KernelFunc });
}

/** Install the kernels on the wasm backend (idempotent). Call after the backend is ready. */
export function registerHeapKernels(): void {
  if (registered) return;
  register(SIGN_KERNEL, sign);
  register(STE_GRAD_KERNEL, steGrad);
  register(MOMENTS_KERNEL, moments);
  register(BATCH_NORM_GRAD_KERNEL, batchNormGrad);
  const pool = tf.getKernel('MaxPoolGrad', BACKEND);
  if (!pool) throw new Error("tfjs-backend-wasm has no 'MaxPoolGrad' kernel");
  const fastPool = maxPoolGrad2x2(pool.kernelFunc);
  tf.unregisterKernel('MaxPoolGrad', BACKEND);
  tf.registerKernel({ kernelName: 'MaxPoolGrad', backendName: BACKEND, kernelFunc: fastPool });
  registered = true;
}

/** Whether the single-pass kernels serve the active backend. */
export function heapKernelsActive(): boolean {
  return registered && tf.getBackend() === BACKEND;
}
