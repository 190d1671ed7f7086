import * as tf from '@tensorflow/tfjs';
import { GraphBuilder } from './onnx-graph';
import { forwardPads, registerWasmGradientKernels, transposedConvPads, type KernelArgs, type Pads, type TensorInfo } from './wasm-gradients';

/**
 * The float-heavy kernels of training on onnxruntime's CPU kernels (MLAS), for the wasm backend:
 * `Conv2DBackpropInput` (dX), `Conv2DBackpropFilter` (dW) and the float forward `Conv2D` (the
 * full-precision model, a real-valued or plane-reading first layer), stride 1, NHWC.
 *
 * tfjs kernels are synchronous and onnxruntime-node's JS API is not (`session.run` wraps the
 * native call in setImmediate). The native binding's `run` itself is synchronous, so these
 * kernels call it directly: one cached session per (kernel, layer shape, padding), batch size
 * symbolic. The binding is an internal of onnxruntime-node, checked against the pinned version
 * below: another version is refused with a message, never used on trust.
 *
 *  - dX: a forward Conv of dy with the rotated filter, NCHW between two transposes (nhwcConvModel);
 *  - dW: one GEMM per filter tap, the shifted window of x against dy (dwModel). At VGG-small
 *    w=0.5's shapes this took about half the CPU time of dW as a batch-as-channel Conv.
 *
 * One intra-op thread: training spreads gradient shards over threads itself, and one thread
 * keeps the sums in a fixed order (the model must not depend on the thread count).
 * tfjs-wasm's own kernels (wasm-gradients.ts) stay the fallback and the reference.
 */
export const ORT_PINNED_VERSION = '1.30.0';
const BACKEND = 'wasm';

interface OrtTensor {
  data: Float32Array;
  dims: readonly number[];
}
type OrtTensorCtor = new (type: 'float32', data: Float32Array, dims: readonly number[]) => OrtTensor;
interface NativeSession {
  loadModel(buffer: ArrayBuffer, byteOffset: number, byteLength: number, options: object): void;
  run(feeds: Record<string, OrtTensor>, fetches: Record<string, null>, options: object): Record<string, OrtTensor>;
}
interface Ort {
  version: string;
  Tensor: OrtTensorCtor;
  newSession(model: Uint8Array): NativeSession;
}

let ort: Ort | null = null;
let registered = false;
/** tfjs-wasm's own forward conv: other strides, and the way back (unregisterOrtGradientKernels). */
let originalConv2D: ((args: KernelArgs) => TensorInfo) | null = null;
const sessions = new Map<string, NativeSession>();

const SESSION_OPTIONS = { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all', executionMode: 'sequential', enableCpuMemArena: true };

/**
 * onnxruntime-node's native binding, checked. Throws with the reason when the package is missing
 * or not loadable here (the caller then trains on tfjs-wasm's kernels, if the params allow it),
 * or when it is not the pinned version (whose internals these kernels rely on).
 */
export function loadOrt(): Ort {
  if (ort) return ort;
  /* eslint-disable @typescript-eslint/no-require-imports */
  const version = (require('onnxruntime-node/package.json') as { version: string }).version;
  if (version !== ORT_PINNED_VERSION) {
    throw new Error(
      `cbnn's onnxruntime training kernels call onnxruntime-node's native binding, checked against ${ORT_PINNED_VERSION}; found ${version}. Pin onnxruntime-node ${ORT_PINNED_VERSION} or re-check ort-kernels.ts against the new binding`,
    );
  }
  const { binding, initOrt } = require('onnxruntime-node/dist/binding') as { binding: { InferenceSession?: new () => NativeSession }; initOrt: () => void };
  const { Tensor } = require('onnxruntime-node') as { Tensor: OrtTensorCtor };
  /* eslint-enable @typescript-eslint/no-require-imports */
  if (typeof binding?.InferenceSession !== 'function' || typeof initOrt !== 'function') {
    throw new Error(`onnxruntime-node ${version}: the native binding has no InferenceSession/initOrt (its internals changed)`);
  }
  initOrt();
  const Session = binding.InferenceSession;
  const newSession = (model: Uint8Array): NativeSession => {
    const s = new Session();
    if (typeof s.loadModel !== 'function' || typeof s.run !== 'function')
      throw new Error(`onnxruntime-node ${version}: native sessions have no loadModel/run (its internals changed)`);
    s.loadModel(model.buffer as ArrayBuffer, model.byteOffset, model.byteLength, SESSION_OPTIONS);
    return s;
  };
  ort = { version, Tensor, newSession };
  return ort;
}

function session(key: string, build: () => Uint8Array): NativeSession {
  let s = sessions.get(key);
  if (!s) {
    s = loadOrt().newSession(build());
    sessions.set(key, s);
  }
  return s;
}

/**
 * Run a session into `out`, a view of the wasm heap: the binding writes a pre-allocated output
 * in place (and returns a copy, unused), which saves copying every result into the heap.
 */
function run(s: NativeSession, feeds: Record<string, { data: Float32Array; dims: number[] }>, out: { data: Float32Array; dims: number[] }): void {
  const { Tensor } = loadOrt();
  const inputs: Record<string, OrtTensor> = {};
  for (const [name, f] of Object.entries(feeds)) inputs[name] = new Tensor('float32', f.data, f.dims);
  const y = new Tensor('float32', out.data, out.dims);
  const result = s.run(inputs, { y } as unknown as Record<string, null>, {}).y;
  // The binding writes in place and returns a copy: spot-check that the two agree.
  const n = out.data.length;
  const agree = result && result.data.length === n && [0, n >> 1, n - 1].every((i) => Object.is(result.data[i], out.data[i]));
  if (!agree) throw new Error('onnxruntime did not write into the pre-allocated output (binding internals changed?)');
}

interface HeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array;
}

/** A new wasm tensor of `shape` and its heap view (allocate first: it may grow the heap). */
function wasmOutput(backend: HeapBackend, shape: number[]): { info: TensorInfo; out: { data: Float32Array; dims: number[] } } {
  const info = backend.makeOutput(shape, 'float32');
  return { info, out: { data: backend.typedArrayFromHeap(info), dims: shape } };
}

const unit = (v: unknown) => v === undefined || v === null || (typeof v === 'number' ? v === 1 : (v as number[]).every((x) => x === 1));

function supported(attrs: Record<string, unknown>): boolean {
  return unit(attrs.strides) && unit(attrs.dilations) && (attrs.dataFormat === undefined || attrs.dataFormat === 'NHWC');
}

function checkSupported(op: string, attrs: Record<string, unknown>): void {
  if (!supported(attrs)) throw new Error(`cbnn's onnxruntime ${op} supports stride 1, dilation 1 and NHWC only`);
}

/**
 * The kh x kw shifted windows of a padded NHWC tensor (Slice nodes on H and W): window (i, j) is
 * rows i..i+oh-1 and columns j..j+ow-1 of the padded input.
 */
function windows(g: GraphBuilder, input: string, kh: number, kw: number, oh: number, ow: number, pads: Pads): string[] {
  const padded =
    pads.top || pads.left || pads.bottom || pads.right
      ? g.node('Pad', [input, g.ints('pads', [0, pads.top, pads.left, 0, 0, pads.bottom, pads.right, 0])], 'pad')
      : input;
  const out: string[] = [];
  const axes = g.ints('hw_axes', [1, 2]);
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      out.push(g.node('Slice', [padded, g.ints(`start_${i}_${j}`, [i, j]), g.ints(`end_${i}_${j}`, [i + oh, j + ow]), axes], `window_${i}_${j}`));
    }
  }
  return out;
}

/**
 * dW [kh, kw, ci, co]: per tap (i, j), window(i, j) of x padded as in the forward pass, as
 * [n*ho*wo, ci], transposed, times dy as [n*ho*wo, co] (a Gemm with transA): kh*kw GEMMs whose
 * long side is the batch's pixels, concatenated.
 */
function dwModel(h: number, w: number, ci: number, ho: number, wo: number, co: number, kh: number, kw: number, pads: Pads): Uint8Array {
  const g = new GraphBuilder();
  const dy = g.node('Reshape', ['dy', g.ints('dy_rows', [-1, co])], 'dy_rows');
  const taps = windows(g, 'x', kh, kw, ho, wo, pads).map((win) => {
    const rows = g.node('Reshape', [win, g.ints(`${win}_rows`, [-1, ci])], 'x_rows');
    return g.node('Gemm', [rows, dy], 'tap', [{ name: 'transA', i: 1 }]);
  });
  const all = g.node('Concat', taps, 'taps', [{ name: 'axis', i: 0 }]);
  g.node('Reshape', [all, g.ints('hwio', [kh, kw, ci, co])], 'dw', [], 'y');
  return g.model(
    'cbnn_dw',
    [
      ['x', ['n', h, w, ci]],
      ['dy', ['n', ho, wo, co]],
    ],
    [['y', [kh, kw, ci, co]]],
  );
}

/**
 * A tfjs filter [kh, kw, ci, co] as onnxruntime's Conv weight: [co, ci, kh, kw] for the forward
 * conv, or (`transposed`) rotated by 180 degrees as [ci, co, kh, kw] for dX. Small (kh*kw*ci*co).
 */
function reorderFilter(f: Float32Array, shape: number[], transposed: boolean): Float32Array {
  const [kh, kw, ci, co] = shape;
  const out = new Float32Array(f.length);
  for (let i = 0; i < kh; i++)
    for (let j = 0; j < kw; j++)
      for (let c = 0; c < ci; c++)
        for (let o = 0; o < co; o++) {
          const to = transposed ? ((c * co + o) * kh + (kh - 1 - i)) * kw + (kw - 1 - j) : ((o * ci + c) * kh + i) * kw + j;
          out[to] = f[((i * kw + j) * ci + c) * co + o];
        }
  return out;
}

/**
 * y [n, oh, ow, oc] = conv(x [n, h, w, c], weight [oc, c, kh, kw]): onnxruntime's Conv is NCHW, so
 * the graph transposes x in and y out. The forward conv, and dX as a conv of dy with the rotated
 * filter. (dX as an im2col of dy into one GEMM, as for dW, measured slower: the kh*kw-fold copy
 * of dy costs more than the two transposes.)
 */
function nhwcConvModel(h: number, w: number, c: number, oh: number, ow: number, oc: number, kh: number, kw: number, pads: Pads): Uint8Array {
  const g = new GraphBuilder();
  const xT = g.node('Transpose', ['x'], 'x_nchw', [{ name: 'perm', ints: [0, 3, 1, 2] }]);
  const y = g.node('Conv', [xT, 'w'], 'conv', [
    { name: 'pads', ints: [pads.top, pads.left, pads.bottom, pads.right] },
    { name: 'kernel_shape', ints: [kh, kw] },
  ]);
  g.node('Transpose', [y], 'y_nhwc', [{ name: 'perm', ints: [0, 2, 3, 1] }], 'y');
  return g.model(
    'cbnn_conv',
    [
      ['x', ['n', h, w, c]],
      ['w', [oc, c, kh, kw]],
    ],
    [['y', ['n', oh, ow, oc]]],
  );
}

/** The float forward conv (the full-precision model's convs, a real-valued first layer). */
export function conv2dOrt(args: KernelArgs): TensorInfo {
  const { inputs, attrs } = args;
  const backend = args.backend as unknown as HeapBackend;
  const { x, filter } = inputs;
  if (!supported(attrs) || x.dtype !== 'float32') return originalConv2D!(args);
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    1,
    1,
    attrs.pad as 'same' | 'valid',
    attrs.dimRoundingMode as 'floor' | undefined,
  );
  return nhwcConv(backend, x, filter, [x.shape[0], info.outHeight, info.outWidth, filter.shape[3]], info.padInfo, false);
}

/** Run nhwcConvModel (cached per shape) on wasm tensors: the forward conv, or dX (`transposed`). */
function nhwcConv(backend: HeapBackend, input: TensorInfo, filter: TensorInfo, outShape: number[], pads: Pads, transposed: boolean): TensorInfo {
  const [, h, w, c] = input.shape;
  const [, oh, ow, oc] = outShape;
  const [kh, kw] = filter.shape;
  const { info, out } = wasmOutput(backend, outShape);
  const key = `conv${transposed ? '-dx' : ''}:${h}x${w}x${c}->${oh}x${ow}x${oc}:${kh}x${kw}:${pads.top},${pads.left},${pads.bottom},${pads.right}`;
  const s = session(key, () => nhwcConvModel(h, w, c, oh, ow, oc, kh, kw, pads));
  const weight = reorderFilter(backend.typedArrayFromHeap(filter), filter.shape, transposed);
  run(s, { x: { data: backend.typedArrayFromHeap(input), dims: input.shape }, w: { data: weight, dims: [oc, c, kh, kw] } }, out);
  return info;
}

export function conv2dBackpropInputOrt(args: KernelArgs): TensorInfo {
  const { inputs, attrs } = args;
  const backend = args.backend as unknown as HeapBackend;
  const { dy, filter } = inputs;
  checkSupported('Conv2DBackpropInput', attrs);
  const inputShape = attrs.inputShape as number[];
  const pads = transposedConvPads(inputShape, filter.shape, dy.shape, attrs);
  return nhwcConv(backend, dy, filter, [dy.shape[0], inputShape[1], inputShape[2], filter.shape[2]], pads, true);
}

export function conv2dBackpropFilterOrt(args: KernelArgs): TensorInfo {
  const { inputs, attrs } = args;
  const backend = args.backend as unknown as HeapBackend;
  const { x, dy } = inputs;
  checkSupported('Conv2DBackpropFilter', attrs);
  const filterShape = attrs.filterShape as number[];
  const p = forwardPads(x.shape, filterShape, attrs);
  const [, h, w, ci] = x.shape;
  const [, ho, wo, co] = dy.shape;
  const [kh, kw] = filterShape;
  const { info, out } = wasmOutput(backend, filterShape);
  const s = session(`dw:${h}x${w}x${ci}->${ho}x${wo}x${co}:${kh}x${kw}:${p.top},${p.left},${p.bottom},${p.right}`, () =>
    dwModel(h, w, ci, ho, wo, co, kh, kw, p),
  );
  run(s, { x: { data: backend.typedArrayFromHeap(x), dims: x.shape }, dy: { data: backend.typedArrayFromHeap(dy), dims: dy.shape } }, out);
  return info;
}

/**
 * Install the onnxruntime gradient kernels on the wasm backend (after the backend is ready).
 * Returns the onnxruntime-node version; throws when it cannot load (see loadOrt).
 */
export function registerOrtGradientKernels(): string {
  const { version } = loadOrt();
  if (registered) return version;
  registerWasmGradientKernels();
  originalConv2D ??= tf.getKernel('Conv2D', BACKEND)!.kernelFunc as unknown as (args: KernelArgs) => TensorInfo;
  for (const [name, fn] of [
    ['Conv2D', conv2dOrt],
    ['Conv2DBackpropInput', conv2dBackpropInputOrt],
    ['Conv2DBackpropFilter', conv2dBackpropFilterOrt],
  ] as const) {
    if (tf.getKernel(name, BACKEND)) tf.unregisterKernel(name, BACKEND);
    tf.registerKernel({ kernelName: name, backendName: BACKEND, kernelFunc: fn as unknown as tf.KernelFunc });
  }
  registered = true;
  return version;
}

/** Put tfjs-wasm's own gradient kernels (wasm-gradients.ts) back (tests compare the two). */
export function unregisterOrtGradientKernels(): void {
  if (!registered) return;
  registered = false;
  tf.unregisterKernel('Conv2D', BACKEND);
  tf.registerKernel({ kernelName: 'Conv2D', backendName: BACKEND, kernelFunc: originalConv2D as unknown as tf.KernelFunc });
  registerWasmGradientKernels(true);
}

export function ortGradientKernelsActive(): boolean {
  return registered;
}
