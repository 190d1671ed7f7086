import { defineStageDescriptor } from '@cbnn/core';
import { datasetParamsSchema } from './dataset-params';

// The light half of bitslice's stage (`@cbnn/bitslice/stage-descriptors`): what the pipeline
// loader, `status` and `dag` need. dataset-stage.ts adds `run`.

export const bitsliceDatasetDescriptor = defineStageDescriptor({
  name: 'bitslice.dataset',
  version: 1,
  description: 'Load and validate a dataset source, split it (stratified, seeded) and store it as uint8 NHWC',
  params: datasetParamsSchema,
  inputs: {},
  output: 'dataset',
});
