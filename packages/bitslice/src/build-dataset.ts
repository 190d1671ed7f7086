import * as fs from 'node:fs';
import * as path from 'node:path';
import { InvalidInputError, parseOrThrow, sha256Hex, silentLogger, type DatasetManifest, type Logger, type SplitName } from '@cbnn/core';
import { DatasetFileWriter } from './dataset-writer';
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

/**
 * Validate the source-specific `paths` and load the source: every record listed and labelled.
 * Sources that read pixels on demand (images, npy) check each record when `buildDataset` reads
 * it (or, for images with `skipBad`, here, since the split must know which files are unreadable).
 */
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
  try {
    checkLoaded(loaded, malformed, params, logger);
  } catch (e) {
    loaded.close?.();
    throw e;
  }
  return { source: loaded, malformed };
}

function checkLoaded(loaded: LoadedSource, malformed: MalformedRecords, params: DatasetParams, logger: Logger): void {
  const fraction = loaded.examined === 0 ? 0 : malformed.count / loaded.examined;
  // A source that reads on demand knows its version (a digest of what it read) only at the end.
  const version = loaded.finish ? '' : ` ${loaded.version}`;
  logger.info(
    { source: loaded.name, version: loaded.finish ? undefined : loaded.version, examined: loaded.examined, malformed: malformed.count },
    `source ${loaded.name}${version}: ${loaded.examined} records found, ${malformed.count} malformed and excluded`,
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
}

/**
 * Build a dataset artifact in `outDir`: load and validate the source, split (stratified, seeded)
 * on the labels alone, then copy the records grouped by split, one at a time, from the source
 * into the streamed dataset files (memory: one record, plus a few bytes per record for labels and
 * the split).
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
  const splits = {} as DatasetManifest['splits'];
  const createdDir = !fs.existsSync(outDir);
  let writer: DatasetFileWriter | undefined;
  try {
    // Records go to the file in stored order, each read from its source when its turn comes.
    writer = new DatasetFileWriter(outDir, total, imageSize);
    const record = new Uint8Array(imageSize);
    let offset = 0;
    for (const name of order) {
      const refs = assignment[name];
      const perClass = new Array<number>(classCount).fill(0);
      for (const raw of refs) {
        ctx.signal?.throwIfAborted();
        const ref = mergedRef(raw);
        const pool = pools[ref.pool];
        const label = pool.labels[ref.index];
        pool.read(ref.index, record);
        writer.append(record, label);
        perClass[label]++;
      }
      splits[name] = { offset, count: refs.length, perClass };
      offset += refs.length;
    }
    const facts = { ...source, ...source.finish?.() };

    const limitText = params.limit ? `; limited (stratified) to ${JSON.stringify(params.limit)}` : '';
    const splitMethod = useCanonical
      ? `canonical test split of the source; validation: stratified ${params.fractions.validation} of the training pool${limitText}`
      : `stratified: test ${round(testFraction)} of all records, validation ${params.fractions.validation} of the rest${source.test ? ' (canonical test split pooled: canonicalTest false)' : ''}${limitText}`;
    const files = [...source.files];
    if (facts.fileList !== undefined) {
      fs.writeFileSync(path.join(outDir, DATASET_FILE_LIST), facts.fileList);
      files.push(`${DATASET_FILE_LIST} sha256:${sha256Hex(facts.fileList)}`);
    }
    const manifest = writer.finish({
      source: { name: source.name, version: facts.version, description: facts.description, files },
      shape: source.shape,
      channelNames: source.channelNames,
      classNames: source.classNames,
      splits,
      splitMethod,
      seed,
      malformed: malformed.report(),
    });
    writer = undefined;
    logger.info(
      { source: source.name, version: facts.version, train: splits.train.count, validation: splits.validation.count, test: splits.test.count, seed },
      `dataset written (${source.name} ${facts.version}): train ${splits.train.count}, validation ${splits.validation.count}, test ${splits.test.count} (${splitMethod})`,
    );
    return manifest;
  } catch (e) {
    // Nothing half-written stays behind: the stage fails with its folder as it found it.
    writer?.abort();
    if (createdDir) fs.rmSync(outDir, { recursive: true, force: true });
    else fs.rmSync(path.join(outDir, DATASET_FILE_LIST), { force: true });
    throw e;
  } finally {
    source.close?.();
  }
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
