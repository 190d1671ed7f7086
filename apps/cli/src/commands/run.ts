import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { ExitCode, CancelledError } from '@cbnn/core';
import { LocalExecutor, ProgressRenderer, runPipeline, type Executor, type RunSummary } from '@cbnn/pipeline';
import { collect, CommandError, openPipeline, positiveInteger, printJson, workerScript } from '../context';

export function registerRun(program: Command): void {
  program
    .command('run [pipeline]')
    .description('run a pipeline: restore cached stages, execute the rest')
    .option('--stage <name>', 'run only this stage (and what it needs); repeatable', collect)
    .option('--force <name>', 'execute this stage even if cached; repeatable', collect)
    .option('-j, --jobs <n>', 'stages running at once (default: number of cores)', positiveInteger)
    .option('--set <key=value>', 'override a top-level param; repeatable', collect)
    .option('--store <dir>', 'artifact store folder (default: .cbnn/ in the project)')
    .option('--keep-going', 'after a failure, keep running stages that do not depend on it')
    .option('--no-wait', 'refuse at once when another run holds the store (default: wait)')
    .option('--name <name>', 'name the run record, to find it by (cbnn exp show NAME, cbnn report --run NAME)')
    .option('--json', 'print the run summary as JSON on stdout')
    .option('--executor <name>', 'local (child processes here, default) or bullmq (stages queued on Redis for `cbnn worker`s)', 'local')
    .option('--redis <url>', 'Redis URL for --executor bullmq (default: $CBNN_REDIS_URL)')
    .option('--queue <name>', 'queue name for --executor bullmq (default cbnn-stages)')
    .option('--prefix <prefix>', 'Redis key prefix for --executor bullmq (default cbnn)')
    .action(async (file: string | undefined, opts: { stage?: string[]; force?: string[]; jobs?: number; set?: string[]; store?: string; keepGoing?: boolean; wait: boolean; name?: string; json?: boolean; executor: string; redis?: string; queue?: string; prefix?: string }) => {
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
        ? await (await import('@cbnn/pipeline/bullmq')).BullmqExecutor.connect({ redis: redis!, store, queue: opts.queue, prefix: opts.prefix, onMessage: (m) => process.stderr.write(`${m}\n`) })
        : undefined;
      const executor: Executor = bullmq ?? new LocalExecutor({ workerScript: workerScript() });
      let summary: RunSummary;
      try {
        summary = await runPipeline(pipeline, {
          store,
          executor,
          // With queue workers, how many stages run at once is up to the workers: queue every ready stage.
          jobs: opts.jobs ?? (bullmq ? 256 : undefined),
          stages: opts.stage,
          force: opts.force,
          keepGoing: opts.keepGoing,
          waitForLock: opts.wait,
          signal: abort.signal,
          reporter: new ProgressRenderer(process.stderr),
          record: { name: opts.name, command: `cbnn ${process.argv.slice(2).join(' ')}` },
        });
      } finally {
        await executor.close();
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
      printResultSummary(summary, opts.json ? process.stderr : process.stdout);
      if (summary.runId) process.stderr.write(`run recorded: ${summary.runId}${opts.name ? ` (${opts.name})` : ''} — cbnn exp show ${opts.name ?? summary.runId}\n`);
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

