import { createRng, wordsForChannels, type PlaneLayout, type Rng } from '@cbnn/core';
import type { EngineLayer, EngineModel, Padding } from './model-format';

/**
 * Models with random weights, for tests and benchmarks (not for inference of anything real).
 * Thresholds are drawn around 0 so activations are neither all ones nor all zeros.
 */
export type LayerSpec =
  | { type: 'conv'; outC: number; padding: Padding }
  | { type: 'conv_real'; outC: number; padding: Padding }
  | { type: 'maxpool2' }
  | { type: 'dense'; outC: number };

export interface RandomModelOptions {
  height: number;
  width: number;
  features: number;
  classes: number;
  /** Hidden layers; a `dense_out` with `classes` outputs is appended. */
  layers: LayerSpec[];
  seed?: number;
}

export function greyLayout(features: number): PlaneLayout {
  return {
    channels: ['grey'],
    planes: Array.from({ length: features }, (_, i) => ({ channel: 'grey', channelIndex: 0, bit: 7 - (i % 8) })),
  };
}

export function randomPackedWeights(rng: Rng, rows: number, bits: number): Uint32Array {
  const words = wordsForChannels(bits);
  const out = new Uint32Array(rows * words);
  for (let i = 0; i < out.length; i++) out[i] = rng.nextU32();
  const rem = bits % 32;
  if (rem !== 0) {
    const keep = (1 << rem) - 1;
    for (let g = words - 1; g < out.length; g += words) out[g] &= keep;
  }
  return out;
}

function randomThresholds(rng: Rng, outC: number, span: number): { thresholds: Int32Array; flip: Uint8Array } {
  const thresholds = new Int32Array(outC);
  const flip = new Uint8Array(outC);
  const s = Math.max(1, Math.round(Math.sqrt(span)));
  for (let o = 0; o < outC; o++) {
    thresholds[o] = rng.int(2 * s + 1) - s;
    flip[o] = rng.int(4) === 0 ? 1 : 0;
  }
  return { thresholds, flip };
}

function randomFloats(rng: Rng, n: number, lo: number, hi: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * rng.nextFloat();
  return out;
}

export function randomEngineModel(options: RandomModelOptions): EngineModel {
  const rng = createRng(options.seed ?? 1);
  let h = options.height;
  let w = options.width;
  let c = options.features;
  let flat = false;
  const layers: EngineLayer[] = [];
  const bitsIn = (): number => (flat ? c : h * w * c);
  for (const spec of options.layers) {
    switch (spec.type) {
      case 'conv':
        layers.push({
          type: 'conv',
          inC: c,
          outC: spec.outC,
          padding: spec.padding,
          weights: randomPackedWeights(rng, spec.outC * 9, c),
          ...randomThresholds(rng, spec.outC, 9 * c),
        });
        break;
      case 'conv_real':
        layers.push({
          type: 'conv_real',
          inC: c,
          outC: spec.outC,
          padding: spec.padding,
          weights: randomFloats(rng, spec.outC * 9 * c, -1, 1),
          scale: randomFloats(rng, spec.outC, -1, 1),
          bias: randomFloats(rng, spec.outC, -1, 1),
        });
        break;
      case 'maxpool2':
        layers.push({ type: 'maxpool2' });
        break;
      case 'dense': {
        const inBits = bitsIn();
        layers.push({
          type: 'dense',
          inBits,
          outC: spec.outC,
          weights: randomPackedWeights(rng, spec.outC, inBits),
          ...randomThresholds(rng, spec.outC, inBits),
        });
        flat = true;
        break;
      }
    }
    if (spec.type === 'conv' || spec.type === 'conv_real') {
      if (spec.padding === 'valid') {
        h -= 2;
        w -= 2;
      }
      c = spec.outC;
    } else if (spec.type === 'maxpool2') {
      h = Math.floor(h / 2);
      w = Math.floor(w / 2);
    } else {
      c = spec.outC;
      h = 1;
      w = 1;
    }
  }
  const inBits = bitsIn();
  layers.push({
    type: 'dense_out',
    inBits,
    outC: options.classes,
    weights: randomPackedWeights(rng, options.classes, inBits),
    scale: randomFloats(rng, options.classes, 0.01, 0.1),
    bias: randomFloats(rng, options.classes, -0.5, 0.5),
  });
  return {
    input: { height: options.height, width: options.width, layout: greyLayout(options.features), features: options.features },
    classNames: Array.from({ length: options.classes }, (_, i) => `class${i}`),
    layers,
  };
}

/** Layer specs of VGG-small (docs/contracts.md) at width multiplier `width`. */
export function vggSmallLayers(width: number): LayerSpec[] {
  const ch = (n: number): number => Math.max(1, Math.round(n * width));
  return [
    { type: 'conv', outC: ch(64), padding: 'same' },
    { type: 'conv', outC: ch(64), padding: 'same' },
    { type: 'maxpool2' },
    { type: 'conv', outC: ch(128), padding: 'same' },
    { type: 'conv', outC: ch(128), padding: 'same' },
    { type: 'maxpool2' },
    { type: 'dense', outC: ch(512) },
  ];
}
