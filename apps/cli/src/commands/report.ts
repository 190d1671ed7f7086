import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { ExitCode, writeFileAtomicSync } from '@cbnn/core';
import type { ReportFolders } from '@cbnn/report';
import { BENCH_FILE, readBenchResult } from '@cbnn/bench/bench-format';
import { ratioListLines } from '@cbnn/bench/ratio-matrix';
import { latestCompleteRun, listPipelineRuns, type ArtifactStore, type PipelineRun, type ResolvedPipeline } from '@cbnn/pipeline';
import { CommandError, collect, openPipeline, PIPELINE_ARGUMENT } from '../context';

/**
 * Which report input each handler's output feeds; `folderOf` gives an instance's output folder
 * (or nothing). The baseline is the train.bnn stage outside any matrix with no plan.
 */
export function reportFolders(pipeline: ResolvedPipeline, folderOf: (id: string) => string | undefined): ReportFolders {
  const folders: Record<string, string> = {};
  const take = (name: string, id: string) => {
    if (folders[name] !== undefined) return;
    const dir = folderOf(id);
    if (dir !== undefined) folders[name] = dir;
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

/** The `out/` folders (what the run just finished shows). */
function outFolder(store: ArtifactStore): (id: string) => string | undefined {
  return (id) => {
    const dir = path.join(store.outDir, id);
    return fs.existsSync(dir) ? dir : undefined;
  };
}

/**
 * One run's outputs, read through their views (checked intact), never the `out/` links, which
 * each run repoints stage by stage: a report never mixes two runs.
 */
function runFolder(store: ArtifactStore, run: PipelineRun): (id: string) => string | undefined {
  return (id) => {
    const output = run.stages[id]?.output;
    if (output === undefined) return undefined;
    const bad = store.objects.checkOutput(output);
    if (bad.length) throw new CommandError(`run ${run.id}: the output of stage '${id}' is no longer intact in the store (${bad[0].problem}: ${bad[0].path}); run the pipeline again`, ExitCode.corruptStore);
    return store.views.view(output);
  };
}

/**
 * `--verbose`: every speed ratio of the pipeline's benchmark, one per line, after the summary
 * (which shows them as a matrix). Nothing when the pipeline has no benchmark result.
 */
export function printRatioList(pipeline: ResolvedPipeline, store: ArtifactStore, stream: NodeJS.WritableStream, run?: PipelineRun): void {
  const bench = reportFolders(pipeline, run ? runFolder(store, run) : outFolder(store)).bench;
  if (!bench || !fs.existsSync(path.join(bench, BENCH_FILE))) return;
  const result = readBenchResult(path.join(bench, BENCH_FILE));
  if (result.ratios.length) stream.write(`\nEvery speed ratio (same run, median latencies):\n${ratioListLines(result).join('\n')}\n`);
}

export function registerReport(program: Command): void {
  program
    .command('report')
    .argument('[pipeline]', PIPELINE_ARGUMENT)
    .description("build the HTML report (and markdown summary) from one run's results (default: the latest complete run)")
    .option('--out <file>', 'where to write the HTML (default: <store>/reports/<pipeline>.html)')
    .option('--title <text>', 'report title')
    .option('--set <key=value>', 'override a top-level param (as given to run); repeatable', collect)
    .option('--store <dir>', 'artifact store folder (default: .cbnn/ in the project)')
    .option('--run <id>', 'report this run (default: the latest complete run; ids: <store>/pipeline-runs/<pipeline>/)')
    .option('--verbose', 'after the summary, list every speed ratio of the benchmark one per line')
    .action(async (file: string | undefined, opts: { out?: string; title?: string; set?: string[]; store?: string; run?: string; verbose?: boolean }) => {
      const { pipeline, store } = openPipeline(file, opts);
      const runs = listPipelineRuns(store.root, pipeline.file, pipeline.name);
      const run = opts.run ? runs.find((r) => r.id === opts.run) : latestCompleteRun(runs);
      if (!run) {
        if (opts.run) throw new CommandError(`--run ${opts.run}: no such run of pipeline '${pipeline.name}' in ${store.root} (runs: ${runs.map((r) => `${r.id}${r.complete ? '' : ' (partial)'}`).join(', ') || 'none'})`, ExitCode.usage);
        throw new CommandError(
          `no results of pipeline '${pipeline.name}' in ${store.root}: no complete run${runs.length ? ` (only partial runs: ${runs.map((r) => r.id).join(', ')}; pick one with --run)` : ''}; run it first (cbnn run ${path.relative(process.cwd(), pipeline.file)}; a cached run is quick)`,
          ExitCode.invalidInput,
        );
      }
      const { buildReport, collectProvenance, loadReportInput } = await import('@cbnn/report');
      const folders = reportFolders(pipeline, runFolder(store, run));
      if (Object.keys(folders).length === 0) throw new CommandError(`run ${run.id} of pipeline '${pipeline.name}' has no results a report reads`, ExitCode.invalidInput);
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
      process.stdout.write(`${markdown.trimEnd()}\n\nreport of run ${run.id} (${run.complete ? 'complete' : 'partial'}, ended ${run.endedAt})\nreport: ${out}\n`);
      if (opts.verbose) printRatioList(pipeline, store, process.stdout, run);
    });
}
