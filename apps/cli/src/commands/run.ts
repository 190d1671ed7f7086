import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Option, type Command } from 'commander';
import { ExitCode, CancelledError } from '@cbnn/core';
import { ArtifactStore, failedRunExitCode, LocalExecutor, planStatus, ProgressRenderer, runPipeline, type Executor, type RunSummary } from '@cbnn/pipeline';
import { checkStageNames, collect, CommandError, openPipeline, PIPELINE_ARGUMENT, positiveInteger, printJson, workerScript } from '../context';
import { printPlans } from './status';
import { printRatioList } from './report';
import { readRunRecords } from '@cbnn/pipeline/run-records';
import { runTimeLine } from '../run-time-line';

interface RunOptions {
  name?: string;
  stage?: string[];
  force?: string[];
  jobs?: number;
  threads?: number;
  oversubscribe?: boolean;
  set?: string[];
  store?: string;
  keepGoing?: boolean;
  wait: boolean;
  json?: boolean;
  dryRun?: boolean;
  verbose?: boolean;
  executor: 'local' | 'bullmq';
  redis?: string;
  queue?: string;
  prefix?: string;
  workerNotice: number;
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .argument('[pipeline]', PIPELINE_ARGUMENT)
    .description('run a pipeline: restore cached stages, execute the rest')
    .option('--stage <name>', 'run only this stage (and what it needs); repeatable', collect)
    .option('--force <name>', 'execute this stage even if cached; repeatable', collect)
    .option('-j, --jobs <n>', 'stages running at once, the critical ones first (default: number of cores)', positiveInteger('--jobs'))
    .option(
      '--threads <n>',
      'total CPU threads shared by the running stages; spare ones go to the stage the most work waits on (default: number of cores)',
      positiveInteger('--threads'),
    )
    .option('--oversubscribe', 'allow --threads above the number of cores')
    .option('--set <key=value>', 'override a top-level param; repeatable', collect)
    .option('--store <dir>', 'artifact store folder (default: .cbnn/ in the project)')
    .option('--keep-going', 'after a failure, keep running stages that do not depend on it')
    .option('--no-wait', 'refuse at once when another run holds the store (default: wait)')
    .option('--name <name>', 'name the run record, to find it by (cbnn exp show NAME, cbnn report --run NAME)')
    .option('--dry-run', 'load and check the pipeline, print which stages would run and why, then stop (nothing executed, queued or written)')
    .option('--verbose', 'after the results table, list every speed ratio of the benchmark one per line')
    .option('--json', 'print the run summary as JSON on stdout')
    .addOption(
      new Option('--executor <name>', 'local: child processes here; bullmq: stages queued on Redis for `cbnn worker`s')
        .choices(['local', 'bullmq'])
        .default('local'),
    )
    .option('--redis <url>', 'Redis URL for --executor bullmq (default: $CBNN_REDIS_URL)')
    .option('--queue <name>', 'queue name for --executor bullmq (default cbnn-stages)')
    .option('--prefix <prefix>', 'Redis key prefix for --executor bullmq (default cbnn)')
    .option(
      '--worker-notice <seconds>',
      'with --executor bullmq: say so when no worker has taken a queued stage for this long, and again at this interval',
      positiveInteger('--worker-notice'),
      30,
    )
    .action(async (file: string | undefined, opts: RunOptions) => {
      checkThreads(opts.threads, opts.oversubscribe);
      const { pipeline, store } = openPipeline(file, opts);
      checkStageNames(pipeline, opts.stage, '--stage');
      checkStageNames(pipeline, opts.force, '--force');
      const redis = opts.redis ?? process.env.CBNN_REDIS_URL;
      if (opts.executor === 'bullmq' && !redis) throw new CommandError('--executor bullmq needs --redis URL (or $CBNN_REDIS_URL)', ExitCode.usage);
      if (opts.dryRun) return await dryRun(pipeline, store, opts, redis);
      const abort = new AbortController();
      const onSignal = (sig: NodeJS.Signals): void => {
        if (!abort.signal.aborted) process.stderr.write(`\n${sig}: cancelling (running stages are stopped, nothing partial is kept)\n`);
        abort.abort(new Error(sig));
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      // Checks Redis first (reachable, authenticated, >= 5.0): exit 7 before anything is queued.
      const bullmq =
        opts.executor === 'bullmq'
          ? await (
              await import('@cbnn/pipeline/bullmq')
            ).BullmqExecutor.connect({
              redis: redis!,
              store,
              queue: opts.queue,
              prefix: opts.prefix,
              noWorkerNoticeMs: opts.workerNotice * 1000,
              onMessage: (m) => process.stderr.write(`${m}\n`),
            })
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
          record: { name: opts.name, command: `cbnn ${process.argv.slice(2).join(' ')}` },
        });
      } finally {
        await executor.close();
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
      const stream = opts.json ? process.stderr : process.stdout;
      printResultSummary(summary, store, stream);
      if (summary.runId)
        process.stderr.write(`run recorded: ${summary.runId}${opts.name ? ` (${opts.name})` : ''} — cbnn exp show ${opts.name ?? summary.runId}\n`);
      if (opts.verbose && summary.ok && summary.runId) {
        const record = readRunRecords(store.root).runs.find((r) => r.id === summary.runId);
        if (record) printRatioList(store, stream, record);
      }
      if (opts.json) printJson(summary);
      if (bullmq?.unavailable) throw bullmq.unavailable;
      if (summary.cancelled) throw new CancelledError('run cancelled; finished stages are kept in the store');
      // 3 when only the user's data failed (a stage's InvalidInputError), 4 when anything else did too.
      if (!summary.ok) process.exitCode = failedRunExitCode(summary.outcomes);
    });
}

async function dryRun(pipeline: ReturnType<typeof openPipeline>['pipeline'], store: ArtifactStore, opts: RunOptions, redis: string | undefined): Promise<void> {
  const plans = planStatus(pipeline, store);
  if (opts.json) return printJson({ dryRun: true, pipeline: pipeline.file, store: store.root, stages: plans.map(({ locked: _l, material: _m, ...p }) => p) });
  printPlans(plans);
  const where =
    opts.executor === 'bullmq'
      ? `queued on Redis at ${(await import('@cbnn/pipeline/bullmq')).redactRedisUrl(redis!)}, queue ${opts.queue ?? 'cbnn-stages'} (not contacted)`
      : 'executed here';
  process.stdout.write(
    `dry run: nothing was ${opts.executor === 'bullmq' ? 'queued' : 'executed'} or written; without --dry-run the stages marked 'run' are ${where}\n`,
  );
}

/**
 * A stage that leaves a `summary.md` (the report does) has it printed at the end of the run, so the
 * results table is the last thing a user sees. The last such stage in pipeline order wins.
 */
function printResultSummary(summary: RunSummary, store: ArtifactStore, stream: NodeJS.WriteStream): void {
  if (!summary.ok) return;
  let found: string | undefined;
  for (const outcome of summary.outcomes) {
    const file = path.join(summary.store, 'out', outcome.id, 'summary.md');
    if (fs.existsSync(file)) found = file;
  }
  if (!found) return;
  stream.write(`\n${fs.readFileSync(found, 'utf8').trimEnd()}\n\n(${path.relative(process.cwd(), path.dirname(found)) || '.'}/report.html)\n`);
  stream.write(`${runTimeLine(summary, store)}\n`);
}

/** A total thread budget above the cores would slow every stage down (they time-share). */
function checkThreads(threads: number | undefined, oversubscribe: boolean | undefined): void {
  const cores = os.availableParallelism();
  if (threads !== undefined && threads > cores && !oversubscribe) {
    throw new CommandError(`--threads ${threads}: more than the ${cores} cores of this machine (add --oversubscribe to allow it)`, ExitCode.usage);
  }
}
