import type { Command } from 'commander';
import { planStatus, type StagePlan } from '@cbnn/pipeline';
import { collect, openPipeline, PIPELINE_ARGUMENT, printJson } from '../context';

export function registerStatus(program: Command): void {
  program
    .command('status')
    .argument('[pipeline]', PIPELINE_ARGUMENT)
    .description('which stages a run would execute, restore or leave, and exactly why')
    .option('--set <key=value>', 'override a top-level param; repeatable', collect)
    .option('--store <dir>', 'artifact store folder (default: .cbnn/ in the project)')
    .option('--json', 'JSON on stdout')
    .action((file: string | undefined, opts: { set?: string[]; store?: string; json?: boolean }) => {
      const { pipeline, store } = openPipeline(file, opts);
      const plans = planStatus(pipeline, store);
      if (opts.json) return printJson({ pipeline: pipeline.file, store: store.root, stages: plans.map(({ locked: _l, material: _m, ...p }) => p) });
      printPlans(plans);
    });
}

/** One line per stage (action, name), its reasons indented, and a count (status, run --dry-run). */
export function printPlans(plans: StagePlan[]): void {
  for (const p of plans) {
    process.stdout.write(`${p.action.padEnd(10)} ${p.id}\n`);
    for (const r of p.reasons) process.stdout.write(`           - ${r}\n`);
  }
  const n = plans.filter((p) => p.action === 'run').length;
  process.stdout.write(`${n} of ${plans.length} stages would run\n`);
}
