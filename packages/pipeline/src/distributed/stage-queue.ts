import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { writeFileAtomicSync, type ProgressUpdate } from '@cbnn/core';

/** Names both sides (runner and `cbnn worker`) must agree on. */
export interface StageQueueNames {
  /** BullMQ queue name (default `cbnn-stages`). */
  queue?: string;
  /** Redis key prefix (default `cbnn`); tests use one per test so they never share a queue. */
  prefix?: string;
}

export const DEFAULT_QUEUE = 'cbnn-stages';
export const DEFAULT_PREFIX = 'cbnn';

export function queueNames(n: StageQueueNames): {
  queue: string;
  prefix: string;
  cancelChannel: string;
  cancelKey: (jobId: string) => string;
  storeKey: string;
} {
  const queue = n.queue ?? DEFAULT_QUEUE;
  const prefix = n.prefix ?? DEFAULT_PREFIX;
  return {
    queue,
    prefix,
    cancelChannel: `${prefix}:${queue}:cbnn-cancel`,
    cancelKey: (jobId) => `${prefix}:${queue}:cbnn-cancelled:${jobId}`,
    storeKey: `${prefix}:${queue}:cbnn-store`,
  };
}

/**
 * The store the queue's runner uses, as it sees it: written by the runner when it connects, read
 * by a starting worker so that a wrong --store is refused before it takes a job.
 */
export const queueStoreSchema = z.object({ id: z.string().min(1), path: z.string(), host: z.string() });
export type QueueStore = z.infer<typeof queueStoreSchema>;

/** Why a worker's store is not the runner's, naming both folders; undefined when it is. */
export function storeMismatch(workerRoot: string, workerId: string | undefined, runner: QueueStore): string | undefined {
  if (workerId === runner.id) return undefined;
  const mine = workerId ? `store id ${workerId}` : 'no store id (state/store-id is missing: an empty folder or the wrong mount?)';
  return `--store ${workerRoot} is not the runner's store: the runner uses ${runner.path} on ${runner.host} (store id ${runner.id}); ${workerRoot} has ${mine}`;
}

const HASH = z.string().regex(/^[0-9a-f]{64}$/);

/** A queued stage attempt: keys, params and store hashes, never data or machine-local paths. */
export const stageJobPayloadSchema = z.strictObject({
  format: z.literal('cbnn.stage-job/1'),
  /** The store the runner uses (`state/store-id`): a worker on another store refuses the job. */
  storeId: z.string().min(1),
  stage: z.string(),
  key: HASH,
  kind: z.enum(['handler', 'cmd']),
  handler: z.string().optional(),
  handlerVersion: z.number().int().optional(),
  cmd: z.string().optional(),
  /** The pipeline's folder on the runner's machine (cmd stages run there). */
  cwd: z.string().optional(),
  params: z.record(z.string(), z.unknown()),
  /** input name -> output (manifest) hash in the shared store. */
  inputs: z.record(z.string(), HASH),
  /** The runner's store folder on its machine, for messages. */
  storePath: z.string().optional(),
  seed: z.number().int(),
  threads: z.number().int().positive(),
  /** `threads:` was set in the pipeline: the worker uses it instead of its own share of cores. */
  threadsPinned: z.boolean().optional(),
  /** When the runner queued it (ms since epoch): queue overhead = started - queuedAt. */
  queuedAt: z.number(),
});
export type StageJobPayload = z.infer<typeof stageJobPayloadSchema>;

export const stageJobReturnSchema = z.strictObject({
  format: z.literal('cbnn.stage-result/1'),
  output: HASH,
  log: HASH,
  metrics: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])).optional(),
  worker: z.string(),
  cpuSeconds: z.number().optional(),
  /** Threads the worker gave the stage (its own share of its cores, or the pipeline's pin). */
  threads: z.number().int().positive().optional(),
  timing: z.strictObject({ queuedAt: z.number(), startedAt: z.number(), ranMs: z.number(), commitMs: z.number() }),
});
export type StageJobReturn = z.infer<typeof stageJobReturnSchema>;

/** What workers send back through job.updateProgress (QueueEvents 'progress'). */
export interface StageJobProgressMessage {
  progress?: ProgressUpdate;
  logs?: string[];
}

/**
 * The store's identity: a random id written once into `state/store-id`. Jobs carry it so that a
 * worker whose --store is not the runner's store (wrong mount) refuses instead of failing oddly.
 */
export function storeIdOf(store: { readonly root: string }, create: boolean): string | undefined {
  const file = path.join(store.root, 'state', 'store-id');
  const read = (): string | undefined => {
    try {
      return fs.readFileSync(file, 'utf8').trim() || undefined;
    } catch {
      return undefined;
    }
  };
  const existing = read();
  if (existing || !create) return existing;
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  writeFileAtomicSync(tmp, randomBytes(16).toString('hex') + '\n');
  try {
    fs.linkSync(tmp, file); // fails if another process created it first: theirs wins
  } catch {
    // someone else's id is there
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  return read();
}

/** BullMQ job ids may not contain ':'; keep them readable. */
export function stageJobId(runId: string, stage: string, seq: number): string {
  return `${runId}.${stage.replace(/[^A-Za-z0-9_.=-]/g, '_')}.${seq}`;
}
