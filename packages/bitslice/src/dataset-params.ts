import { z } from 'zod';
import { DATASET_SOURCE_NAMES } from './sources';

const fraction = z.number().min(0).lt(1);

/** Params of `bitslice.dataset` (and of `buildDataset`). `paths` is validated by the source. */
export const datasetParamsSchema = z
  .object({
    source: z.enum(DATASET_SOURCE_NAMES as [string, ...string[]]).default('mnist'),
    /** Source-specific inputs: `{dir}` (mnist, fashion-mnist, cifar10), IDX file paths, ... */
    paths: z.record(z.string(), z.unknown()).optional(),
    /** Split seed; default: the stage seed given by the runner. */
    seed: z.number().int().min(0).max(0xffffffff).optional(),
    fractions: z
      .object({
        /** Of the training pool, after the test split is taken. */
        validation: fraction.default(0.1),
        /** Of all records; only without a canonical test split. Default: the source's. */
        test: fraction.optional(),
      })
      .strict()
      .default({ validation: 0.1 }),
    /** Use the source's canonical test split when it has one (false: pool everything and split). */
    canonicalTest: z.boolean().default(true),
    /** Subsample (stratified) for smoke tests. */
    limit: z.object({ total: z.number().int().positive().optional(), perClass: z.number().int().positive().optional() }).strict().optional(),
    /** The stage fails if more than this fraction of the records read is malformed. */
    maxMalformedFraction: z.number().min(0).max(1).default(0.01),
  })
  .strict();

export type DatasetParams = z.output<typeof datasetParamsSchema>;
export type DatasetParamsInput = z.input<typeof datasetParamsSchema>;
