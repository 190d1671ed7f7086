import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import { CancelledError, CbnnError, InvalidInputError, describeZodError, type ProgressUpdate } from '@cbnn/core';
import { ObjectStore } from '../object-store';
import { StoreViews } from '../store-views';
import { removeTree } from '../store-files';
import type { StageJob } from '../executor';
import { LocalExecutor } from '../local-executor';
import { checkpointDirOf, removeCheckpoint } from '../checkpoints';
import { checkRedis, openRedis } from './redis-connection';
import { failureKindOf, markQueueFailure } from '../stage-failure';
import {
  queueNames,
  stageJobPayloadSchema,
  queueStoreSchema,
  storeIdOf,
  storeMismatch,
  type StageJobProgressMessage,
  type StageJobReturn,
  type StageQueueNames,
} from './stage-queue';

export interface StageQueueWorkerOptions extends StageQueueNames {
  redis: string;
  /** This machine's mount of the shared store. */
  store: string;
  /** Stages running at once on this worker (default 1). */
  concurrency?: number;
  /** Child-process entry for handler stages (runStageWorker with the handlers). */
  workerScript: string;
  cmdWorkerScript?: string;
  /** A job whose lock is not renewed for this long is stalled (default 30 s). */
  lockDurationMs?: number;
  /** How often this worker looks for stalled jobs (default 30 s). */
  stalledIntervalMs?: number;
  /** Stalls before a job fails instead of going back to the queue (default 2). */
  maxStalledCount?: number;
  /** How often log lines are flushed back to the runner (default 200 ms). */
  flushMs?: number;
  onEvent?: (event: StageQueueWorkerEvent) => void;
}

export type StageQueueWorkerEvent =
  | { type: 'ready'; id: string; redisVersion: string }
  | { type: 'started'; jobId: string; stage: string; attempt: number }
  | { type: 'completed'; jobId: string; stage: string; ms: number }
  | { type: 'failed'; jobId: string; stage: string; message: string }
  | { type: 'error'; message: string };

export interface StageQueueWorker {
  readonly id: string;
  /** Stop taking jobs. Running stages are stopped and their jobs put back in the queue for others. */
  close(): Promise<void>;
}

/**
 * A queue worker (`cbnn worker`): takes ready stages from the BullMQ queue, runs each in a child
 * process (the local executor's stage worker, so this process stays free to renew job locks during
 * long CPU-bound stages), reads inputs from and commits outputs to the shared store, and reports
 * progress and log lines through job progress events.
 */
export async function startStageQueueWorker(options: StageQueueWorkerOptions): Promise<StageQueueWorker> {
  const { version: redisVersion } = await checkRedis(options.redis);
  const storeRoot = path.resolve(options.store);
  if (!fs.existsSync(storeRoot)) {
    throw new InvalidInputError(`--store ${storeRoot}: no such folder (mount the shared store the runner uses)`, { field: '--store' });
  }
  const id = `${os.hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  // Scratch beside the objects (same filesystem: commits are renames), outside tmp/, which a
  // starting runner empties.
  const scratch = path.join(storeRoot, 'workers', id);
  fs.mkdirSync(scratch, { recursive: true });
  // The worker writes objects only (content-addressed, idempotent); run cache and out/ are the runner's.
  const objects = new ObjectStore(storeRoot, scratch);
  const views = new StoreViews(objects);
  const names = queueNames(options);
  const concurrency = Math.max(1, options.concurrency ?? 1);
  const threadBudget = Math.max(1, Math.floor(os.availableParallelism() / concurrency));
  const executor = new LocalExecutor({ workerScript: options.workerScript, cmdWorkerScript: options.cmdWorkerScript });
  const emit = (e: StageQueueWorkerEvent): void => options.onEvent?.(e);
  let closing = false;

  const connection = openRedis(options.redis);
  connection.on('error', () => undefined); // reconnects by itself; the Worker reports lasting trouble
  try {
    await refuseForeignStore(connection, names.storeKey, storeRoot, storeIdOf(objects, false));
  } catch (e) {
    connection.disconnect();
    removeTree(scratch);
    throw e;
  }
  const subscriber = openRedis(options.redis);
  subscriber.on('error', () => undefined);

  const processor = async (job: Job, token?: string, signal?: AbortSignal): Promise<StageJobReturn> => {
    const parsed = stageJobPayloadSchema.safeParse(job.data);
    if (!parsed.success)
      throw new UnrecoverableError(
        `job ${job.id} is not a cbnn stage job this worker understands (same cbnn version on every machine?): ${describeZodError(parsed.error, 'in')}`,
      );
    const payload = parsed.data;
    const attempt = job.attemptsMade + 1;
    const attempts = job.opts.attempts ?? 1;
    if (await connection.exists(names.cancelKey(job.id!))) throw new UnrecoverableError('cancelled by the runner');
    const mismatch = storeMismatch(storeRoot, storeIdOf(objects, false), {
      id: payload.storeId,
      path: payload.storePath ?? '(path not sent)',
      host: 'the runner',
    });
    if (mismatch) throw new Error(`worker ${id}: ${mismatch}; mount the same shared store`);
    const startedAt = Date.now();
    emit({ type: 'started', jobId: job.id!, stage: payload.stage, attempt });

    const relay = progressRelay(job, options.flushMs ?? 200);
    const dir = path.join(scratch, `${job.id}-${attempt}-${randomBytes(3).toString('hex')}`);
    try {
      relay.log({ level: 30, msg: `running on worker ${id} (attempt ${attempt}/${attempts}, waited ${startedAt - payload.queuedAt} ms in the queue)` });
      const inputs: Record<string, string> = {};
      for (const [name, hash] of Object.entries(payload.inputs)) {
        const bad = objects.checkOutput(hash);
        if (bad.length)
          throw new Error(
            `input '${name}' (${hash.slice(0, 12)}) is not intact in the store at ${storeRoot}: ${bad.map((b) => `${b.path} ${b.problem}`).join('; ')}`,
          );
        inputs[name] = views.view(hash);
      }
      if (payload.kind === 'cmd' && payload.cwd && !fs.existsSync(payload.cwd)) {
        throw new Error(
          `cmd stage '${payload.stage}' runs in the pipeline folder ${payload.cwd}, which does not exist on worker ${id} (mount it at the same path)`,
        );
      }
      const stageJob: StageJob = {
        stage: payload.stage,
        key: payload.key,
        kind: payload.kind,
        handler: payload.handler,
        handlerVersion: payload.handlerVersion,
        cmd: payload.cmd,
        cwd: payload.cwd,
        params: payload.params,
        inputs,
        outDir: path.join(dir, 'out'),
        tmpDir: path.join(dir, 'tmp'),
        checkpointDir: checkpointDirOf(storeRoot, payload.key),
        logFile: path.join(dir, 'log.jsonl'),
        seed: payload.seed,
        // An explicit `threads:` in the pipeline wins; otherwise this machine's share of its cores
        // (the runner's budget is for its own machine: it may have many more or fewer cores).
        threads: payload.threadsPinned ? payload.threads : threadBudget,
        threadsPinned: payload.threadsPinned,
      };
      fs.mkdirSync(stageJob.outDir, { recursive: true });
      fs.mkdirSync(stageJob.tmpDir, { recursive: true });
      fs.writeFileSync(stageJob.logFile, '');
      const abort = new AbortController();
      const onAbort = (): void => abort.abort(signal?.reason ?? new Error('cancelled'));
      signal?.addEventListener('abort', onAbort, { once: true });
      let result;
      try {
        result = await executor.run(stageJob, { progress: relay.progress, log: relay.line }, abort.signal);
      } catch (e) {
        if (closing) {
          // Shutting down: hand the job back at once rather than waiting for the stall check.
          await relay.flush();
          await job.moveToWait(token);
          throw new WaitingError();
        }
        if (e instanceof CancelledError || abort.signal.aborted) throw new UnrecoverableError('cancelled by the runner');
        const message = e instanceof CbnnError ? e.message.replace(/^stage '[^']*' failed: /, '') : (e as Error).message;
        // Bad data fails the same way on every attempt: the queue must not retry it.
        if (failureKindOf(e) === 'invalid-input') throw new UnrecoverableError(markQueueFailure(message, e));
        if (attempt < attempts)
          relay.log({ level: 40, msg: `attempt ${attempt}/${attempts} failed: ${message.split('\n')[0]}; the queue retries it with backoff` });
        throw new Error(markQueueFailure(message, e));
      } finally {
        signal?.removeEventListener('abort', onAbort);
      }
      const ranMs = Date.now() - startedAt;
      const t0 = Date.now();
      // Content-addressed and renamed into place: two workers committing the same key write the
      // same objects, atomically, so neither can corrupt the other's.
      const output = objects.commitFolder(stageJob.outDir);
      const log = objects.putBytes(fs.readFileSync(stageJob.logFile));
      removeCheckpoint(storeRoot, payload.key);
      const commitMs = Date.now() - t0;
      emit({ type: 'completed', jobId: job.id!, stage: payload.stage, ms: Date.now() - startedAt });
      return {
        format: 'cbnn.stage-result/1',
        output,
        log,
        metrics: result.metrics,
        cpuSeconds: result.cpuSeconds,
        worker: id,
        threads: stageJob.threads,
        timing: { queuedAt: payload.queuedAt, startedAt, ranMs, commitMs },
      };
    } catch (e) {
      if (!(e instanceof WaitingError)) emit({ type: 'failed', jobId: job.id!, stage: payload.stage, message: (e as Error).message.split('\n')[0] });
      throw e;
    } finally {
      await relay.flush();
      relay.stop();
      removeTree(dir);
    }
  };

  const worker = new Worker(names.queue, processor, {
    connection,
    prefix: names.prefix,
    concurrency,
    lockDuration: options.lockDurationMs ?? 30_000,
    stalledInterval: options.stalledIntervalMs ?? 30_000,
    maxStalledCount: options.maxStalledCount ?? 2,
    autorun: false,
  });
  worker.on('error', (e) => emit({ type: 'error', message: e.message }));

  await subscriber.subscribe(names.cancelChannel);
  subscriber.on('message', (channel: string, jobId: string) => {
    if (channel === names.cancelChannel) worker.cancelJob(jobId, 'cancelled by the runner');
  });
  void worker.run().catch((e: Error) => emit({ type: 'error', message: e.message }));
  await worker.waitUntilReady();
  emit({ type: 'ready', id, redisVersion });

  return {
    id,
    async close() {
      if (closing) return;
      closing = true;
      worker.cancelAllJobs('worker shutting down');
      await worker.close();
      await executor.close();
      subscriber.disconnect();
      connection.disconnect();
      removeTree(scratch);
    },
  };
}

/**
 * Refuse to start on a store that is not the one the queue's runner announced (a wrong or missing
 * mount): better now, naming both folders, than failing every job it takes. No announcement yet
 * (no runner has connected): each job's store id is still checked.
 */
async function refuseForeignStore(connection: ReturnType<typeof openRedis>, key: string, storeRoot: string, storeId: string | undefined): Promise<void> {
  const raw = await connection.get(key);
  if (raw === null) return;
  let announced;
  try {
    announced = queueStoreSchema.parse(JSON.parse(raw));
  } catch {
    return; // not ours to judge: the per-job check still applies
  }
  const mismatch = storeMismatch(storeRoot, storeId, announced);
  if (mismatch) {
    throw new InvalidInputError(mismatch, { field: '--store' }, `mount the runner's store folder on this machine and pass its mount point as --store`);
  }
}

/** Batches log lines and the latest progress into job.updateProgress calls (QueueEvents 'progress'). */
function progressRelay(job: Job, flushMs: number) {
  let logs: string[] = [];
  let progress: ProgressUpdate | undefined;
  let sending: Promise<void> = Promise.resolve();
  const flush = (): Promise<void> => {
    if (!logs.length && !progress) return sending;
    const message: StageJobProgressMessage = { logs: logs.length ? logs : undefined, progress };
    logs = [];
    progress = undefined;
    // Progress is advisory: a Redis hiccup must not fail the stage.
    sending = sending.then(() => job.updateProgress(message as object).catch(() => undefined));
    return sending;
  };
  const timer = setInterval(() => void flush(), flushMs);
  timer.unref();
  return {
    progress: (u: ProgressUpdate) => {
      progress = u;
    },
    line: (l: string) => {
      logs.push(l);
      if (logs.length >= 200) void flush();
    },
    log: (entry: { level: number; msg: string }) => {
      logs.push(JSON.stringify({ ...entry, time: Date.now(), stream: 'worker' }));
    },
    flush,
    stop: () => clearInterval(timer),
  };
}
