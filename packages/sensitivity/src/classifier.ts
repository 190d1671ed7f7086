import { wordsForChannels, type PlaneLayout } from '@cbnn/core';
import { packPixelPlanes } from './plane-packing';

/**
 * What sensitivity analysis needs from a model: given `count` packed images (the layout of
 * `input`), the predicted class of each. The kernels engine's `predict` is one; tests use others.
 */
export type PackedClassifier = (packedInput: Uint32Array, count: number) => ArrayLike<number>;

export interface ClassifierInput {
  height: number;
  width: number;
  /** Dataset channels, in dataset order (pixel bytes are interleaved in this order). */
  channelNames: string[];
  /** The planes the model reads, in feature order. */
  layout: PlaneLayout;
}

export interface AccuracyOptions {
  batchSize?: number;
  signal?: AbortSignal;
}

/** Fraction of `labels` the classifier predicts, packing `images` batch by batch. */
export function classifierAccuracy(
  classify: PackedClassifier,
  input: ClassifierInput,
  images: Uint8Array,
  labels: Uint8Array,
  options: AccuracyOptions = {},
): number {
  const count = labels.length;
  if (count === 0) throw new Error('accuracy of an empty split is undefined');
  const channels = input.channelNames.length;
  const pixelsPerImage = input.height * input.width;
  const imageBytes = pixelsPerImage * channels;
  if (images.length !== count * imageBytes) {
    throw new Error(`classifierAccuracy: ${images.length} pixel bytes for ${count} images of ${input.height}x${input.width}x${channels}`);
  }
  const batchSize = Math.max(1, options.batchSize ?? 256);
  const words = wordsForChannels(input.layout.planes.length);
  const packed = new Uint32Array(batchSize * pixelsPerImage * words);
  let correct = 0;
  for (let start = 0; start < count; start += batchSize) {
    options.signal?.throwIfAborted();
    const n = Math.min(batchSize, count - start);
    const batch = images.subarray(start * imageBytes, (start + n) * imageBytes);
    packPixelPlanes(batch, n * pixelsPerImage, channels, input.layout, packed);
    const predicted = classify(packed.subarray(0, n * pixelsPerImage * words), n);
    if (predicted.length < n) throw new Error(`classifier returned ${predicted.length} predictions for ${n} images`);
    for (let i = 0; i < n; i++) if (predicted[i] === labels[start + i]) correct++;
  }
  return correct / count;
}
