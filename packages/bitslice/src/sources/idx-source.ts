import * as path from 'node:path';
import { InvalidInputError, sha256Hex } from '@cbnn/core';
import { z } from 'zod';
import { readIdxFile } from './idx-file';
import { DIGIT_CLASS_NAMES, FASHION_CLASS_NAMES } from './npm-package';
import { RecordSetBuilder, type RecordSet } from './record-set';
import { defineSource, type SourceLoadContext } from './source';

const CLASS_NAME_PRESETS = { digits: DIGIT_CLASS_NAMES, fashion: FASHION_CLASS_NAMES } as const;

/**
 * The original MNIST / Fashion-MNIST IDX files (plain or gzip) with their canonical train/test
 * split. Class names come from `classes` (a preset or a list; its length is the class count,
 * and a label outside it makes the record malformed).
 */
export const idxSource = defineSource({
  name: 'idx',
  description: 'IDX image and label files (MNIST, Fashion-MNIST), plain or gzip, canonical train/test split',
  pathsSchema: z
    .object({
      trainImages: z.string().min(1),
      trainLabels: z.string().min(1),
      testImages: z.string().min(1).optional(),
      testLabels: z.string().min(1).optional(),
      classes: z.union([z.enum(['digits', 'fashion']), z.array(z.string().min(1)).min(2).max(256)]).default('digits'),
    })
    .strict()
    .refine((p) => (p.testImages === undefined) === (p.testLabels === undefined), {
      message: 'give both testImages and testLabels, or neither',
    }),
  load(paths, ctx) {
    const classNames = typeof paths.classes === 'string' ? [...CLASS_NAME_PRESETS[paths.classes]] : paths.classes;
    const files: string[] = [];
    let examined = 0;
    let shape: { height: number; width: number } | undefined;
    const totalFiles = paths.testImages ? 4 : 2;
    const readPair = (imagesFile: string, labelsFile: string, done: number): RecordSet => {
      ctx.signal?.throwIfAborted();
      const images = readIdxFile(imagesFile, 'images');
      const labels = readIdxFile(labelsFile, 'labels');
      files.push(images.fingerprint, labels.fingerprint);
      const [count, height, width] = images.dims;
      if (labels.dims[0] !== count) {
        throw new InvalidInputError(`${labels.dims[0]} labels for ${count} images in ${imagesFile}; expected one label per image`, { file: labelsFile });
      }
      if (shape && (shape.height !== height || shape.width !== width)) {
        throw new InvalidInputError(`images are ${height}x${width}, but the training images are ${shape.height}x${shape.width}`, { file: imagesFile });
      }
      shape = { height, width };
      examined += count;
      ctx.onFile?.(imagesFile, done, totalFiles);
      return collect(images.data, labels.data, count, height * width, classNames.length, labelsFile, ctx);
    };
    const train = readPair(paths.trainImages, paths.trainLabels, 2);
    const test = paths.testImages && paths.testLabels ? readPair(paths.testImages, paths.testLabels, 4) : undefined;
    const { height, width } = shape!;
    return {
      name: 'idx',
      version: `files-sha256:${sha256Hex(files.join('\n')).slice(0, 16)}`,
      description: 'IDX image and label files',
      files,
      shape: { height, width, channels: 1 },
      channelNames: ['grey'],
      classNames,
      train,
      test,
      defaultTestFraction: 0.2,
      examined,
    };
  },
});

function collect(
  pixels: Uint8Array,
  labels: Uint8Array,
  count: number,
  imageSize: number,
  classCount: number,
  labelsFile: string,
  ctx: SourceLoadContext,
): RecordSet {
  const builder = new RecordSetBuilder(imageSize, count);
  for (let i = 0; i < count; i++) {
    const label = labels[i];
    if (label >= classCount) {
      ctx.malformed.add(path.basename(labelsFile), i, `label ${label} is outside the ${classCount} classes (0..${classCount - 1})`);
      continue;
    }
    builder.next().set(pixels.subarray(i * imageSize, (i + 1) * imageSize));
    builder.commit(label);
  }
  return builder.finish();
}
