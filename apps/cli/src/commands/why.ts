import type { Command } from 'commander';
import { ExitCode } from '@cbnn/core';
import { expandNames, planStatus, upstreamOf } from '@cbnn/pipeline';
import { collect, CommandError, openPipeline, printJson } from '../context';

export function registerWhy(program: Command): void {
  program
    .command('why <stage> [pipeline]')
    .description('why a stage would run (or not): its key, what changed, and its upstream')
    .option('--set <key=value>', 'override a top-level param; repeatable', collect)
    .option('--store <dir>', 'artifact store folder')
    .option('--json', 'JSON on stdout')
    .action((stage: string, file: string | undefined, opts: { set?: string[]; store?: string; json?: boolean }) => {
      const { pipeline, store } = openPipeline(file, opts);
      let ids: Set<string>;
      try {
        ids = expandNames(pipeline, [stage], 'why');
      } catch (e) {
        throw new CommandError((e as Error).message, ExitCode.usage);
      }
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
