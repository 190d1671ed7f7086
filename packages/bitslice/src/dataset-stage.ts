import { defineStage } from '@cbnn/core';
import { buildDataset } from './build-dataset';
import { bitsliceDatasetDescriptor } from './stage-descriptors';

/** `bitslice.dataset`: a source → the dataset artifact (uint8 NHWC + labels + manifest). */
export const bitsliceDatasetStage = defineStage({
  ...bitsliceDatasetDescriptor,
  async run(ctx) {
    const manifest = buildDataset(ctx.outDir, ctx.params, {
      logger: ctx.logger,
      signal: ctx.signal,
      seed: ctx.seed,
      onProgress: (message, current, total) => ctx.progress.update({ current, total, unit: 'file', message }),
    });
    const { train, validation, test } = manifest.splits;
    return {
      metrics: {
        source: `${manifest.source.name}@${manifest.source.version}`,
        train: train.count,
        validation: validation.count,
        test: test.count,
        malformed: manifest.malformed.count,
      },
    };
  },
});
