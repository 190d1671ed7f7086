import { redactRedisUrl } from './redis-connection';
import { DEFAULT_PREFIX, DEFAULT_QUEUE, queueNames, type StageQueueNames } from './stage-queue';

export interface NoWorkerNoticeOptions extends StageQueueNames {
  redis: string;
  /** The runner's store folder: the worker command names it (its mount may differ elsewhere). */
  storeRoot: string;
  /** How long a queued stage may wait untaken before the user hears of it, and how often again (ms). */
  afterMs: number;
  say(message: string): void;
}

/** A queued job no worker has taken yet. */
export interface WaitingJob {
  stage: string;
  queuedAt: number;
}

/**
 * Says so when queued stages wait for a worker, so that "no worker is running" is not mistaken
 * for "a stage is training": names the queue and the Redis URL (password hidden) and prints the
 * `cbnn worker` command for this store. Repeated every `afterMs` while the wait lasts.
 */
export class NoWorkerNotice {
  private lastSaid?: number;
  /** The last poll at which a worker was running one of this run's stages. */
  private lastBusy?: number;

  constructor(private readonly options: NoWorkerNoticeOptions) {}

  /**
   * Called at each poll with the jobs still waiting and how many of this run's jobs a worker is
   * running. While a worker runs one of them, stages waiting behind it are ordinary queueing and
   * nothing is said; the wait counts from when the queue last moved. `workers` counts the workers
   * connected to the queue (undefined when Redis cannot tell, e.g. without CLIENT LIST).
   */
  async check(waiting: WaitingJob[], running: number, now: number, workers: () => Promise<number | undefined>): Promise<void> {
    if (running > 0) this.lastBusy = now;
    if (waiting.length === 0 || running > 0) {
      this.lastSaid = undefined;
      return;
    }
    const oldest = waiting.reduce((a, b) => (b.queuedAt < a.queuedAt ? b : a));
    const since = Math.max(oldest.queuedAt, this.lastBusy ?? 0);
    if (now - since < this.options.afterMs) return;
    if (this.lastSaid !== undefined && now - this.lastSaid < this.options.afterMs) return;
    this.lastSaid = now;
    this.options.say(this.message(oldest, waiting.length, now - since, await workers().catch(() => undefined)));
  }

  private message(oldest: WaitingJob, count: number, waitedMs: number, workers: number | undefined): string {
    const { queue, prefix } = queueNames(this.options);
    const url = redactRedisUrl(this.options.redis);
    const others = count > 1 ? ` (and ${count - 1} more queued stage${count > 2 ? 's' : ''})` : '';
    const who =
      workers === undefined
        ? ''
        : workers === 0
          ? '; no worker is connected to this queue'
          : `; ${workers} worker${workers === 1 ? ' is' : 's are'} connected but busy or unable to take it`;
    const flags = [queue !== DEFAULT_QUEUE ? ` --queue ${queue}` : '', prefix !== DEFAULT_PREFIX ? ` --prefix ${prefix}` : ''].join('');
    const hidden = url !== this.options.redis ? ' (put the password back in the URL)' : '';
    return (
      `waiting for a worker: no worker has taken stage '${oldest.stage}'${others} for ${Math.round(waitedMs / 1000)} s ` +
      `(queue '${queue}' on Redis at ${url}${who}). Start one on a machine that shares the store${hidden}:\n` +
      `  cbnn worker --redis ${url} --store ${this.options.storeRoot}${flags}`
    );
  }
}
