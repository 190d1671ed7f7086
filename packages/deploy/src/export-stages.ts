import { defineStage } from '@cbnn/core';
import { z } from 'zod';
import { exportC } from './export-c';
import { exportWeb } from './web-export';

/**
 * Pipeline stages that end in deployable artifacts: `export.c` (the C99 library) and
 * `export.web` (the static browser page), from a train.bnn output or a pruning.select output
 * (its chosen model).
 */
const modelInput = {
  kind: ['model.bnn', 'search'] as const,
  description: 'the binary model: a train.bnn output, or a pruning.select output (its chosen/ model)',
};

export const exportCStage = defineStage({
  name: 'export.c',
  version: 1,
  description: 'C99 library of the model for microcontrollers (model.h, model.c, main.c), with flash and RAM bytes',
  params: z
    .object({
      /** Compiler for the flash measurement (default: $CC, cc, gcc or clang); a cross compiler measures its target. */
      cc: z.string().min(1).optional(),
      cflags: z.array(z.string()).optional(),
      measure: z.boolean().default(true),
    })
    .strict(),
  inputs: { model: modelInput },
  output: 'files',
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
  name: 'export.web',
  version: 1,
  description: 'static browser page running the model on the engine\'s wasm (index.html, engine.js, kernels.wasm, model.cbnn)',
  params: z
    .object({
      images: z.number().int().min(0).max(1000).default(40),
      split: z.enum(['train', 'validation', 'test']).default('test'),
      title: z.string().min(1).optional(),
    })
    .strict(),
  inputs: { model: modelInput, dataset: { kind: 'dataset', optional: true, description: 'bundles test images from it' } },
  output: 'files',
  async run({ params, inputs, outDir }) {
    const record = exportWeb(inputs.model, outDir, { force: true, dataset: inputs.dataset, split: params.split, images: params.images, title: params.title });
    return { metrics: { images: record.images.count, modelBytes: record.model.bytes } };
  },
});
