import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { z } from 'zod';

/**
 * The run record: one immutable JSON file per `cbnn run`, `<store>/records/<id>.json`, written
 * atomically at the end of the run (also after a failure or a cancel). It says what ran with
 * which params and code, what each stage cost, and where its results are in the store, so that
 * runs can be compared (`cbnn exp`) and a run's report rebuilt long after `out/` has moved on.
 * Wall-clock and CPU figures live here, never in artifacts (same key, same bytes).
 *
 * This module is the contract (schema + file names) and has no heavy imports: readers load it
 * through `@cbnn/pipeline/run-records`.
 */
export const RECORDED_RUN_FORMAT = 'cbnn.run/2';
/**
 * Formats readers accept. 2 added each stage's wait for a job slot and its threads over time
 * (optional fields: a /1 record reads as a /2 one without a schedule).
 */
export const READABLE_RUN_FORMATS = ['cbnn.run/1', RECORDED_RUN_FORMAT] as const;
export const RUN_RECORDS_DIR = 'records';

const HASH = z.string().regex(/^[0-9a-f]{64}$/);
/** `20261201-072301-a3f9`: UTC start time, then random hex; sorts by start time. */
export const RUN_ID_PATTERN = /^\d{8}-\d{6}-[0-9a-f]{4,12}$/;
/** What `--name` accepts: it is typed on command lines and used in file-free lookups. */
export const RUN_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/;

export const recordedStageSchema = z.object({
  /** Instance name (`search-w0.5`). */
  id: z.string(),
  /** Stage name in the pipeline file (`search`). */
  stage: z.string(),
  /** Handler name; absent for a `cmd:` stage. */
  handler: z.string().optional(),
  matrix: z.record(z.string(), z.unknown()).optional(),
  /** input name -> upstream instance ids */
  needs: z.record(z.string(), z.array(z.string())),
  status: z.enum(['ran', 'cached', 'failed', 'skipped', 'cancelled']),
  key: HASH.optional(),
  /**
   * Everything the key hashes (the lock file's entry without key and output): handler, version,
   * cmd, code fingerprints, params, seed, input hashes, cmd deps. `exp diff` classifies a
   * changed stage by which of these differ.
   */
  material: z.record(z.string(), z.unknown()).optional(),
  /** Wall time in this run: execution, or the restore for a cache hit. */
  wallSeconds: z.number().min(0),
  /** CPU time (user + system) of the process(es) that executed the stage; absent for a hit. */
  cpuSeconds: z.number().min(0).optional(),
  attempts: z.number().int().min(0),
  /** Output folder manifest (object hash in the store). */
  output: HASH.optional(),
  log: HASH.optional(),
  /** The stage's metrics; texts over 1,000 characters (a report's markdown) are left out: they are in its output. */
  metrics: z.record(z.string(), z.unknown()).optional(),
  /** The queue worker that executed it (bullmq executor). */
  worker: z.string().optional(),
  note: z.string().optional(),
  /** From ready (upstream settled, not cached) to started: the wait for a job slot (format 2). */
  waitSeconds: z.number().min(0).optional(),
  /**
   * The stage's threads over time (format 2): from `atSeconds` after its start it ran on
   * `threads`. On a queue worker: the worker's own count.
   */
  threads: z.array(z.object({ atSeconds: z.number().min(0), threads: z.number().int().positive() })).optional(),
});
export type RecordedStage = z.infer<typeof recordedStageSchema>;

export const recordedRunSchema = z.object({
  format: z.enum(READABLE_RUN_FORMATS),
  id: z.string().regex(RUN_ID_PATTERN),
  name: z.string().regex(RUN_NAME_PATTERN).optional(),
  pipeline: z.object({
    name: z.string(),
    file: z.string(),
    /** SHA-256 of the pipeline file's bytes when the run started. */
    hash: HASH,
  }),
  /** Resolved top-level params (after `--set`). */
  params: z.record(z.string(), z.unknown()),
  command: z.string().optional(),
  /** The project's git state, when the pipeline is inside a git work tree. */
  git: z.object({ commit: z.string(), dirty: z.boolean() }).optional(),
  startedAt: z.string(),
  endedAt: z.string(),
  durationMs: z.number().min(0),
  status: z.enum(['ok', 'failed', 'cancelled']),
  /**
   * Every stage instance of the pipeline ran or was restored in this run (no `--stage`, nothing
   * failed): its outputs are one consistent set of results, what `cbnn report` reads by default.
   */
  complete: z.boolean(),
  /** The exit code `cbnn run` gives for this status. */
  exitCode: z.number().int(),
  counts: z.object({ executed: z.number().int(), cached: z.number().int(), failed: z.number().int(), skipped: z.number().int() }),
  machine: z.object({ hostname: z.string(), cpu: z.string(), cores: z.number().int(), os: z.string(), node: z.string() }),
  executor: z.object({ name: z.string(), jobs: z.number().int(), workers: z.array(z.string()) }),
  store: z.string(),
  stages: z.array(recordedStageSchema),
});
export type RecordedRun = z.infer<typeof recordedRunSchema>;
/** A metric or param value as recorded. */
export type RecordedScalar = number | string | boolean | null;

export function runRecordsDir(storeRoot: string): string {
  return path.join(storeRoot, RUN_RECORDS_DIR);
}

export function runRecordFile(storeRoot: string, id: string): string {
  return path.join(runRecordsDir(storeRoot), `${id}.json`);
}

export function newRunId(at: Date = new Date()): string {
  const iso = at.toISOString(); // 2026-12-01T07:23:01.123Z
  return `${iso.slice(0, 10).replace(/-/g, '')}-${iso.slice(11, 19).replace(/:/g, '')}-${randomBytes(2).toString('hex')}`;
}
