import { wordsForChannels } from '@cbnn/core';
import type { ActivationShape, ConvLayer, ConvRealLayer, DenseLayer, DenseOutLayer, EngineModel } from './model-format';
import { validateEngineModel } from './model-format';

/**
 * The steps the engine runs for a model, with the size of every intermediate buffer per item.
 * Buffer 0 is the packed input; step i reads buffer i and writes buffer i+1. Both runners
 * (reference and wasm) execute the same plan.
 */
export type PlanStep =
  | { op: 'conv'; layer: ConvLayer; input: ActivationShape; outWords: number }
  | { op: 'conv_real'; layer: ConvRealLayer; input: ActivationShape; outWords: number }
  | { op: 'maxpool2'; input: ActivationShape; outWords: number }
  | { op: 'flatten'; pixels: number; channels: number; outWords: number }
  | { op: 'dense'; layer: DenseLayer; outWords: number }
  | { op: 'dense_out'; layer: DenseOutLayer; outFloats: number };

export interface EnginePlan {
  inputWords: number;
  steps: PlanStep[];
  classes: number;
}

const pixelsOf = (s: ActivationShape): number => s.height * s.width;

export function buildPlan(model: EngineModel): EnginePlan {
  const shapes = validateEngineModel(model);
  const first: ActivationShape = { height: model.input.height, width: model.input.width, channels: model.input.features };
  const steps: PlanStep[] = [];
  let shape = first;
  // Spatial activations keep words(C) per pixel; the flat bit vector of a dense layer packs
  // (h*W + w)*C + c contiguously. The two agree when C % 32 == 0 or there is one pixel.
  let flat = false;
  model.layers.forEach((layer, i) => {
    const next = shapes[i];
    switch (layer.type) {
      case 'conv':
      case 'conv_real':
        steps.push({ op: layer.type, layer, input: shape, outWords: pixelsOf(next) * wordsForChannels(next.channels) } as PlanStep);
        break;
      case 'maxpool2':
        steps.push({ op: 'maxpool2', input: shape, outWords: pixelsOf(next) * wordsForChannels(next.channels) });
        break;
      case 'dense':
      case 'dense_out':
        if (!flat && shape.channels % 32 !== 0 && pixelsOf(shape) > 1) {
          steps.push({ op: 'flatten', pixels: pixelsOf(shape), channels: shape.channels, outWords: wordsForChannels(layer.inBits) });
        }
        flat = true;
        if (layer.type === 'dense') steps.push({ op: 'dense', layer, outWords: wordsForChannels(layer.outC) });
        else steps.push({ op: 'dense_out', layer, outFloats: layer.outC });
        break;
    }
    shape = next;
  });
  return { inputWords: pixelsOf(first) * wordsForChannels(first.channels), steps, classes: model.classNames.length };
}
