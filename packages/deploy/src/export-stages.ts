import { defineStage } from '@cbnn/core';
import { exportC } from './export-c';
import { exportWeb } from './web-export';
import { exportCDescriptor, exportWebDescriptor } from './stage-descriptors';

/**
 * Pipeline stages that end in deployable artifacts: `export.c` (the C99 library) and
 * `export.web` (the static browser page), from a train.bnn output or a pruning.select output
 * (its chosen model).
 */

export const exportCStage = defineStage({
  ...exportCDescriptor,
  async run({ params, inputs, outDir, logger }) {
    const record = exportC(inputs.model, outDir, { force: true, cc: params.cc, cflags: params.cflags, measure: params.measure });
    logger.info({ flash: record.flash, ram: record.ram }, 'exported the C library');
    return {
      metrics: {
        ...(record.flash ? { flashBytes: record.flash.flashBytes } : {}),
        ramBytes: record.ram.totalBytes,
        constBytes: record.constBytes,
      },
    };
  },
});

export const exportWebStage = defineStage({
  ...exportWebDescriptor,
  async run({ params, inputs, outDir }) {
    const record = exportWeb(inputs.model, outDir, { force: true, dataset: inputs.dataset, split: params.split, images: params.images, title: params.title });
    return { metrics: { images: record.images.count, modelBytes: record.model.bytes } };
  },
});
