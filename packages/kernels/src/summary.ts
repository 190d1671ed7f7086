import { validateEngineModel, layerFileBytes, type EngineModel } from './model-format';

/**
 * A Larq-style summary of an engine model. Binary parameters are 1-bit weights; float
 * parameters are everything stored in 32 bits (real first-layer weights, folded thresholds
 * — one per output channel, the flip bit is folded into it — and output scale/bias).
 * MACs count every tap of a 3x3 window ('same' borders included), as Larq does.
 */
export interface LayerSummary {
  index: number;
  type: string;
  /** e.g. '28x28x64' or '512' */
  output: string;
  binaryParams: number;
  floatParams: number;
  binaryMacs: number;
  floatMacs: number;
  /** Bytes of this layer's arrays in the model file. */
  bytes: number;
}

export interface ModelSummary {
  layers: LayerSummary[];
  totals: Omit<LayerSummary, 'index' | 'type' | 'output'>;
  /** The same parameters stored as float32: what a full-precision copy would weigh. */
  float32EquivalentBytes: number;
  /** float32EquivalentBytes / totals.bytes */
  compression: number;
}

export function summary(model: EngineModel): ModelSummary {
  const shapes = validateEngineModel(model);
  const layers: LayerSummary[] = model.layers.map((layer, index) => {
    const out = shapes[index];
    const pixels = out.height * out.width;
    const bytes = layerFileBytes(layer);
    const base = {
      index,
      type: layer.type,
      output: layer.type === 'dense' || layer.type === 'dense_out' ? `${out.channels}` : `${out.height}x${out.width}x${out.channels}`,
      bytes,
    };
    switch (layer.type) {
      case 'conv':
        return { ...base, binaryParams: layer.outC * 9 * layer.inC, floatParams: layer.outC, binaryMacs: pixels * layer.outC * 9 * layer.inC, floatMacs: 0 };
      case 'conv_real':
        return {
          ...base,
          binaryParams: 0,
          floatParams: layer.outC * 9 * layer.inC + 2 * layer.outC,
          binaryMacs: 0,
          floatMacs: pixels * layer.outC * 9 * layer.inC,
        };
      case 'maxpool2':
        return { ...base, binaryParams: 0, floatParams: 0, binaryMacs: 0, floatMacs: 0 };
      case 'dense':
        return { ...base, binaryParams: layer.outC * layer.inBits, floatParams: layer.outC, binaryMacs: layer.outC * layer.inBits, floatMacs: 0 };
      case 'dense_out':
        return { ...base, binaryParams: layer.outC * layer.inBits, floatParams: 2 * layer.outC, binaryMacs: layer.outC * layer.inBits, floatMacs: layer.outC };
    }
  });
  const totals = { binaryParams: 0, floatParams: 0, binaryMacs: 0, floatMacs: 0, bytes: 0 };
  for (const l of layers) {
    totals.binaryParams += l.binaryParams;
    totals.floatParams += l.floatParams;
    totals.binaryMacs += l.binaryMacs;
    totals.floatMacs += l.floatMacs;
    totals.bytes += l.bytes;
  }
  const float32EquivalentBytes = 4 * (totals.binaryParams + totals.floatParams);
  return { layers, totals, float32EquivalentBytes, compression: totals.bytes > 0 ? float32EquivalentBytes / totals.bytes : 0 };
}

/** A fixed-width text table of the summary. */
export function formatSummary(s: ModelSummary): string {
  const head = ['#', 'layer', 'output', 'binary params', 'float params', 'binary MACs', 'float MACs', 'bytes'];
  const rows = s.layers.map((l) => [String(l.index), l.type, l.output, n(l.binaryParams), n(l.floatParams), n(l.binaryMacs), n(l.floatMacs), n(l.bytes)]);
  rows.push(['', 'total', '', n(s.totals.binaryParams), n(s.totals.floatParams), n(s.totals.binaryMacs), n(s.totals.floatMacs), n(s.totals.bytes)]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]): string => r.map((c, i) => (i < 3 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [
    line(head),
    ...rows.map(line),
    `float32-equivalent size: ${n(s.float32EquivalentBytes)} bytes (${s.compression.toFixed(1)}x the engine model's ${n(s.totals.bytes)} bytes)`,
  ].join('\n');
}

function n(x: number): string {
  return x.toLocaleString('en-US');
}
