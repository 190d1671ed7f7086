import { z } from 'zod';
import { defineStageDescriptor } from '@cbnn/core';

// The light half of the deploy stages (`@cbnn/deploy/stage-descriptors`): what the pipeline
// loader, `status` and `dag` need. export-stages.ts adds `run`.

const modelInput = {
  kind: ['model.bnn', 'search'] as const,
  description: 'the binary model: a train.bnn output, or a pruning.select output (its chosen/ model)',
};

export const exportCDescriptor = defineStageDescriptor({
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
});

export const exportWebDescriptor = defineStageDescriptor({
  name: 'export.web',
  version: 1,
  description: "static browser page running the model on the engine's wasm (index.html, engine.js, kernels.wasm, model.cbnn)",
  params: z
    .object({
      images: z.number().int().min(0).max(1000).default(40),
      split: z.enum(['train', 'validation', 'test']).default('test'),
      title: z.string().min(1).optional(),
    })
    .strict(),
  inputs: { model: modelInput, dataset: { kind: 'dataset', optional: true, description: 'bundles test images from it' } },
  output: 'files',
});
