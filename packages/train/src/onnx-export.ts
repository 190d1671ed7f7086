import type * as tf from '@tensorflow/tfjs';
import { InvalidInputError } from '@cbnn/core';
import { GraphBuilder, ONNX_IR_VERSION, ONNX_OPSET, type Attribute } from './onnx-graph';

export { ONNX_IR_VERSION, ONNX_OPSET };

/**
 * Export of a full-precision TensorFlow.js Sequential model (Conv2D / BatchNormalization / ReLU /
 * MaxPooling2D / Flatten / Dense, the layers `@cbnn/train`'s full-precision builders use) to an
 * ONNX model for onnxruntime. TensorFlow.js is NHWC, ONNX convolutions are NCHW: the graph
 * transposes once before the first convolution and back before Flatten, so the flatten order (and
 * so the Dense weights) stay those of TensorFlow.js. Batch norms stay BatchNormalization nodes;
 * onnxruntime folds them into the convolutions itself when it optimises the graph.
 *
 * Field numbers are those of onnx/onnx.proto (IR version 8, default-domain opset 13).
 */
export const ONNX_INPUT_NAME = 'input';
export const ONNX_OUTPUT_NAME = 'scores';

type Layout = 'nhwc' | 'nchw' | 'flat';

const pair = (v: number | number[]): number[] => (Array.isArray(v) ? (v.length === 1 ? [v[0], v[0]] : v) : [v, v]);

interface ExportState {
  g: GraphBuilder;
  cur: string;
  layout: Layout;
}

function toNchw(s: ExportState): void {
  if (s.layout === 'nhwc') {
    s.cur = s.g.node('Transpose', [s.cur], 'to_nchw', [{ name: 'perm', ints: [0, 3, 1, 2] }]);
    s.layout = 'nchw';
  }
}

function toNhwc(s: ExportState): void {
  if (s.layout === 'nchw') {
    s.cur = s.g.node('Transpose', [s.cur], 'to_nhwc', [{ name: 'perm', ints: [0, 2, 3, 1] }]);
    s.layout = 'nhwc';
  }
}

function weightsOf(layer: tf.layers.Layer): Float32Array[] {
  return layer.getWeights().map((w) => w.dataSync() as Float32Array);
}

function activation(s: ExportState, name: string, act: string | undefined, layerName: string): void {
  if (act === undefined || act === 'linear') return;
  if (act === 'relu') s.cur = s.g.node('Relu', [s.cur], `${name}_relu`);
  else if (act === 'softmax') {
    toNhwc(s);
    s.cur = s.g.node('Softmax', [s.cur], `${name}_softmax`, [{ name: 'axis', i: -1 }]);
  } else throw new InvalidInputError(`layer '${layerName}': activation '${act}' has no ONNX export here`, { field: layerName });
}

function padding(p: string, layerName: string): Attribute {
  if (p === 'same') return { name: 'auto_pad', s: 'SAME_UPPER' }; // TensorFlow's 'same' puts the odd pixel at the end
  if (p === 'valid') return { name: 'auto_pad', s: 'VALID' };
  throw new InvalidInputError(`layer '${layerName}': padding '${p}' has no ONNX export here`, { field: layerName });
}

function exportLayer(s: ExportState, layer: tf.layers.Layer): void {
  const className = layer.getClassName();
  const config = layer.getConfig() as Record<string, unknown>;
  const name = layer.name;
  switch (className) {
    case 'InputLayer':
    case 'Dropout':
      return;
    case 'Conv2D': {
      if (config.dataFormat !== undefined && config.dataFormat !== 'channelsLast') {
        throw new InvalidInputError(`layer '${name}': only channelsLast convolutions are exported`, { field: name });
      }
      const [kernel, bias] = weightsOf(layer);
      const [kh, kw] = pair(config.kernelSize as number | number[]);
      const outC = config.filters as number;
      const inC = kernel.length / (kh * kw * outC);
      // TensorFlow.js HWIO -> ONNX OIHW
      const oihw = new Float32Array(kernel.length);
      for (let y = 0; y < kh; y++)
        for (let x = 0; x < kw; x++)
          for (let i = 0; i < inC; i++) for (let o = 0; o < outC; o++) oihw[((o * inC + i) * kh + y) * kw + x] = kernel[((y * kw + x) * inC + i) * outC + o];
      toNchw(s);
      const inputs = [s.cur, s.g.constant(`${name}.kernel`, [outC, inC, kh, kw], oihw)];
      if (config.useBias !== false && bias) inputs.push(s.g.constant(`${name}.bias`, [outC], bias));
      s.cur = s.g.node('Conv', inputs, name, [
        { name: 'kernel_shape', ints: [kh, kw] },
        { name: 'strides', ints: pair((config.strides as number | number[]) ?? 1) },
        { name: 'dilations', ints: pair((config.dilationRate as number | number[]) ?? 1) },
        padding(config.padding as string, name),
      ]);
      activation(s, name, config.activation as string | undefined, name);
      return;
    }
    case 'BatchNormalization': {
      const axis = config.axis as number | number[];
      const ax = Array.isArray(axis) ? axis : [axis];
      if (ax.length !== 1 || (ax[0] !== -1 && ax[0] !== (s.layout === 'flat' ? 1 : 3))) {
        throw new InvalidInputError(`layer '${name}': only batch norm over the channel (last) axis is exported, got axis ${JSON.stringify(axis)}`, {
          field: name,
        });
      }
      const w = weightsOf(layer);
      const channels = w[w.length - 1].length;
      let k = 0;
      const gamma = config.scale === false ? new Float32Array(channels).fill(1) : w[k++];
      const beta = config.center === false ? new Float32Array(channels) : w[k++];
      const mean = w[k++];
      const variance = w[k++];
      toNchw(s);
      s.cur = s.g.node(
        'BatchNormalization',
        [
          s.cur,
          s.g.constant(`${name}.gamma`, [channels], gamma),
          s.g.constant(`${name}.beta`, [channels], beta),
          s.g.constant(`${name}.mean`, [channels], mean),
          s.g.constant(`${name}.variance`, [channels], variance),
        ],
        name,
        [{ name: 'epsilon', f: (config.epsilon as number | undefined) ?? 1e-3 }],
      );
      return;
    }
    case 'ReLU': {
      if (config.maxValue !== null && config.maxValue !== undefined)
        throw new InvalidInputError(`layer '${name}': ReLU with maxValue is not exported`, { field: name });
      s.cur = s.g.node('Relu', [s.cur], name);
      return;
    }
    case 'Activation':
      activation(s, name, config.activation as string, name);
      return;
    case 'MaxPooling2D': {
      toNchw(s);
      s.cur = s.g.node('MaxPool', [s.cur], name, [
        { name: 'kernel_shape', ints: pair(config.poolSize as number | number[]) },
        { name: 'strides', ints: pair((config.strides as number | number[] | null) ?? (config.poolSize as number | number[])) },
        padding(config.padding as string, name),
      ]);
      return;
    }
    case 'Flatten': {
      // TensorFlow.js flattens NHWC as (h, w, c): go back to NHWC first.
      toNhwc(s);
      s.cur = s.g.node('Flatten', [s.cur], name, [{ name: 'axis', i: 1 }]);
      s.layout = 'flat';
      return;
    }
    case 'Dense': {
      if (s.layout !== 'flat') throw new InvalidInputError(`layer '${name}': Dense on a non-flat input is not exported (add Flatten)`, { field: name });
      const [kernel, bias] = weightsOf(layer);
      const units = config.units as number;
      const inputs = [s.cur, s.g.constant(`${name}.kernel`, [kernel.length / units, units], kernel)];
      if (config.useBias !== false && bias) inputs.push(s.g.constant(`${name}.bias`, [units], bias));
      s.cur = s.g.node('Gemm', inputs, name);
      activation(s, name, config.activation as string | undefined, name);
      return;
    }
    default:
      throw new InvalidInputError(
        `layer '${name}' (${className}) has no ONNX export here`,
        { field: name },
        'the exporter handles Conv2D, BatchNormalization, ReLU, MaxPooling2D, Flatten, Dense, Dropout',
      );
  }
}

export interface OnnxExportOptions {
  producerVersion?: string;
  graphName?: string;
}

/** The ONNX ModelProto bytes of a full-precision tfjs model; input NHWC float32, output scores. */
export function exportOnnxModel(model: tf.LayersModel, options: OnnxExportOptions = {}): Uint8Array {
  const inputShape = model.inputs[0].shape;
  const outputShape = model.outputs[0].shape;
  if (inputShape.length !== 4 && inputShape.length !== 2) {
    throw new InvalidInputError(`model input has rank ${inputShape.length}; expected NHWC images (rank 4) or flat vectors (rank 2)`, { field: 'inputs[0]' });
  }
  const g = new GraphBuilder();
  const s: ExportState = { g, cur: ONNX_INPUT_NAME, layout: inputShape.length === 4 ? 'nhwc' : 'flat' };
  for (const layer of model.layers) exportLayer(s, layer);
  toNhwc(s);
  g.node('Identity', [s.cur], 'output', [], ONNX_OUTPUT_NAME);

  const dims = (shape: Array<number | null>): Array<number | string> =>
    shape.map((d, i) => (d === null || d === undefined ? (i === 0 ? 'batch' : `d${i}`) : d));
  return g.model(
    options.graphName ?? model.name ?? 'model',
    [[ONNX_INPUT_NAME, dims(inputShape)]],
    [[ONNX_OUTPUT_NAME, dims(outputShape)]],
    options.producerVersion,
  );
}
