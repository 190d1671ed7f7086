import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { readArtifactFile, writeArtifactFile } from './artifact-header';
import { writeJsonAtomicSync, sha256Hex } from './atomic-file';
import { CorruptArtifactError } from './errors';
import { readJsonFile } from './validation';

/**
 * The dataset artifact: a folder with
 *   dataset.json  the manifest below
 *   images.bin    artifact 'DSET' v1: N*H*W*C uint8 pixels, channels innermost (NHWC)
 *   labels.bin    artifact 'LABL' v1: N uint8 class indices
 * Records are stored grouped by split, in the order train, validation, test; each split's
 * `offset` and `count` locate it.
 */
export const DATASET_MANIFEST = 'dataset.json';
export const DATASET_IMAGES = 'images.bin';
export const DATASET_LABELS = 'labels.bin';
export const DATASET_FORMAT_VERSION = 1;
/** The artifact kind and version of images.bin and labels.bin. */
export const DATASET_IMAGES_ARTIFACT = { kind: 'DSET', version: 1 } as const;
export const DATASET_LABELS_ARTIFACT = { kind: 'LABL', version: 1 } as const;
export const SPLIT_NAMES = ['train', 'validation', 'test'] as const;
export type SplitName = (typeof SPLIT_NAMES)[number];

const splitSchema = z.object({
  offset: z.number().int().min(0),
  count: z.number().int().min(0),
  perClass: z.array(z.number().int().min(0)),
});

export const malformedRecordSchema = z.object({
  file: z.string().optional(),
  index: z.number().int(),
  reason: z.string(),
});
export type MalformedRecord = z.infer<typeof malformedRecordSchema>;

export const datasetManifestSchema = z.object({
  format: z.literal('cbnn.dataset'),
  formatVersion: z.literal(DATASET_FORMAT_VERSION),
  source: z.object({
    name: z.string(),
    version: z.string(),
    description: z.string().optional(),
    files: z.array(z.string()).optional(),
  }),
  shape: z.object({ height: z.number().int().positive(), width: z.number().int().positive(), channels: z.number().int().positive() }),
  channelNames: z.array(z.string()),
  classNames: z.array(z.string()).min(2),
  splits: z.object({ train: splitSchema, validation: splitSchema, test: splitSchema }),
  /** How the splits were made, e.g. 'canonical test split; stratified validation 10%'. */
  splitMethod: z.string(),
  seed: z.number().int(),
  malformed: z.object({
    count: z.number().int().min(0),
    /** The first records excluded, with the reason (the full count is in `count`). */
    records: z.array(malformedRecordSchema),
  }),
  imagesSha256: z.string(),
  labelsSha256: z.string(),
});
export type DatasetManifest = z.infer<typeof datasetManifestSchema>;

export interface DatasetSplit {
  name: SplitName;
  count: number;
  /** count*H*W*C pixels (a view into the dataset's buffer). */
  images: Uint8Array;
  labels: Uint8Array;
}

export interface Dataset {
  dir: string;
  manifest: DatasetManifest;
  images: Uint8Array;
  labels: Uint8Array;
  /** H*W*C */
  imageSize: number;
  split(name: SplitName): DatasetSplit;
}

export function writeDataset(
  dir: string,
  manifest: Omit<DatasetManifest, 'format' | 'formatVersion' | 'imagesSha256' | 'labelsSha256'>,
  images: Uint8Array,
  labels: Uint8Array,
): DatasetManifest {
  const { height, width, channels } = manifest.shape;
  const total = manifest.splits.train.count + manifest.splits.validation.count + manifest.splits.test.count;
  if (labels.length !== total || images.length !== total * height * width * channels) {
    throw new Error(`writeDataset: ${labels.length} labels / ${images.length} pixels do not match ${total} records of ${height}x${width}x${channels}`);
  }
  fs.mkdirSync(dir, { recursive: true });
  writeArtifactFile(path.join(dir, DATASET_IMAGES), DATASET_IMAGES_ARTIFACT.kind, DATASET_IMAGES_ARTIFACT.version, images);
  writeArtifactFile(path.join(dir, DATASET_LABELS), DATASET_LABELS_ARTIFACT.kind, DATASET_LABELS_ARTIFACT.version, labels);
  return writeDatasetManifest(dir, manifest, sha256Hex(images), sha256Hex(labels));
}

/**
 * The manifest, written last: for a writer that streamed images.bin itself (an
 * ArtifactFileWriter of kind 'DSET' v1) and wrote labels.bin, and knows both payloads' SHA-256.
 */
export function writeDatasetManifest(
  dir: string,
  manifest: Omit<DatasetManifest, 'format' | 'formatVersion' | 'imagesSha256' | 'labelsSha256'>,
  imagesSha256: string,
  labelsSha256: string,
): DatasetManifest {
  const full: DatasetManifest = { format: 'cbnn.dataset', formatVersion: DATASET_FORMAT_VERSION, ...manifest, imagesSha256, labelsSha256 };
  writeJsonAtomicSync(path.join(dir, DATASET_MANIFEST), full);
  return full;
}

export function readDatasetManifest(dir: string): DatasetManifest {
  return readJsonFile(path.join(dir, DATASET_MANIFEST), datasetManifestSchema, 'dataset manifest', 'is this a bitslice.dataset output?');
}

/** Load a dataset artifact, checking both files' headers and checksums against the manifest. */
export function readDataset(dir: string): Dataset {
  const manifest = readDatasetManifest(dir);
  const imagesFile = path.join(dir, DATASET_IMAGES);
  const labelsFile = path.join(dir, DATASET_LABELS);
  const images = readArtifactFile(imagesFile, { kind: 'DSET', versions: [1] });
  const labels = readArtifactFile(labelsFile, { kind: 'LABL', versions: [1] });
  if (images.header.sha256 !== manifest.imagesSha256) throw new CorruptArtifactError('images do not match the manifest checksum', imagesFile);
  if (labels.header.sha256 !== manifest.labelsSha256) throw new CorruptArtifactError('labels do not match the manifest checksum', labelsFile);
  const { height, width, channels } = manifest.shape;
  const imageSize = height * width * channels;
  const total = manifest.splits.train.count + manifest.splits.validation.count + manifest.splits.test.count;
  if (labels.payload.length !== total || images.payload.length !== total * imageSize) {
    throw new CorruptArtifactError(`record counts do not match the manifest (${total} records of ${imageSize} bytes)`, imagesFile);
  }
  return {
    dir,
    manifest,
    images: images.payload,
    labels: labels.payload,
    imageSize,
    split(name: SplitName): DatasetSplit {
      const s = manifest.splits[name];
      return {
        name,
        count: s.count,
        images: images.payload.subarray(s.offset * imageSize, (s.offset + s.count) * imageSize),
        labels: labels.payload.subarray(s.offset, s.offset + s.count),
      };
    },
  };
}
