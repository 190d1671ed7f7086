import * as tf from '@tensorflow/tfjs';
import { InvalidInputError, packBits, wordsForChannels, type PlaneLayout } from '@cbnn/core';
import type { EngineLayer, EngineModel } from '@cbnn/kernels';
import { QuantConv2D, QuantDense } from './quant-layers';

/**
 * Export a trained binary model (built by `buildBinaryModel`) to the kernels engine's model.
 *
 * Folding (docs/contracts.md): a binary layer's integer ±1 dot product x is followed by batch
 * norm y = gamma * (x - mean) / sqrt(var + eps) + beta and the next layer's sign, bit = (y >= 0).
 * For gamma > 0 that is x >= t with t = mean - beta * sqrt(var + eps) / gamma, i.e. x >= ceil(t);
 * for gamma < 0 it is x <= floor(t) (flip = 1); for gamma = 0 the bit is the constant (beta >= 0),
 * written as the int32 extremes. Max-pool sits between BN and sign, and sign is monotone, so
 * sign(maxpool(y)) = OR-pool of the bits. The last BN becomes scores = scale * x + bias.
 *
 * Ties: sign(0) = +1 on both sides, so an x exactly at the threshold gives bit 1 in the engine
 * and in tfjs. The thresholds are computed in float64; tfjs evaluates BN in float32, so an x
 * within float32 rounding of t (|y| ~ 1e-7) may land on the other side in tfjs. Scores that tie
 * exactly resolve to the lowest class index in both (argmax picks the first maximum).
 */
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

interface BatchNormParams {
  gamma: Float32Array;
  beta: Float32Array;
  mean: Float32Array;
  variance: Float32Array;
  epsilon: number;
}

function batchNormParams(layer: tf.layers.Layer): BatchNormParams {
  const config = layer.getConfig() as { epsilon?: number; scale?: boolean; center?: boolean };
  if (config.scale === false || config.center === false) throw new Error(`batch norm '${layer.name}' must have scale and center`);
  const [gamma, beta, mean, variance] = layer.getWeights().map((w) => w.dataSync() as Float32Array);
  return { gamma, beta, mean, variance, epsilon: config.epsilon ?? 1e-3 };
}

/** Integer thresholds and flips of BN + sign over integer inputs. */
export function foldThresholds(bn: BatchNormParams): { thresholds: Int32Array; flip: Uint8Array } {
  const n = bn.gamma.length;
  const thresholds = new Int32Array(n);
  const flip = new Uint8Array(n);
  for (let c = 0; c < n; c++) {
    const gamma = bn.gamma[c];
    const sd = Math.sqrt(bn.variance[c] + bn.epsilon);
    if (gamma === 0) {
      // Constant bit: x >= INT32_MIN is always true, x >= INT32_MAX never (|x| is far smaller).
      thresholds[c] = bn.beta[c] >= 0 ? INT32_MIN : INT32_MAX;
      continue;
    }
    const t = bn.mean[c] - (bn.beta[c] * sd) / gamma;
    const clamp = (v: number) => Math.max(INT32_MIN, Math.min(INT32_MAX, v));
    if (gamma > 0) thresholds[c] = clamp(Math.ceil(t));
    else {
      thresholds[c] = clamp(Math.floor(t));
      flip[c] = 1;
    }
  }
  return { thresholds, flip };
}

/** BN as an affine map of x: scale * x + bias. */
export function foldAffine(bn: BatchNormParams): { scale: Float32Array; bias: Float32Array } {
  const n = bn.gamma.length;
  const scale = new Float32Array(n);
  const bias = new Float32Array(n);
  for (let c = 0; c < n; c++) {
    const s = bn.gamma[c] / Math.sqrt(bn.variance[c] + bn.epsilon);
    scale[c] = s;
    bias[c] = bn.beta[c] - bn.mean[c] * s;
  }
  return { scale, bias };
}

/** tfjs conv kernel [3][3][inC][outC] -> packed [outC][3][3][words(inC)], bit 1 = weight >= 0. */
function packConvKernel(kernel: Float32Array, k: number, inC: number, outC: number): Uint32Array {
  const bits = new Uint8Array(outC * k * k * inC);
  for (let o = 0; o < outC; o++)
    for (let tap = 0; tap < k * k; tap++) for (let c = 0; c < inC; c++) bits[(o * k * k + tap) * inC + c] = kernel[(tap * inC + c) * outC + o] >= 0 ? 1 : 0;
  return packBits(bits, outC * k * k, inC);
}

function transposeConvKernel(kernel: Float32Array, k: number, inC: number, outC: number): Float32Array {
  const out = new Float32Array(outC * k * k * inC);
  for (let o = 0; o < outC; o++)
    for (let tap = 0; tap < k * k; tap++) for (let c = 0; c < inC; c++) out[(o * k * k + tap) * inC + c] = kernel[(tap * inC + c) * outC + o];
  return out;
}

/** tfjs dense kernel [inBits][outC] -> packed [outC][words(inBits)]. */
function packDenseKernel(kernel: Float32Array, inBits: number, outC: number): Uint32Array {
  const bits = new Uint8Array(outC * inBits);
  for (let o = 0; o < outC; o++) for (let i = 0; i < inBits; i++) bits[o * inBits + i] = kernel[i * outC + o] >= 0 ? 1 : 0;
  const packed = packBits(bits, outC, inBits);
  if (packed.length !== outC * wordsForChannels(inBits)) throw new Error('dense packing size mismatch');
  return packed;
}

type Pending =
  | { kind: 'conv'; layer: QuantConv2D; kernel: Float32Array; inC: number; outC: number }
  | { kind: 'dense'; layer: QuantDense; kernel: Float32Array; inBits: number; outC: number };

export interface ExportInput {
  height: number;
  width: number;
  layout: PlaneLayout;
}

export function exportEngineModel(model: tf.LayersModel, input: ExportInput, classNames: string[], meta?: Record<string, unknown>): EngineModel {
  const layers: EngineLayer[] = [];
  let pending: Pending | null = null;
  const all = model.layers;
  all.forEach((layer, index) => {
    const className = layer.getClassName();
    if (layer instanceof QuantConv2D) {
      if (layer.kernelSize !== 3)
        throw new InvalidInputError(`layer '${layer.name}': the engine runs 3x3 convolutions only, got ${layer.kernelSize}x${layer.kernelSize}`);
      const kernel = layer.latentKernel().read();
      const [, , inC, outC] = kernel.shape;
      pending = { kind: 'conv', layer, kernel: kernel.dataSync() as Float32Array, inC, outC };
    } else if (layer instanceof QuantDense) {
      const kernel = layer.latentKernel().read();
      const [inBits, outC] = kernel.shape;
      if (layer.quant.kernelQuantizer === null)
        throw new InvalidInputError(`layer '${layer.name}': the engine has no real-valued dense layer (use firstLayer 'binary' with an MLP)`);
      pending = { kind: 'dense', layer, kernel: kernel.dataSync() as Float32Array, inBits, outC };
    } else if (className === 'BatchNormalization') {
      const p = pending as Pending | null;
      if (!p) throw new Error(`batch norm '${layer.name}' follows no binary layer`);
      const bn = batchNormParams(layer);
      const last = index === all.length - 1;
      if (p.kind === 'conv') {
        const real = p.layer.quant.kernelQuantizer === null;
        if (real) {
          if (layers.length > 0) throw new InvalidInputError(`layer '${p.layer.name}': only the first layer may be real-valued`);
          layers.push({
            type: 'conv_real',
            inC: p.inC,
            outC: p.outC,
            padding: p.layer.padding,
            weights: transposeConvKernel(p.kernel, 3, p.inC, p.outC),
            ...foldAffine(bn),
          });
        } else {
          layers.push({
            type: 'conv',
            inC: p.inC,
            outC: p.outC,
            padding: p.layer.padding,
            weights: packConvKernel(p.kernel, 3, p.inC, p.outC),
            ...foldThresholds(bn),
          });
        }
      } else if (last) {
        layers.push({ type: 'dense_out', inBits: p.inBits, outC: p.outC, weights: packDenseKernel(p.kernel, p.inBits, p.outC), ...foldAffine(bn) });
      } else {
        layers.push({ type: 'dense', inBits: p.inBits, outC: p.outC, weights: packDenseKernel(p.kernel, p.inBits, p.outC), ...foldThresholds(bn) });
      }
      pending = null;
    } else if (className === 'MaxPooling2D') {
      const config = layer.getConfig() as { poolSize: number[]; strides: number[] };
      if (config.poolSize.some((s) => s !== 2) || config.strides.some((s) => s !== 2))
        throw new InvalidInputError(`layer '${layer.name}': the engine pools 2x2 stride 2 only`);
      layers.push({ type: 'maxpool2' });
    } else if (className !== 'Flatten' && className !== 'InputLayer') {
      throw new InvalidInputError(`layer '${layer.name}' (${className}) has no engine equivalent`);
    }
  });
  if (pending) throw new Error('the model ends in a binary layer without its batch norm');
  return {
    input: { height: input.height, width: input.width, layout: input.layout, features: input.layout.planes.length },
    classNames,
    layers,
    ...(meta ? { meta } : {}),
  };
}
