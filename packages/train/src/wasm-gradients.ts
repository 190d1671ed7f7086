import * as tf from '@tensorflow/tfjs';

/**
 * Gradient kernels for tfjs-backend-wasm, built from its fast forward paths.
 *
 * tfjs-backend-wasm 4.22 has no `Conv2DBackpropFilter` (training any conv net fails), its
 * `Conv2DBackpropInput` runs at ~1.6 GFLOP/s and a matMul with a transposed operand at ~1.2, while
 * its forward conv2d and plain matMul (XNNPACK) reach ~14-16 GFLOP/s. So, for stride 1 and
 * dilation 1 (all cbnn networks):
 *  - dX = conv2d(dy, W rotated 180 degrees with in/out channels swapped), padded so that each
 *    input pixel sees exactly the outputs it fed (exact, same FLOPs as the forward pass);
 *  - dW = conv2d(x viewed as [Ci, H, W, N], dy viewed as a [Ho, Wo, N, Co] filter): input channels
 *    become the batch and the batch becomes the channels, with the forward pass's padding; the
 *    [Ci, kh, kw, Co] result is transposed to [kh, kw, Ci, Co];
 *  - matMul with transposeA/transposeB: transpose the operand explicitly (memory-bound, cheap),
 *    then the fast plain matMul.
 * These kernels call the wasm backend's own kernel functions, so they record nothing on the tape.
 */
export type TensorInfo = tf.TensorInfo;
interface WasmBackendLike {
  disposeData(dataId: object, force?: boolean): boolean;
}
export type KernelArgs = { inputs: Record<string, TensorInfo>; backend: WasmBackendLike; attrs: Record<string, unknown> };
type KernelFn = (args: KernelArgs) => TensorInfo;

const BACKEND = 'wasm';
let registered = false;

function kernel(name: string): KernelFn {
  const config = tf.getKernel(name, BACKEND);
  if (!config) throw new Error(`tfjs-backend-wasm has no '${name}' kernel, which cbnn's gradient kernels need`);
  return config.kernelFunc as unknown as KernelFn;
}

/** Replace (or add) a wasm kernel, keeping the original's setup (it already ran at backend init). */
function overrideKernel(name: string, kernelFunc: KernelFn): void {
  if (tf.getKernel(name, BACKEND)) tf.unregisterKernel(name, BACKEND);
  tf.registerKernel({ kernelName: name, backendName: BACKEND, kernelFunc: kernelFunc as unknown as tf.KernelFunc });
}

function isUnit(v: unknown): boolean {
  if (v === undefined || v === null) return true;
  if (typeof v === 'number') return v === 1;
  return (v as number[]).every((x) => x === 1);
}

export interface Pads {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

export function forwardPads(xShape: number[], filterShape: number[], attrs: Record<string, unknown>): Pads {
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    1,
    1,
    attrs.pad as 'same' | 'valid',
    attrs.dimRoundingMode as 'floor' | undefined,
  );
  return info.padInfo;
}

function checkSupported(op: string, attrs: Record<string, unknown>): void {
  if (!isUnit(attrs.strides) || !isUnit(attrs.dilations)) {
    throw new Error(`cbnn's wasm ${op} supports stride 1 and dilation 1 only (got strides ${String(attrs.strides)})`);
  }
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC') {
    throw new Error(`cbnn's wasm ${op} supports NHWC only (got ${String(attrs.dataFormat)})`);
  }
}

/** Run `fn`, then free every intermediate it produced except the returned one. */
function withScratch(backend: WasmBackendLike, fn: (keep: (t: TensorInfo) => TensorInfo) => TensorInfo): TensorInfo {
  const scratch: TensorInfo[] = [];
  const out = fn((t) => {
    scratch.push(t);
    return t;
  });
  for (const t of scratch) if (t !== out) backend.disposeData(t.dataId);
  return out;
}

/**
 * Padding of dy for dX as a forward conv with the rotated filter: each input pixel then sees
 * exactly the outputs it fed.
 */
export function transposedConvPads(inputShape: number[], filterShape: number[], dyShape: number[], attrs: Record<string, unknown>): Pads {
  const [kh, kw] = filterShape;
  const p = forwardPads(inputShape, filterShape, attrs);
  const [, ho, wo] = dyShape;
  const [, h, w] = inputShape;
  const top = kh - 1 - p.top;
  const left = kw - 1 - p.left;
  const bottom = h - ho + kh - 1 - top;
  const right = w - wo + kw - 1 - left;
  if (Math.min(top, left, bottom, right) < 0) throw new Error('cbnn Conv2DBackpropInput: unsupported padding');
  return { top, left, bottom, right };
}

export function conv2dBackpropInputViaForward(args: KernelArgs): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { dy, filter } = inputs;
  checkSupported('Conv2DBackpropInput', attrs);
  const { top, left, bottom, right } = transposedConvPads(attrs.inputShape as number[], filter.shape, dy.shape, attrs);
  return withScratch(backend, (keep) => {
    const flipped = keep(kernel('Reverse')({ inputs: { x: filter }, backend, attrs: { dims: [0, 1] } }));
    const swapped = keep(kernel('Transpose')({ inputs: { x: flipped }, backend, attrs: { perm: [0, 1, 3, 2] } }));
    return keep(
      kernel('Conv2D')({
        inputs: { x: dy, filter: swapped },
        backend,
        attrs: {
          strides: 1,
          dilations: 1,
          pad: [
            [0, 0],
            [top, bottom],
            [left, right],
            [0, 0],
          ],
          dataFormat: 'NHWC',
        },
      }),
    );
  });
}

export function conv2dBackpropFilterViaForward(args: KernelArgs): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x, dy } = inputs;
  checkSupported('Conv2DBackpropFilter', attrs);
  const filterShape = attrs.filterShape as number[];
  const p = forwardPads(x.shape, filterShape, attrs);
  return withScratch(backend, (keep) => {
    const channelsAsBatch = keep(kernel('Transpose')({ inputs: { x }, backend, attrs: { perm: [3, 1, 2, 0] } }));
    const dyAsFilter = keep(kernel('Transpose')({ inputs: { x: dy }, backend, attrs: { perm: [1, 2, 0, 3] } }));
    const grad = keep(
      kernel('Conv2D')({
        inputs: { x: channelsAsBatch, filter: dyAsFilter },
        backend,
        attrs: {
          strides: 1,
          dilations: 1,
          pad: [
            [0, 0],
            [p.top, p.bottom],
            [p.left, p.right],
            [0, 0],
          ],
          dataFormat: 'NHWC',
        },
      }),
    );
    return keep(kernel('Transpose')({ inputs: { x: grad }, backend, attrs: { perm: [1, 2, 0, 3] } }));
  });
}

function transposeLastTwo(t: TensorInfo, backend: WasmBackendLike): TensorInfo {
  const r = t.shape.length;
  const perm = [...Array(r).keys()];
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return kernel('Transpose')({ inputs: { x: t }, backend, attrs: { perm } });
}

function batchMatMulWithoutTransposedOperands(plain: KernelFn): KernelFn {
  return (args) => {
    const { inputs, backend, attrs } = args;
    if (!attrs.transposeA && !attrs.transposeB) return plain(args);
    return withScratch(backend, (keep) => {
      const a = attrs.transposeA ? keep(transposeLastTwo(inputs.a, backend)) : inputs.a;
      const b = attrs.transposeB ? keep(transposeLastTwo(inputs.b, backend)) : inputs.b;
      return keep(plain({ inputs: { a, b }, backend, attrs: { ...attrs, transposeA: false, transposeB: false } }));
    });
  };
}

/**
 * Install the kernels above on the wasm backend (idempotent). Call after the backend is ready.
 * `restoreConvs`: put the two conv gradients back after another implementation replaced them.
 */
export function registerWasmGradientKernels(restoreConvs = false): void {
  if (registered && !restoreConvs) return;
  overrideKernel('Conv2DBackpropInput', conv2dBackpropInputViaForward);
  overrideKernel('Conv2DBackpropFilter', conv2dBackpropFilterViaForward);
  if (!registered) overrideKernel('BatchMatMul', batchMatMulWithoutTransposedOperands(kernel('BatchMatMul')));
  registered = true;
}
