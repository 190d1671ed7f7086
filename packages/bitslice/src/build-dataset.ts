import * as fs from 'node:fs';
import * as path from 'node:path';
import { InvalidInputError, parseOrThrow, sha256Hex, silentLogger, writeDataset, type DatasetManifest, type Logger, type SplitName } from '@cbnn/core';
import { datasetParamsSchema, type DatasetParams, type DatasetParamsInput } from './dataset-params';
import { assignSplits, type RecordRef } from './splits';
import { DATASET_SOURCES } from './sources';
import { MalformedRecords } from './sources/malformed-records';
import type { LoadedSource } from './sources/source';

/** Beside the dataset, for sources of many files: each file used with its SHA-256 (`sha256sum -c` reads it). */
export const DATASET_FILE_LIST = 'files.txt';

export interface BuildContext {
  logger?: Logger;
  signal?: AbortSignal;
  /** Seed used when params give none (the stage seed). */
  seed?: number;
  onProgress?(message: string, done: number, total: number): void;
}

export interface LoadResult {
  source: LoadedSource;
  malformed: MalformedRecords;
}

/** Validate the source-specific `paths` and load the source, with every record validated. */
export function loadSource(params: DatasetParams, ctx: BuildContext = {}): LoadResult {
  const logger = ctx.logger ?? silentLogger();
  const source = DATASET_SOURCES[params.source as keyof typeof DATASET_SOURCES];
  const paths = parseOrThrow(source.pathsSchema, params.paths ?? {}, `paths of source '${source.name}'`, { fieldPrefix: 'paths' });
  const malformed = new MalformedRecords(logger);
  const loaded = source.load(paths as never, {
    logger,
    malformed,
    signal: ctx.signal,
    onFile: (file, done, total) => ctx.onProgress?.(`read ${file}`, done, total),
  });
  const fraction = loaded.examined === 0 ? 0 : malformed.count / loaded.examined;
  logger.info(
    { source: loaded.name, version: loaded.version, examined: loaded.examined, malformed: malformed.count },
    `source ${loaded.name} ${loaded.version}: ${loaded.examined} records read, ${malformed.count} malformed and excluded`,
  );
  if (fraction > params.maxMalformedFraction) {
    const first = malformed.records
      .slice(0, 3)
      .map((r) => `${r.file} #${r.index}: ${r.reason}`)
      .join('; ');
    throw new InvalidInputError(
      `${malformed.count} of ${loaded.examined} records (${(fraction * 100).toFixed(3)}%) are malformed, more than maxMalformedFraction ${params.maxMalformedFraction}; first: ${first}`,
      { field: 'maxMalformedFraction' },
    );
  }
  if (loaded.train.count + (loaded.test?.count ?? 0) === 0) {
    throw new InvalidInputError(`source '${loaded.name}' has no valid record`, { field: 'paths' });
  }
  return { source: loaded, malformed };
}

/**
 * Build a dataset artifact in `outDir`: load and validate the source, split (stratified, seeded),
 * copy the records grouped by split and write them with core's `writeDataset`.
 */
export function buildDataset(outDir: string, paramsInput: DatasetParamsInput, ctx: BuildContext = {}): DatasetManifest {
  const params = parseOrThrow(datasetParamsSchema, paramsInput, 'bitslice.dataset params');
  const logger = ctx.logger ?? silentLogger();
  const seed = params.seed ?? ctx.seed ?? 0;
  const { source, malformed } = loadSource(params, ctx);
  const classCount = source.classNames.length;

  const useCanonical = params.canonicalTest && source.test !== undefined;
  const pools = source.test ? [source.train, source.test] : [source.train];
  // Without the canonical split, records of both pools are split together (pool 0 and 1 merged).
  const poolLabels = useCanonical ? pools.map((p) => p.labels) : [concatLabels(pools.map((p) => p.labels))];
  const mergedRef = (ref: RecordRef): RecordRef => (useCanonical || ref.index < pools[0].count ? ref : { pool: 1, index: ref.index - pools[0].count });
  const testFraction = params.fractions.test ?? source.defaultTestFraction;
  if (useCanonical && params.fractions.test !== undefined) {
    logger.warn(
      `fractions.test ${params.fractions.test} ignored: source '${source.name}' has a canonical test split (set canonicalTest: false to pool and split)`,
    );
  }
  const assignment = assignSplits(poolLabels, classCount, { validation: params.fractions.validation, test: testFraction }, seed, params.limit);

  const { height, width, channels } = source.shape;
  const imageSize = height * width * channels;
  const order: SplitName[] = ['train', 'validation', 'test'];
  const total = order.reduce((n, s) => n + assignment[s].length, 0);
  const images = new Uint8Array(total * imageSize);
  const labels = new Uint8Array(total);
  const splits = {} as DatasetManifest['splits'];
  let offset = 0;
  for (const name of order) {
    const refs = assignment[name];
    const perClass = new Array<number>(classCount).fill(0);
    refs.forEach((raw, i) => {
      const ref = mergedRef(raw);
      const pool = pools[ref.pool];
      const label = pool.labels[ref.index];
      images.set(pool.images.subarray(ref.index * imageSize, (ref.index + 1) * imageSize), (offset + i) * imageSize);
      labels[offset + i] = label;
      perClass[label]++;
    });
    splits[name] = { offset, count: refs.length, perClass };
    offset += refs.length;
  }

  const limitText = params.limit ? `; limited (stratified) to ${JSON.stringify(params.limit)}` : '';
  const splitMethod = useCanonical
    ? `canonical test split of the source; validation: stratified ${params.fractions.validation} of the training pool${limitText}`
    : `stratified: test ${round(testFraction)} of all records, validation ${params.fractions.validation} of the rest${source.test ? ' (canonical test split pooled: canonicalTest false)' : ''}${limitText}`;
  const files = [...source.files];
  if (source.fileList !== undefined) {
    fs.mkdirSync(outDir, { recursive: true });
    fs.writeFileSync(path.join(outDir, DATASET_FILE_LIST), source.fileList);
    files.push(`${DATASET_FILE_LIST} sha256:${sha256Hex(source.fileList)}`);
  }
  const manifest = writeDataset(
    outDir,
    {
      source: { name: source.name, version: source.version, description: source.description, files },
      shape: source.shape,
      channelNames: source.channelNames,
      classNames: source.classNames,
      splits,
      splitMethod,
      seed,
      malformed: malformed.report(),
    },
    images,
    labels,
  );
  logger.info(
    { train: splits.train.count, validation: splits.validation.count, test: splits.test.count, seed },
    `dataset written: train ${splits.train.count}, validation ${splits.validation.count}, test ${splits.test.count} (${splitMethod})`,
  );
  return manifest;
}

function concatLabels(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function round(x: number): number {
  return Math.round(x * 10000) / 10000;
}
