import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { writeFileAtomicSync } from '@cbnn/core';
import type { ReportFolders } from '@cbnn/report';
import type { ResolvedPipeline } from '@cbnn/pipeline';
import { CommandError, collect, openPipeline } from '../context';

/** Which report input each handler's output feeds. The baseline is the train.bnn stage outside any matrix with no plan. */
function reportFolders(pipeline: ResolvedPipeline, outRoot: string): ReportFolders {
  const folders: Record<string, string> = {};
  const take = (name: string, id: string) => {
    const dir = path.join(outRoot, id);
    if (fs.existsSync(dir) && folders[name] === undefined) folders[name] = dir;
  };
  for (const inst of pipeline.instances) {
    switch (inst.handler?.name) {
      case 'bitslice.dataset': take('dataset', inst.id); break;
      case 'sensitivity.planes': take('sensitivity', inst.id); break;
      case 'pruning.plan': take('plan', inst.id); break;
      case 'pruning.select': take('search', inst.id); break;
      case 'bench.runtime': take('bench', inst.id); break;
      case 'train.fp': take('fp', inst.id); break;
      case 'train.bnn': if (!inst.matrix && !inst.needs.plan) take('baseline', inst.id); break;
    }
  }
  return folders as ReportFolders;
}

export function registerReport(program: Command): void {
  program
    .command('report [pipeline]')
    .description("build the HTML report (and markdown summary) from a pipeline's latest results")
    .option('--out <file>', 'where to write the HTML (default: <store>/reports/<pipeline>.html)')
    .option('--title <text>', 'report title')
    .option('--set <key=value>', 'override a top-level param (as given to run); repeatable', collect)
    .option('--store <dir>', 'artifact store folder (default: .cbnn/ in the project)')
    .action(async (file: string | undefined, opts: { out?: string; title?: string; set?: string[]; store?: string }) => {
      const { buildReport, collectProvenance, loadReportInput } = await import('@cbnn/report');
      const { pipeline, store } = openPipeline(file, opts);
      const folders = reportFolders(pipeline, store.outDir);
      if (Object.keys(folders).length === 0) {
        throw new CommandError(`no results of pipeline '${pipeline.name}' in ${store.outDir}: run it first (cbnn run ${path.relative(process.cwd(), pipeline.file)})`);
      }
      const dag = {
        stages: pipeline.instances.map((i) => ({ name: i.id, handler: i.handler?.name ?? 'cmd' })),
        edges: pipeline.instances.flatMap((i) => Object.entries(i.needs).flatMap(([input, n]) => n.instances.map((from) => ({ from, to: i.id, input })))),
      };
      const provenance = { ...collectProvenance(), pipeline: path.relative(process.cwd(), pipeline.file), command: `cbnn ${process.argv.slice(2).join(' ')}` };
      const input = loadReportInput(folders, { title: opts.title ?? `cbnn: ${pipeline.name}`, dag, provenance });
      const { html, markdown } = buildReport(input);
      const out = path.resolve(opts.out ?? path.join(store.root, 'reports', `${pipeline.name}.html`));
      writeFileAtomicSync(out, html);
      writeFileAtomicSync(out.replace(/\.html?$/, '') + '.md', markdown);
      process.stdout.write(`${markdown.trimEnd()}\n\nreport: ${out}\n`);
    });
}
