import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { ExitCode, writeFileAtomicSync } from '@cbnn/core';
import { buildReport, collectProvenance, loadReportInput, type ReportFolders } from '@cbnn/report';
import { BENCH_FILE, readBenchResult } from '@cbnn/bench/bench-format';
import { ratioListLines } from '@cbnn/bench/ratio-matrix';
import type { ArtifactStore, ResolvedPipeline } from '@cbnn/pipeline';
import { CommandError, collect, openPipeline, PIPELINE_ARGUMENT } from '../context';

/** Which report input each handler's output feeds. The baseline is the train.bnn stage outside any matrix with no plan. */
export function reportFolders(pipeline: ResolvedPipeline, outRoot: string): ReportFolders {
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

/**
 * `--verbose`: every speed ratio of the pipeline's benchmark, one per line, after the summary
 * (which shows them as a matrix). Nothing when the pipeline has no benchmark result.
 */
export function printRatioList(pipeline: ResolvedPipeline, store: ArtifactStore, stream: NodeJS.WritableStream): void {
  const bench = reportFolders(pipeline, store.outDir).bench;
  if (!bench || !fs.existsSync(path.join(bench, BENCH_FILE))) return;
  const result = readBenchResult(path.join(bench, BENCH_FILE));
  if (result.ratios.length) stream.write(`\nEvery speed ratio (same run, median latencies):\n${ratioListLines(result).join('\n')}\n`);
}

export function registerReport(program: Command): void {
  program
    .command('report')
    .argument('[pipeline]', PIPELINE_ARGUMENT)
    .description("build the HTML report (and markdown summary) from a pipeline's latest results")
    .option('--out <file>', 'where to write the HTML (default: <store>/reports/<pipeline>.html)')
    .option('--title <text>', 'report title')
    .option('--set <key=value>', 'override a top-level param (as given to run); repeatable', collect)
    .option('--store <dir>', 'artifact store folder (default: .cbnn/ in the project)')
    .option('--verbose', 'after the summary, list every speed ratio of the benchmark one per line')
    .action((file: string | undefined, opts: { out?: string; title?: string; set?: string[]; store?: string; verbose?: boolean }) => {
      const { pipeline, store } = openPipeline(file, opts);
      const folders = reportFolders(pipeline, store.outDir);
      if (Object.keys(folders).length === 0) {
        throw new CommandError(`no results of pipeline '${pipeline.name}' in ${store.outDir}: run it first (cbnn run ${path.relative(process.cwd(), pipeline.file)})`, ExitCode.invalidInput);
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
      if (opts.verbose) printRatioList(pipeline, store, process.stdout);
    });
}
