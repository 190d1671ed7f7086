import * as tf from '@tensorflow/tfjs';
import { GraphBuilder } from './onnx-graph';
import { forwardPads, registerWasmGradientKernels, type KernelArgs, type TensorInfo } from './wasm-gradients';

/**
 * The float-heavy gradient kernels of training on onnxruntime's CPU kernels (MLAS), for the wasm
 * backend: `Conv2DBackpropInput` (dX) and `Conv2DBackpropFilter` (dW), stride 1, NHWC.
 *
 * tfjs kernels are synchronous and onnxruntime-node's JS API is not (`session.run` wraps the
 * native call in setImmediate). The native binding's `run` itself is synchronous, so these
 * kernels call it directly: one cached session per (kernel, layer shape, padding), batch size
 * symbolic. The binding is an internal of onnxruntime-node, checked against the pinned version
 * below: another version is refused with a message, never used on trust.
 *
 *  - dX = conv(dy, W rotated 180 degrees, in/out channels swapped), padded so that each input
 *    pixel sees the outputs it fed; the filter is rearranged here (small), the transposes from
 *    and to NHWC are nodes of the graph.
 *  - dW = conv(x viewed as [Ci, N, H, W], dy viewed as a [Co, N, Ho, Wo] filter) with the
 *    forward padding: input channels as the batch, the batch as channels; [Ci, Co, kh, kw] is
 *    transposed to [kh, kw, Ci, Co] in the graph.
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
    throw new Error(`cbnn's onnxruntime training kernels call onnxruntime-node's native binding, checked against ${ORT_PINNED_VERSION}; found ${version}. Pin onnxruntime-node ${ORT_PINNED_VERSION} or re-check ort-kernels.ts against the new binding`);
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
    if (typeof s.loadModel !== 'function' || typeof s.run !== 'function') throw new Error(`onnxruntime-node ${version}: native sessions have no loadModel/run (its internals changed)`);
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

function run(s: NativeSession, feeds: Record<string, { data: Float32Array; dims: number[] }>): OrtTensor {
  const { Tensor } = loadOrt();
  const inputs: Record<string, OrtTensor> = {};
  for (const [name, f] of Object.entries(feeds)) inputs[name] = new Tensor('float32', f.data, f.dims);
  const out = s.run(inputs, { y: null }, {}).y;
  if (!out || !(out.data instanceof Float32Array)) throw new Error('onnxruntime returned no float32 output y (binding internals changed?)');
  return out;
}

interface HeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array;
}

/** Copy an onnxruntime result into a new wasm tensor of `shape`. */
function toWasm(backend: HeapBackend, shape: number[], result: OrtTensor): TensorInfo {
  const n = shape.reduce((a, b) => a * b, 1);
  if (result.data.length !== n) throw new Error(`onnxruntime result has ${result.data.length} values, expected ${n} (${shape.join('x')})`);
  const out = backend.makeOutput(shape, 'float32');
  backend.typedArrayFromHeap(out).set(result.data);
  return out;
}

function checkSupported(op: string, attrs: Record<string, unknown>): void {
  const unit = (v: unknown) => v === undefined || v === null || (typeof v === 'number' ? v === 1 : (v as number[]).every((x) => x === 1));
  if (!unit(attrs.strides) || !unit(attrs.dilations)) throw new Error(`cbnn's onnxruntime ${op} supports stride 1 and dilation 1 only`);
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC') throw new Error(`cbnn's onnxruntime ${op} supports NHWC only`);
}

function dxModel(co: number, ho: number, wo: number, ci: number, kh: number, kw: number, pads: number[]): Uint8Array {
  const g = new GraphBuilder();
  const dyT = g.node('Transpose', ['dy'], 'dy_nchw', [{ name: 'perm', ints: [0, 3, 1, 2] }]);
  const dx = g.node('Conv', [dyT, 'w'], 'dx', [{ name: 'pads', ints: pads }, { name: 'kernel_shape', ints: [kh, kw] }]);
  g.node('Transpose', [dx], 'dx_nhwc', [{ name: 'perm', ints: [0, 2, 3, 1] }], 'y');
  return g.model('cbnn_dx', [['dy', ['n', ho, wo, co]], ['w', [ci, co, kh, kw]]], [['y', ['n', 'h', 'w', ci]]]);
}

function dwModel(h: number, w: number, ci: number, ho: number, wo: number, co: number, pads: number[]): Uint8Array {
  const g = new GraphBuilder();
  const xT = g.node('Transpose', ['x'], 'x_cnhw', [{ name: 'perm', ints: [3, 0, 1, 2] }]);
  const dyT = g.node('Transpose', ['dy'], 'dy_cnhw', [{ name: 'perm', ints: [3, 0, 1, 2] }]);
  const dw = g.node('Conv', [xT, dyT], 'dw', [{ name: 'pads', ints: pads }, { name: 'kernel_shape', ints: [ho, wo] }]);
  g.node('Transpose', [dw], 'dw_hwio', [{ name: 'perm', ints: [2, 3, 0, 1] }], 'y');
  return g.model('cbnn_dw', [['x', ['n', h, w, ci]], ['dy', ['n', ho, wo, co]]], [['y', ['kh', 'kw', ci, co]]]);
}

export function conv2dBackpropInputOrt(args: KernelArgs): TensorInfo {
  const { inputs, attrs } = args;
  const backend = args.backend as unknown as HeapBackend;
  const { dy, filter } = inputs;
  checkSupported('Conv2DBackpropInput', attrs);
  const inputShape = attrs.inputShape as number[];
  const [kh, kw, ci, co] = filter.shape;
  const p = forwardPads(inputShape, filter.shape, attrs);
  const [n, ho, wo] = dy.shape;
  const [, h, w] = inputShape;
  const top = kh - 1 - p.top;
  const left = kw - 1 - p.left;
  const bottom = h - ho + kh - 1 - top;
  const right = w - wo + kw - 1 - left;
  if (Math.min(top, left, bottom, right) < 0) throw new Error('cbnn Conv2DBackpropInput: unsupported padding');
  const s = session(`dx:${ho}x${wo}x${co}->${ci}:${kh}x${kw}:${top},${left},${bottom},${right}`, () => dxModel(co, ho, wo, ci, kh, kw, [top, left, bottom, right]));
  // The filter as [Ci, Co, kh, kw], rotated by 180 degrees (9 x Ci x Co values: cheap here).
  const f = backend.typedArrayFromHeap(filter);
  const rotated = new Float32Array(f.length);
  for (let i = 0; i < kh; i++)
    for (let j = 0; j < kw; j++)
      for (let c = 0; c < ci; c++)
        for (let o = 0; o < co; o++) rotated[((c * co + o) * kh + (kh - 1 - i)) * kw + (kw - 1 - j)] = f[((i * kw + j) * ci + c) * co + o];
  const result = run(s, { dy: { data: backend.typedArrayFromHeap(dy), dims: dy.shape }, w: { data: rotated, dims: [ci, co, kh, kw] } });
  return toWasm(backend, [n, h, w, ci], result);
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
  const pads = [p.top, p.left, p.bottom, p.right];
  const s = session(`dw:${h}x${w}x${ci}->${ho}x${wo}x${co}:${pads.join(',')}`, () => dwModel(h, w, ci, ho, wo, co, pads));
  const result = run(s, { x: { data: backend.typedArrayFromHeap(x), dims: x.shape }, dy: { data: backend.typedArrayFromHeap(dy), dims: dy.shape } });
  return toWasm(backend, filterShape, result);
}

/**
 * Install the onnxruntime gradient kernels on the wasm backend (after the backend is ready).
 * Returns the onnxruntime-node version; throws when it cannot load (see loadOrt).
 */
export function registerOrtGradientKernels(): string {
  const { version } = loadOrt();
  if (registered) return version;
  registerWasmGradientKernels();
  for (const [name, fn] of [
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
  registerWasmGradientKernels(true);
}

export function ortGradientKernelsActive(): boolean {
  return registered;
}
