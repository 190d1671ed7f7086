import type { Command } from 'commander';
import { ExitCode, CancelledError } from '@cbnn/core';
import { LocalExecutor, ProgressRenderer, runPipeline, type RunSummary } from '@cbnn/pipeline';
import { collect, openPipeline, printJson, workerScript } from '../context';

export function registerRun(program: Command): void {
  program
    .command('run [pipeline]')
    .description('run a pipeline: restore cached stages, execute the rest')
    .option('--stage <name>', 'run only this stage (and what it needs); repeatable', collect)
    .option('--force <name>', 'execute this stage even if cached; repeatable', collect)
    .option('-j, --jobs <n>', 'stages running at once (default: number of cores)', (v) => parsePositive(v, '--jobs'))
    .option('--set <key=value>', 'override a top-level param; repeatable', collect)
    .option('--store <dir>', 'artifact store folder (default: .cbnn/ in the project)')
    .option('--keep-going', 'after a failure, keep running stages that do not depend on it')
    .option('--no-wait', 'refuse at once when another run holds the store (default: wait)')
    .option('--json', 'print the run summary as JSON on stdout')
    .action(async (file: string | undefined, opts: { stage?: string[]; force?: string[]; jobs?: number; set?: string[]; store?: string; keepGoing?: boolean; wait: boolean; json?: boolean }) => {
      const { pipeline, store } = openPipeline(file, opts);
      const abort = new AbortController();
      const onSignal = (sig: NodeJS.Signals): void => {
        if (!abort.signal.aborted) process.stderr.write(`\n${sig}: cancelling (running stages are stopped, nothing partial is kept)\n`);
        abort.abort(new Error(sig));
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      const executor = new LocalExecutor({ workerScript: workerScript() });
      let summary: RunSummary;
      try {
        summary = await runPipeline(pipeline, {
          store,
          executor,
          jobs: opts.jobs,
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
      if (opts.json) printJson(summary);
      if (summary.cancelled) throw new CancelledError('run cancelled; finished stages are kept in the store');
      if (!summary.ok) process.exitCode = ExitCode.stageFailed;
    });
}

function parsePositive(v: string, name: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} expects a positive integer, got '${v}'`);
  return n;
}
