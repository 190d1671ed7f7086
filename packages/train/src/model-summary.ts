import * as tf from '@tensorflow/tfjs';
import { isQuantizedKernelLayer } from './quant-layers';

/** Parameter counts and memory of a model, split into binary (1 bit) and float (32 bit) weights. */
export interface LayerSummary {
  name: string;
  className: string;
  outputShape: string;
  binaryParams: number;
  floatParams: number;
}

export interface ModelSummary {
  layers: LayerSummary[];
  params: { binary: number; float: number };
  /** Memory of the weights: binary packed at 1 bit, float at 4 bytes (BN moving stats included). */
  bytes: { packed: number; float32: number };
}

export function summarizeModel(model: tf.LayersModel): ModelSummary {
  const layers: LayerSummary[] = model.layers.map((layer) => {
    let binary = 0;
    let float = 0;
    for (const w of layer.weights) {
      const n = w.shape.reduce((a: number, b) => a * (b as number), 1);
      const isBinaryKernel = isQuantizedKernelLayer(layer) && layer.quant.kernelQuantizer !== null && w === layer.latentKernel();
      if (isBinaryKernel) binary += n;
      else float += n;
    }
    const shape = layer.outputShape as (number | null)[];
    return {
      name: layer.name,
      className: layer.getClassName(),
      outputShape: `[${shape.map((d) => (d === null ? 'N' : d)).join(', ')}]`,
      binaryParams: binary,
      floatParams: float,
    };
  });
  const binary = layers.reduce((a, l) => a + l.binaryParams, 0);
  const float = layers.reduce((a, l) => a + l.floatParams, 0);
  return { layers, params: { binary, float }, bytes: { packed: Math.ceil(binary / 8) + float * 4, float32: (binary + float) * 4 } };
}

/** A Keras-style table: layer, output shape, binary and float params, then totals and memory. */
export function formatSummary(summary: ModelSummary): string {
  const rows = [['Layer (type)', 'Output shape', 'Binary params', 'Float params']];
  for (const l of summary.layers) rows.push([`${l.name} (${l.className})`, l.outputShape, String(l.binaryParams), String(l.floatParams)]);
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const line = (r: string[]) => r.map((cell, c) => (c < 2 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
  const rule = '-'.repeat(widths.reduce((a, b) => a + b + 2, -2));
  const kib = (n: number) => `${(n / 1024).toFixed(2)} KiB`;
  return [
    line(rows[0]),
    rule,
    ...rows.slice(1).map(line),
    rule,
    `Total params: ${summary.params.binary + summary.params.float} (binary ${summary.params.binary}, float ${summary.params.float})`,
    `Memory: ${kib(summary.bytes.packed)} packed (binary weights at 1 bit), ${kib(summary.bytes.float32)} all float32`,
  ].join('\n');
}
