import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Command } from 'commander';
import { ExitCode, CancelledError } from '@cbnn/core';
import { BullmqExecutor, LocalExecutor, ProgressRenderer, runPipeline, type Executor, type RunSummary } from '@cbnn/pipeline';
import { collect, CommandError, openPipeline, printJson, workerScript } from '../context';

export function registerRun(program: Command): void {
  program
    .command('run [pipeline]')
    .description('run a pipeline: restore cached stages, execute the rest')
    .option('--stage <name>', 'run only this stage (and what it needs); repeatable', collect)
    .option('--force <name>', 'execute this stage even if cached; repeatable', collect)
    .option('-j, --jobs <n>', 'stages running at once (default: number of cores)', (v) => parsePositive(v, '--jobs'))
    .option('--threads <n>', 'total CPU threads for the stages running at once (default: number of cores)', (v) => parsePositive(v, '--threads'))
    .option('--oversubscribe', 'allow --threads above the number of cores')
    .option('--set <key=value>', 'override a top-level param; repeatable', collect)
    .option('--store <dir>', 'artifact store folder (default: .cbnn/ in the project)')
    .option('--keep-going', 'after a failure, keep running stages that do not depend on it')
    .option('--no-wait', 'refuse at once when another run holds the store (default: wait)')
    .option('--json', 'print the run summary as JSON on stdout')
    .option('--executor <name>', 'local (child processes here, default) or bullmq (stages queued on Redis for `cbnn worker`s)', 'local')
    .option('--redis <url>', 'Redis URL for --executor bullmq (default: $CBNN_REDIS_URL)')
    .option('--queue <name>', 'queue name for --executor bullmq (default cbnn-stages)')
    .option('--prefix <prefix>', 'Redis key prefix for --executor bullmq (default cbnn)')
    .action(async (file: string | undefined, opts: { stage?: string[]; force?: string[]; jobs?: number; threads?: number; oversubscribe?: boolean; set?: string[]; store?: string; keepGoing?: boolean; wait: boolean; json?: boolean; executor: string; redis?: string; queue?: string; prefix?: string }) => {
      checkThreads(opts.threads, opts.oversubscribe);
      const { pipeline, store } = openPipeline(file, opts);
      const abort = new AbortController();
      const onSignal = (sig: NodeJS.Signals): void => {
        if (!abort.signal.aborted) process.stderr.write(`\n${sig}: cancelling (running stages are stopped, nothing partial is kept)\n`);
        abort.abort(new Error(sig));
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      if (opts.executor !== 'local' && opts.executor !== 'bullmq') throw new CommandError(`--executor ${opts.executor}: expected local or bullmq`, ExitCode.usage);
      const redis = opts.redis ?? process.env.CBNN_REDIS_URL;
      if (opts.executor === 'bullmq' && !redis) throw new CommandError('--executor bullmq needs --redis URL (or $CBNN_REDIS_URL)', ExitCode.usage);
      // Checks Redis first (reachable, authenticated, >= 5.0): exit 7 before anything is queued.
      const bullmq = opts.executor === 'bullmq'
        ? await BullmqExecutor.connect({ redis: redis!, store, queue: opts.queue, prefix: opts.prefix, onMessage: (m) => process.stderr.write(`${m}\n`) })
        : undefined;
      const executor: Executor = bullmq ?? new LocalExecutor({ workerScript: workerScript() });
      let summary: RunSummary;
      try {
        summary = await runPipeline(pipeline, {
          store,
          executor,
          // With queue workers, how many stages run at once is up to the workers: queue every ready stage.
          jobs: opts.jobs ?? (bullmq ? 256 : undefined),
          threads: opts.threads,
          stages: opts.stage,
          force: opts.force,
          keepGoing: opts.keepGoing,
          waitForLock: opts.wait,
          signal: abort.signal,
          reporter: new ProgressRenderer(process.stderr),
        });
      } finally {
        await executor.close();
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
      printResultSummary(summary, opts.json ? process.stderr : process.stdout);
      if (opts.json) printJson(summary);
      if (bullmq?.unavailable) throw bullmq.unavailable;
      if (summary.cancelled) throw new CancelledError('run cancelled; finished stages are kept in the store');
      if (!summary.ok) process.exitCode = ExitCode.stageFailed;
    });
}

/**
 * A stage that leaves a `summary.md` (the report does) has it printed at the end of the run, so the
 * results table is the last thing a user sees. The last such stage in pipeline order wins.
 */
function printResultSummary(summary: RunSummary, stream: NodeJS.WriteStream): void {
  if (!summary.ok) return;
  let found: string | undefined;
  for (const outcome of summary.outcomes) {
    const file = path.join(summary.store, 'out', outcome.id, 'summary.md');
    if (fs.existsSync(file)) found = file;
  }
  if (!found) return;
  stream.write(`\n${fs.readFileSync(found, 'utf8').trimEnd()}\n\n(${path.relative(process.cwd(), path.dirname(found)) || '.'}/report.html)\n`);
  stream.write(`wall time: ${(summary.durationMs / 1000).toFixed(1)} s\n`);
}

function parsePositive(v: string, name: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new CommandError(`${name} expects a positive integer, got '${v}'`, ExitCode.usage);
  return n;
}

/** A total thread budget above the cores would slow every stage down (they time-share). */
function checkThreads(threads: number | undefined, oversubscribe: boolean | undefined): void {
  const cores = os.availableParallelism();
  if (threads !== undefined && threads > cores && !oversubscribe) {
    throw new CommandError(`--threads ${threads}: more than the ${cores} cores of this machine (add --oversubscribe to allow it)`, ExitCode.usage);
  }
}
