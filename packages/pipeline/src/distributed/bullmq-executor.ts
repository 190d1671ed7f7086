import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Job, Queue, QueueEvents } from 'bullmq';
import type IORedis from 'ioredis';
import { CancelledError, StageFailedError } from '@cbnn/core';
import type { ArtifactStore } from '../artifact-store';
import type { Executor, StageJob, StageJobEvents, StageJobResult } from '../executor';
import { NoWorkerNotice, type WaitingJob } from './no-worker-notice';
import { checkRedis, openRedis, redactRedisUrl, UnavailableError } from './redis-connection';
import { stageFailedError, unmarkQueueFailure } from '../stage-failure';
import {
  queueNames,
  stageJobId,
  stageJobReturnSchema,
  storeIdOf,
  type QueueStore,
  type StageJobPayload,
  type StageJobProgressMessage,
  type StageJobReturn,
  type StageQueueNames,
} from './stage-queue';

export interface BullmqExecutorOptions extends StageQueueNames {
  redis: string;
  /** The runner's store; workers must mount the same one. */
  store: ArtifactStore;
  /** First retry delay of a failed attempt; doubles each time (default 2000 ms). */
  backoffMs?: number;
  /** How often job states are polled, as a fallback to events (default 1000 ms). */
  pollMs?: number;
  /** Give up on running stages after Redis has been unreachable this long (default 60 s). */
  unavailableAfterMs?: number;
  /** Things the user should know (a lost job queued again, Redis away, no worker taking jobs). */
  onMessage?: (message: string) => void;
  /** Say so when no worker has taken a queued stage for this long, and again at this interval (default 30 s; 0: never). */
  noWorkerNoticeMs?: number;
}

/** Where one job's time went, for benchmarks: all times in ms since epoch. */
export interface JobTiming {
  stage: string;
  worker: string;
  queuedAt: number;
  startedAt: number;
  ranMs: number;
  commitMs: number;
  /** When the runner learnt of the result. */
  seenAt: number;
}

interface Pending {
  stage: string;
  payload: StageJobPayload;
  opts: Parameters<Queue['add']>[2];
  events: StageJobEvents;
  added: boolean;
  requeued: number;
  settle(outcome: { ok: true; value: StageJobReturn } | { ok: false; error: Error }): void;
}

/**
 * Runs stage attempts on `cbnn worker` processes through a BullMQ queue. The runner keeps the DAG
 * and queues a stage only once its inputs are in the store (no BullMQ flows: they are trees, and a
 * pipeline shares dependencies). Failed attempts are retried by the queue with exponential
 * backoff; results come back as store hashes.
 */
export class BullmqExecutor implements Executor {
  readonly name = 'bullmq';
  readonly retriesStages = true;
  readonly timings: JobTiming[] = [];
  /** Set when Redis stayed unreachable and running stages were given up. */
  unavailable?: UnavailableError;
  private readonly pending = new Map<string, Pending>();
  private readonly runId = `${os.hostname().replace(/[^A-Za-z0-9_-]/g, '_')}-${process.pid}-${randomBytes(3).toString('hex')}`;
  private seq = 0;
  private downSince?: number;
  private poller?: NodeJS.Timeout;
  private polling = false;
  /** Cancels still being sent: close() waits for them before disconnecting. */
  private readonly cancelling = new Set<Promise<void>>();
  private readonly noWorker?: NoWorkerNotice;

  private constructor(
    private readonly options: BullmqExecutorOptions,
    private readonly connection: IORedis,
    private readonly eventsConnection: IORedis,
    private readonly queue: Queue,
    private readonly queueEvents: QueueEvents,
    private readonly storeId: string,
    readonly redisVersion: string,
  ) {
    const afterMs = options.noWorkerNoticeMs ?? 30_000;
    if (afterMs > 0 && options.onMessage) this.noWorker = new NoWorkerNotice({ ...options, storeRoot: options.store.root, afterMs, say: options.onMessage });
  }

  /** Checks Redis (reachable, authenticated, >= 5.0) and connects; UnavailableError otherwise. */
  static async connect(options: BullmqExecutorOptions): Promise<BullmqExecutor> {
    const { version } = await checkRedis(options.redis);
    const names = queueNames(options);
    fs.mkdirSync(options.store.root, { recursive: true });
    const storeId = storeIdOf(options.store, true)!;
    const connection = openRedis(options.redis);
    connection.on('error', () => undefined);
    const queueStore: QueueStore = { id: storeId, path: path.resolve(options.store.root), host: os.hostname() };
    await connection.set(names.storeKey, JSON.stringify(queueStore));
    const queue = new Queue(names.queue, { connection, prefix: names.prefix });
    queue.on('error', () => undefined);
    // BullMQ does not close connections it is given: close() below disconnects both.
    const eventsConnection = openRedis(options.redis);
    eventsConnection.on('error', () => undefined);
    const queueEvents = new QueueEvents(names.queue, { connection: eventsConnection, prefix: names.prefix });
    queueEvents.on('error', () => undefined);
    await Promise.all([queue.waitUntilReady(), queueEvents.waitUntilReady()]);
    const executor = new BullmqExecutor(options, connection, eventsConnection, queue, queueEvents, storeId, version);
    executor.listen();
    return executor;
  }

  get url(): string {
    return redactRedisUrl(this.options.redis);
  }

  run(job: StageJob, events: StageJobEvents, signal: AbortSignal): Promise<StageJobResult> {
    if (signal.aborted) return Promise.reject(new CancelledError(`stage '${job.stage}' cancelled`));
    if (!job.inputHashes) return Promise.reject(new StageFailedError(job.stage, 'the bullmq executor needs input hashes (runner too old?)'));
    const jobId = stageJobId(this.runId, job.stage, ++this.seq);
    const payload: StageJobPayload = {
      format: 'cbnn.stage-job/1',
      storeId: this.storeId,
      stage: job.stage,
      key: job.key,
      kind: job.kind,
      handler: job.handler,
      handlerVersion: job.handlerVersion,
      cmd: job.cmd,
      cwd: job.cwd,
      params: job.params,
      inputs: job.inputHashes,
      storePath: this.options.store.root,
      seed: job.seed,
      threads: job.threads,
      threadsPinned: job.threadsPinned,
      queuedAt: Date.now(),
    };
    const opts = {
      jobId,
      attempts: (job.retries ?? 0) + 1,
      backoff: { type: 'exponential', delay: this.options.backoffMs ?? 2000 },
      removeOnComplete: { age: 24 * 3600, count: 1000 },
      removeOnFail: { age: 7 * 24 * 3600 },
    };
    return new Promise<StageJobResult>((resolve, reject) => {
      const onAbort = (): void => {
        this.pending.delete(jobId);
        const sent = this.cancelRemote(jobId).finally(() => this.cancelling.delete(sent));
        this.cancelling.add(sent);
        const reason = signal.reason instanceof Error ? signal.reason.message : 'cancelled';
        reject(reason.startsWith('timeout') ? new StageFailedError(job.stage, reason) : new CancelledError(`stage '${job.stage}' cancelled`));
      };
      const entry: Pending = {
        stage: job.stage,
        payload,
        opts,
        events,
        added: false,
        requeued: 0,
        settle: (outcome) => {
          if (this.pending.get(jobId) !== entry) return;
          this.pending.delete(jobId);
          signal.removeEventListener('abort', onAbort);
          if (!outcome.ok) return reject(outcome.error);
          const r = outcome.value;
          this.timings.push({ stage: job.stage, worker: r.worker, ...r.timing, seenAt: Date.now() });
          resolve({ output: r.output, log: r.log, metrics: r.metrics, cpuSeconds: r.cpuSeconds, worker: r.worker, threads: r.threads });
        },
      };
      this.pending.set(jobId, entry);
      signal.addEventListener('abort', onAbort, { once: true });
      this.queue.add(job.stage, payload, opts).then(
        () => {
          entry.added = true;
        },
        (e: Error) => entry.settle({ ok: false, error: new StageFailedError(job.stage, `cannot queue the stage on Redis at ${this.url}: ${e.message}`) }),
      );
    });
  }

  async close(): Promise<void> {
    if (this.poller) clearInterval(this.poller);
    for (const id of [...this.pending.keys()]) await this.cancelRemote(id);
    this.pending.clear();
    await Promise.allSettled([...this.cancelling]);
    await withTimeout(Promise.allSettled([this.queueEvents.close(), this.queue.close()]), 3000);
    this.connection.disconnect();
    this.eventsConnection.disconnect();
  }

  private listen(): void {
    this.queueEvents.on('progress', ({ jobId, data }) => {
      const p = this.pending.get(jobId);
      if (!p || !data || typeof data !== 'object') return;
      const m = data as StageJobProgressMessage;
      for (const line of m.logs ?? []) p.events.log(line);
      if (m.progress) p.events.progress(m.progress);
    });
    this.queueEvents.on('completed', ({ jobId, returnvalue }) => this.completed(jobId, returnvalue));
    this.queueEvents.on('failed', ({ jobId, failedReason }) => this.failed(jobId, failedReason));
    this.poller = setInterval(() => void this.poll(), this.options.pollMs ?? 1000);
    this.poller.unref();
  }

  private completed(jobId: string, returnvalue: unknown): void {
    const p = this.pending.get(jobId);
    if (!p) return;
    const parsed = stageJobReturnSchema.safeParse(returnvalue);
    p.settle(
      parsed.success
        ? { ok: true, value: parsed.data }
        : {
            ok: false,
            error: new StageFailedError(
              p.stage,
              `the worker's result is not a cbnn stage result (same cbnn version everywhere?): ${parsed.error.issues[0]?.message}`,
            ),
          },
    );
  }

  private failed(jobId: string, reason: string): void {
    const p = this.pending.get(jobId);
    if (!p) return;
    const { message, kind } = unmarkQueueFailure(reason);
    p.settle({ ok: false, error: stageFailedError(p.stage, message || 'failed on a worker (no reason given)', kind) });
  }

  /**
   * The fallback to events: catches results whose event was missed (Redis restarted, events
   * trimmed), queues again a job that vanished (Redis restarted without persistence), and gives up
   * when Redis stays unreachable.
   */
  private async poll(): Promise<void> {
    if (this.polling || this.pending.size === 0) return;
    this.polling = true;
    try {
      const waiting: WaitingJob[] = [];
      let running = 0;
      for (const [jobId, p] of [...this.pending]) {
        if (!p.added) continue;
        const state = await withTimeout(this.queue.getJobState(jobId), 2000);
        this.downSince = undefined;
        if (state === 'waiting' || state === 'prioritized') waiting.push({ stage: p.stage, queuedAt: p.payload.queuedAt });
        else if (state === 'active') running++;
        if (state === 'completed' || state === 'failed') {
          const job = await Job.fromId(this.queue, jobId);
          if (!job) continue;
          if (state === 'completed') this.completed(jobId, job.returnvalue);
          else this.failed(jobId, job.failedReason);
        } else if (state === 'unknown' && this.pending.get(jobId) === p) {
          if (++p.requeued > 5) {
            p.settle({ ok: false, error: new StageFailedError(p.stage, `its job vanished from Redis at ${this.url} ${p.requeued} times`) });
            continue;
          }
          this.options.onMessage?.(`${p.stage}: its job vanished from Redis at ${this.url} (restarted without persistence?); queued again`);
          p.added = false;
          await this.queue.add(p.stage, { ...p.payload, queuedAt: Date.now() }, p.opts);
          p.added = true;
        }
      }
      await this.noWorker?.check(waiting, running, Date.now(), () => withTimeout(this.queue.getWorkersCount(), 2000));
    } catch (e) {
      const now = Date.now();
      if (this.downSince === undefined) {
        this.downSince = now;
        this.options.onMessage?.(`Redis at ${this.url} is not answering (${(e as Error).message}); waiting for it to come back`);
      }
      const limit = this.options.unavailableAfterMs ?? 60_000;
      if (now - this.downSince >= limit) {
        this.unavailable = new UnavailableError(
          `Redis at ${this.url} has been unreachable for ${Math.round((now - this.downSince) / 1000)} s; running stages were given up (finished ones are in the store; run again to continue)`,
        );
        for (const p of [...this.pending.values()]) p.settle({ ok: false, error: new StageFailedError(p.stage, this.unavailable.message) });
      }
    } finally {
      this.polling = false;
    }
  }

  /** Removes a queued job; a running one is told to stop (pub/sub plus a marker for late starters). */
  private async cancelRemote(jobId: string): Promise<void> {
    const names = queueNames(this.options);
    try {
      await withTimeout(
        (async () => {
          const job = await Job.fromId(this.queue, jobId);
          if (!job) return;
          try {
            await job.remove();
            return;
          } catch {
            // locked by a worker: running
          }
          await this.connection.set(names.cancelKey(jobId), '1', 'EX', 24 * 3600);
          await this.connection.publish(names.cancelChannel, jobId);
        })(),
        2000,
      );
    } catch {
      // Redis away: the job may still run; its result lands in the store and nobody uses it.
    }
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e as Error);
      },
    );
  });
}
