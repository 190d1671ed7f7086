import { InvalidInputError, wordsForChannels } from '@cbnn/core';
import type { EngineLayer, EngineModel } from '@cbnn/kernels';

/**
 * The one place that knows how `model.cbnn` lays out binary weights in memory. Every exporter
 * reads weights through this unpacked view and re-packs them for its own target, so a change of
 * the engine's packing (e.g. of the first layer) only needs this adapter updated.
 *
 * A bit is 1 for a +1 weight and 0 for -1 (docs/contracts.md). For a conv layer `tap` is
 * `dy*3 + dx` of the 3x3 window and `inChannel` the input channel; for a dense layer `tap` is 0
 * and `inChannel` the index into the flattened `(h*W + w)*C + c` input.
 */
export interface LayerBits {
  /** 9 for a 3x3 conv, 1 for a dense layer. */
  readonly taps: number;
  readonly inChannels: number;
  readonly outChannels: number;
  bit(out: number, tap: number, inChannel: number): 0 | 1;
}

export type BinaryLayer = Extract<EngineLayer, { type: 'conv' | 'dense' | 'dense_out' }>;

export function isBinaryLayer(layer: EngineLayer): layer is BinaryLayer {
  return layer.type === 'conv' || layer.type === 'dense' || layer.type === 'dense_out';
}

export function layerBits(layer: BinaryLayer): LayerBits {
  // conv: [outC][3][3][words(inC)]; dense and dense_out: [outC][words(inBits)] (one "tap").
  const [taps, inChannels] = layer.type === 'conv' ? [9, layer.inC] : [1, layer.inBits];
  const words = wordsForChannels(inChannels);
  const w = layer.weights;
  // A packing this adapter does not know must fail here, not be read as the wrong bits.
  if (w.length !== layer.outC * taps * words) {
    throw new Error(
      `layerBits: ${layer.type} weights have ${w.length} words, expected ${layer.outC} x ${taps} x ${words} (an in-memory packing this adapter does not know)`,
    );
  }
  return {
    taps,
    inChannels,
    outChannels: layer.outC,
    bit: (o, t, c) => ((w[(o * taps + t) * words + (c >>> 5)] >>> (c & 31)) & 1) as 0 | 1,
  };
}

/**
 * Re-pack a layer's weights as one dense bit row per output: bit `tap*inChannels + inChannel`
 * of row `out`, 32 per little-endian word, padding bits 0. For a conv this is the im2col order
 * (the 9 taps of a window side by side), so a narrow input such as one kept plane fills whole
 * words instead of one bit per word.
 */
export function packRows(bits: LayerBits): { rowBits: number; rowWords: number; words: Uint32Array } {
  const rowBits = bits.taps * bits.inChannels;
  const rowWords = wordsForChannels(rowBits);
  const words = new Uint32Array(bits.outChannels * rowWords);
  for (let o = 0; o < bits.outChannels; o++) {
    for (let t = 0; t < bits.taps; t++) {
      for (let c = 0; c < bits.inChannels; c++) {
        if (bits.bit(o, t, c)) {
          const i = t * bits.inChannels + c;
          words[o * rowWords + (i >>> 5)] |= 1 << (i & 31);
        }
      }
    }
  }
  return { rowBits, rowWords, words };
}

/** A clear refusal for a layer an exporter cannot emit, naming it by index and type. */
export function unsupportedLayer(model: EngineModel, index: number, target: string, why: string, file?: string): never {
  const layer = model.layers[index];
  throw new InvalidInputError(
    `layer ${index} ('${layer.type}') cannot be exported to ${target}: ${why}`,
    { file, field: `layers[${index}]` },
    layer.type === 'conv_real' ? 'train the model with a binary first layer (the default) to export it to C' : undefined,
  );
}
