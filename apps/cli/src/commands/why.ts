import * as fs from 'node:fs';
import type { Command } from 'commander';
import { ExitCode } from '@cbnn/core';
import { expandNames, planStatus, upstreamOf } from '@cbnn/pipeline';
import { checkStageNames, collect, CommandError, DEFAULT_PIPELINE, openPipeline, printJson } from '../context';

/**
 * `cbnn why <stage> [pipeline]`, and also `cbnn why <pipeline> <stage>` (the order of `status`,
 * `dag` and `run`, which take the pipeline first). The pipeline is the argument that names a
 * YAML file or an existing file; stage names cannot be both (a stage called `x.yaml` still works
 * when the other argument is the pipeline file).
 */
export function whyArguments(first: string, second: string | undefined): { stage: string; file: string | undefined } {
  const isFile = (s: string): boolean => fs.existsSync(s) && fs.statSync(s).isFile();
  const looksLikeFile = (s: string): boolean => /\.ya?ml$/i.test(s) || isFile(s);
  if (second === undefined) {
    if (isFile(first))
      throw new CommandError(`cbnn why ${first}: name a stage too: cbnn why <stage> [pipeline], e.g. cbnn why select ${first}`, ExitCode.usage);
    return { stage: first, file: undefined };
  }
  if (looksLikeFile(first) && !isFile(second)) return { stage: second, file: first };
  return { stage: first, file: second };
}

export function registerWhy(program: Command): void {
  program
    .command('why')
    .argument('<stage>', 'stage or instance name (the pipeline may come first instead: cbnn why <pipeline> <stage>)')
    .argument('[pipeline]', `pipeline YAML file (default: ${DEFAULT_PIPELINE})`)
    .description('why a stage would run (or not): its key, what changed, and its upstream')
    .option('--set <key=value>', 'override a top-level param; repeatable', collect)
    .option('--store <dir>', 'artifact store folder (default: .cbnn/ in the project)')
    .option('--json', 'JSON on stdout')
    .action((first: string, second: string | undefined, opts: { set?: string[]; store?: string; json?: boolean }) => {
      const { stage, file } = whyArguments(first, second);
      const { pipeline, store } = openPipeline(file, opts);
      checkStageNames(pipeline, [stage], 'why');
      const ids = expandNames(pipeline, [stage], 'why');
      const plans = planStatus(pipeline, store);
      const deps = new Map(pipeline.instances.map((i) => [i.id, i.upstream]));
      const out = [...ids].map((id) => {
        const plan = plans.find((p) => p.id === id)!;
        const up = [...upstreamOf(id, deps)];
        return { ...plan, locked: undefined, upstream: plans.filter((p) => up.includes(p.id)).map((p) => ({ id: p.id, action: p.action })) };
      });
      if (opts.json) return printJson(out);
      for (const p of out) {
        process.stdout.write(`${p.id}: ${p.action}\n`);
        for (const r of p.reasons) process.stdout.write(`  - ${r}\n`);
        if (p.key) process.stdout.write(`  key ${p.key}\n`);
        if (p.material) {
          const m = p.material;
          process.stdout.write(`  ${m.kind === 'handler' ? `handler ${m.handler} v${m.version}` : `cmd: ${m.cmd}`}\n  params ${JSON.stringify(m.params)}\n`);
          for (const [k, h] of Object.entries(m.inputs)) process.stdout.write(`  input ${k} = ${h}\n`);
          for (const [k, h] of Object.entries(m.deps)) process.stdout.write(`  dep ${k} = ${h}\n`);
        }
        for (const u of p.upstream) process.stdout.write(`  upstream ${u.id}: ${u.action}\n`);
      }
    });
}
