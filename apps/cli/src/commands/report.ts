import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { ExitCode, writeFileAtomicSync } from '@cbnn/core';
import type { ReportFolders } from '@cbnn/report';
import { BENCH_FILE, readBenchResult } from '@cbnn/bench/bench-format';
import { ratioListLines } from '@cbnn/bench/ratio-matrix';
import { ArtifactStore, latestCompleteRun, readRunRecords, resolveRun, runsOfPipeline, stagesWithOutput, type RecordedRun } from '@cbnn/pipeline/run-records';
import { CommandError, collect, openPipeline, PIPELINE_ARGUMENT } from '../context';

/**
 * Which report input each handler's output feeds, all from one recorded run's outputs (never the
 * `out/` links, which each run repoints stage by stage). The baseline is the train.bnn stage
 * outside any matrix with no plan.
 */
function reportFolders(run: RecordedRun, store: ArtifactStore): ReportFolders {
  const folders: Record<string, string> = {};
  const take = (name: string, s: RecordedRun['stages'][number] & { output: string }) => {
    if (folders[name] !== undefined) return;
    const bad = store.objects.checkOutput(s.output);
    if (bad.length)
      throw new CommandError(
        `run ${run.id}: the output of stage '${s.id}' is no longer intact in the store (${bad[0].problem}: ${bad[0].path}); run the pipeline again`,
        ExitCode.corruptStore,
      );
    folders[name] = store.views.view(s.output);
  };
  for (const s of stagesWithOutput(run)) {
    switch (s.handler) {
      case 'bitslice.dataset':
        take('dataset', s);
        break;
      case 'sensitivity.planes':
        take('sensitivity', s);
        break;
      case 'pruning.plan':
        take('plan', s);
        break;
      case 'pruning.select':
        take('search', s);
        break;
      case 'bench.runtime':
        take('bench', s);
        break;
      case 'train.fp':
        take('fp', s);
        break;
      case 'train.bnn':
        if (!s.matrix && !s.needs.plan) take('baseline', s);
        break;
    }
  }
  return folders as ReportFolders;
}

/**
 * `--verbose`: every speed ratio of the run's benchmark, one per line, after the summary (which
 * shows them as a matrix). Nothing when the run has no benchmark result.
 */
export function printRatioList(store: ArtifactStore, stream: NodeJS.WritableStream, run: RecordedRun): void {
  const bench = reportFolders(run, store).bench;
  if (!bench || !fs.existsSync(path.join(bench, BENCH_FILE))) return;
  const result = readBenchResult(path.join(bench, BENCH_FILE));
  if (result.ratios.length) stream.write(`\nEvery speed ratio (same run, median latencies):\n${ratioListLines(result).join('\n')}\n`);
}

export function registerReport(program: Command): void {
  program
    .command('report')
    .argument('[pipeline]', PIPELINE_ARGUMENT)
    .description('build the HTML report (and markdown summary) of one recorded run: the latest complete run of the pipeline, or --run')
    .option('--out <file>', 'where to write the HTML (default: <store>/reports/<pipeline>.html)')
    .option('--title <text>', 'report title')
    .option('--set <key=value>', 'override a top-level param (as given to run); repeatable', collect)
    .option('--store <dir>', 'artifact store folder (default: .cbnn/ in the project)')
    .option('--run <id>', 'report this recorded run: id, name or id prefix (cbnn exp list); the pipeline file is then not needed with --store')
    .option('--verbose', 'after the summary, list every speed ratio of the benchmark one per line')
    .action(async (file: string | undefined, opts: { out?: string; title?: string; set?: string[]; store?: string; run?: string; verbose?: boolean }) => {
      // A recorded run carries its stages: the pipeline file is then only needed to find the store.
      const { pipeline, store } =
        opts.run !== undefined && opts.store ? { pipeline: undefined, store: new ArtifactStore(path.resolve(opts.store)) } : openPipeline(file, opts);
      const { runs } = readRunRecords(store.root);
      let run: RecordedRun | undefined;
      if (opts.run !== undefined) run = resolveRun(runs, opts.run, '--run');
      else {
        const own = runsOfPipeline(runs, pipeline!.file, pipeline!.name);
        run = latestCompleteRun(own);
        if (!run)
          throw new CommandError(
            `no complete run of pipeline '${pipeline!.name}' in ${store.root}${own.length ? ` (only partial runs: ${own.map((r) => r.id).join(', ')}; pick one with --run)` : ''}: run it first (cbnn run ${path.relative(process.cwd(), pipeline!.file)}; a cached run is quick)`,
          );
      }
      const { buildReport, collectProvenance, loadReportInput } = await import('@cbnn/report');
      const folders = reportFolders(run, store);
      if (Object.keys(folders).length === 0)
        throw new CommandError(
          `run ${run.id} of pipeline '${run.pipeline.name}' has no results a report reads (its stages: ${run.stages.map((s) => `${s.id} ${s.status}`).join(', ')})`,
        );
      const dag = {
        stages: run.stages.map((s) => ({ name: s.id, handler: s.handler ?? 'cmd' })),
        edges: run.stages.flatMap((s) => Object.entries(s.needs).flatMap(([input, ids]) => ids.map((from) => ({ from, to: s.id, input })))),
      };
      const provenance = {
        ...collectProvenance(),
        gitCommit: run.git?.commit,
        gitDirty: run.git?.dirty,
        pipeline: path.relative(process.cwd(), run.pipeline.file),
        command: run.command ?? `cbnn ${process.argv.slice(2).join(' ')}`,
        run: { id: run.id, name: run.name, startedAt: run.startedAt, status: run.status },
      };
      const input = loadReportInput(folders, { title: opts.title ?? `cbnn: ${run.pipeline.name}`, dag, provenance });
      const { html, markdown } = buildReport(input);
      const out = path.resolve(opts.out ?? path.join(store.root, 'reports', opts.run !== undefined ? `run-${run.id}.html` : `${run.pipeline.name}.html`));
      writeFileAtomicSync(out, html);
      writeFileAtomicSync(out.replace(/\.html?$/, '') + '.md', markdown);
      process.stdout.write(
        `${markdown.trimEnd()}\n\nreport of run ${run.id}${run.name ? ` (${run.name})` : ''} (${run.complete ? 'complete' : 'partial'}, ended ${run.endedAt})\nreport: ${out}\n`,
      );
      if (opts.verbose) printRatioList(store, process.stdout, run);
    });
}
