import * as path from 'node:path';
import type { Command } from 'commander';
import { writeFileAtomicSync } from '@cbnn/core';
import type { ReportFolders } from '@cbnn/report';
import { ExitCode } from '@cbnn/core';
import { latestCompleteRun, listPipelineRuns, type ArtifactStore, type PipelineRun, type ResolvedPipeline } from '@cbnn/pipeline';
import { CommandError, collect, openPipeline } from '../context';

/**
 * Which report input each handler's output feeds, all from one run's outputs (never the `out/`
 * links, which each run repoints stage by stage). The baseline is the train.bnn stage outside any
 * matrix with no plan.
 */
function reportFolders(pipeline: ResolvedPipeline, store: ArtifactStore, run: PipelineRun): ReportFolders {
  const folders: Record<string, string> = {};
  const take = (name: string, id: string) => {
    const output = run.stages[id]?.output;
    if (output === undefined || folders[name] !== undefined) return;
    const bad = store.objects.checkOutput(output);
    if (bad.length) throw new CommandError(`run ${run.id}: the output of stage '${id}' is no longer intact in the store (${bad[0].problem}: ${bad[0].path}); run the pipeline again`, ExitCode.corruptStore);
    folders[name] = store.views.view(output);
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
    .option('--run <id>', 'report this run (default: the latest complete run; ids: <store>/pipeline-runs/<pipeline>/)')
    .action(async (file: string | undefined, opts: { out?: string; title?: string; set?: string[]; store?: string; run?: string }) => {
      const { pipeline, store } = openPipeline(file, opts);
      const runs = listPipelineRuns(store.root, pipeline.file, pipeline.name);
      const run = opts.run ? runs.find((r) => r.id === opts.run) : latestCompleteRun(runs);
      if (!run) {
        if (opts.run) throw new CommandError(`--run ${opts.run}: no such run of pipeline '${pipeline.name}' in ${store.root} (runs: ${runs.map((r) => `${r.id}${r.complete ? '' : ' (partial)'}`).join(', ') || 'none'})`, ExitCode.usage);
        throw new CommandError(`no complete run of pipeline '${pipeline.name}' in ${store.root}${runs.length ? ` (only partial runs: ${runs.map((r) => r.id).join(', ')}; pick one with --run)` : ''}: run it first (cbnn run ${path.relative(process.cwd(), pipeline.file)}; a cached run is quick)`);
      }
      const { buildReport, collectProvenance, loadReportInput } = await import('@cbnn/report');
      const folders = reportFolders(pipeline, store, run);
      if (Object.keys(folders).length === 0) throw new CommandError(`run ${run.id} of pipeline '${pipeline.name}' has no results a report reads`);
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
      process.stdout.write(`${markdown.trimEnd()}\n\nreport of run ${run.id} (${run.complete ? 'complete' : 'partial'}, ended ${run.endedAt}): ${out}\n`);
    });
}
