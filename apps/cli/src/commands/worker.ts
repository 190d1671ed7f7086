import * as path from 'node:path';
import type { Command } from 'commander';
import type { StageQueueWorkerEvent } from '@cbnn/pipeline/bullmq';
import { ExitCode } from '@cbnn/core';
import { CommandError, positiveInteger, workerScript } from '../context';

interface WorkerOptions {
  redis?: string;
  store?: string;
  concurrency?: number;
  queue?: string;
  prefix?: string;
  lockDuration?: number;
  stalledInterval?: number;
}

/**
 * `cbnn worker`: serve the stage queue of `cbnn run --executor bullmq` until SIGINT/SIGTERM. Each
 * stage runs in a child process; outputs go straight into the shared store.
 */
export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('run queued stages of `cbnn run --executor bullmq` (any number of machines sharing the store)')
    .option('--redis <url>', 'Redis URL, e.g. redis://host:6379 (default: $CBNN_REDIS_URL)')
    .option('--store <dir>', "this machine's mount of the shared artifact store (the runner's --store)")
    .option('--concurrency <n>', 'stages running at once on this worker (default 1)', positiveInteger('--concurrency'))
    .option('--queue <name>', 'queue name (default cbnn-stages)')
    .option('--prefix <prefix>', 'Redis key prefix (default cbnn)')
    .option(
      '--lock-duration <ms>',
      'a job whose lock is not renewed this long is stalled and retried elsewhere (default 30000)',
      positiveInteger('--lock-duration'),
    )
    .option('--stalled-interval <ms>', 'how often to look for stalled jobs (default 30000)', positiveInteger('--stalled-interval'))
    .action(async (opts: WorkerOptions) => {
      const redis = opts.redis ?? process.env.CBNN_REDIS_URL;
      if (!redis) throw new CommandError('cbnn worker needs --redis URL (or $CBNN_REDIS_URL)', ExitCode.usage);
      if (!opts.store) throw new CommandError('cbnn worker needs --store DIR: the shared store the runner uses', ExitCode.usage);
      const say = (line: string): void => void process.stderr.write(`${new Date().toISOString()} ${line}\n`);
      const concurrency = opts.concurrency ?? 1;
      const { startStageQueueWorker, redactRedisUrl } = await import('@cbnn/pipeline/bullmq');
      const worker = await startStageQueueWorker({
        redis,
        store: path.resolve(opts.store),
        concurrency,
        queue: opts.queue,
        prefix: opts.prefix,
        lockDurationMs: opts.lockDuration,
        stalledIntervalMs: opts.stalledInterval,
        workerScript: workerScript(),
        onEvent: (e: StageQueueWorkerEvent) => say(describe(e, redactRedisUrl(redis), path.resolve(opts.store!), concurrency)),
      });
      await new Promise<void>((resolve) => {
        const stop = (sig: NodeJS.Signals): void => {
          say(`${sig}: stopping; running stages go back to the queue for other workers`);
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          void worker.close().then(resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}

function describe(e: StageQueueWorkerEvent, redis: string, store: string, concurrency: number): string {
  switch (e.type) {
    case 'ready':
      return `worker ${e.id} ready: Redis ${e.redisVersion} at ${redis}, store ${store}, concurrency ${concurrency}`;
    case 'started':
      return `start ${e.stage} (job ${e.jobId}, attempt ${e.attempt})`;
    case 'completed':
      return `done  ${e.stage} in ${(e.ms / 1000).toFixed(1)} s`;
    case 'failed':
      return `FAIL  ${e.stage}: ${e.message}`;
    case 'error':
      return `queue error: ${e.message}`;
  }
}
