import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { ExitCode, writeFileAtomicSync } from '@cbnn/core';
import type { ReportFolders } from '@cbnn/report';
import { ArtifactStore, readRunRecords, resolveRun, stagesWithOutput, type RecordedRun } from '@cbnn/pipeline/run-records';
import { CommandError, collect, openPipeline } from '../context';

/** A stage as the report needs to know it: which handler made it and where its output is. */
interface ReportStage {
  id: string;
  handler?: string;
  matrix?: unknown;
  hasPlan: boolean;
  dir?: string;
}

/** Which report input each handler's output feeds. The baseline is the train.bnn stage outside any matrix with no plan. */
function reportFolders(stages: readonly ReportStage[]): ReportFolders {
  const folders: Record<string, string> = {};
  const take = (name: string, s: ReportStage) => {
    if (s.dir && folders[name] === undefined) folders[name] = s.dir;
  };
  for (const s of stages) {
    switch (s.handler) {
      case 'bitslice.dataset': take('dataset', s); break;
      case 'sensitivity.planes': take('sensitivity', s); break;
      case 'pruning.plan': take('plan', s); break;
      case 'pruning.select': take('search', s); break;
      case 'bench.runtime': take('bench', s); break;
      case 'train.fp': take('fp', s); break;
      case 'train.bnn': if (!s.matrix && !s.hasPlan) take('baseline', s); break;
    }
  }
  return folders as ReportFolders;
}

/** The stages of a recorded run, each output materialised from the store (refused when damaged). */
function recordedStages(run: RecordedRun, store: ArtifactStore): ReportStage[] {
  return stagesWithOutput(run).map((s) => {
    const bad = store.checkOutput(s.output);
    if (bad.length) throw new CommandError(`run ${run.id}: the output of stage '${s.id}' is damaged in the store (${bad.map((b) => `${b.path} ${b.problem}`).join('; ')}); cbnn verify checks the store`, ExitCode.corruptStore);
    return { id: s.id, handler: s.handler, matrix: s.matrix, hasPlan: 'plan' in s.needs, dir: store.view(s.output) };
  });
}

/** The newest recorded run of this pipeline whose outputs are exactly what out/ shows for these stages. */
function runShownInOut(runs: readonly RecordedRun[], pipelineName: string, store: ArtifactStore, used: readonly string[]): RecordedRun | undefined {
  return runs.find((r) => r.pipeline.name === pipelineName && used.every((id) => r.stages.some((s) => s.id === id && s.output !== undefined && s.output === store.exposed(id))));
}

export function registerReport(program: Command): void {
  program
    .command('report [pipeline]')
    .description("build the HTML report (and markdown summary) from a pipeline's latest results, or from a recorded run (--run)")
    .option('--run <id>', 'the recorded run to report (id, name or id prefix; cbnn exp list)')
    .option('--out <file>', 'where to write the HTML (default: <store>/reports/<pipeline>.html, <store>/reports/run-<id>.html with --run)')
    .option('--title <text>', 'report title')
    .option('--set <key=value>', 'override a top-level param (as given to run); repeatable', collect)
    .option('--store <dir>', 'artifact store folder (default: .cbnn/ in the project)')
    .action(async (file: string | undefined, opts: { run?: string; out?: string; title?: string; set?: string[]; store?: string }) => {
      const { buildReport, collectProvenance, loadReportInput } = await import('@cbnn/report');
      // A recorded run carries its stages: the pipeline file is then only needed to find the store.
      const { pipeline, store } = opts.run !== undefined && opts.store ? { pipeline: undefined, store: new ArtifactStore(path.resolve(opts.store)) } : openPipeline(file, opts);
      const { runs } = readRunRecords(store.root);
      const recorded = opts.run !== undefined ? resolveRun(runs, opts.run, '--run') : undefined;
      const stages: ReportStage[] = recorded
        ? recordedStages(recorded, store)
        : pipeline!.instances.map((i) => ({ id: i.id, handler: i.handler?.name, matrix: i.matrix, hasPlan: !!i.needs.plan, dir: fs.existsSync(path.join(store.outDir, i.id)) ? path.join(store.outDir, i.id) : undefined }));
      const folders = reportFolders(stages);
      const name = recorded?.pipeline.name ?? pipeline!.name;
      if (Object.keys(folders).length === 0) {
        throw new CommandError(recorded ? `run ${recorded.id} has no results the report reads (its stages: ${recorded.stages.map((s) => `${s.id} ${s.status}`).join(', ')})` : `no results of pipeline '${name}' in ${store.outDir}: run it first (cbnn run ${path.relative(process.cwd(), pipeline!.file)})`);
      }
      const used = stages.filter((s) => s.dir && Object.values(folders).includes(s.dir)).map((s) => s.id);
      const run = recorded ?? runShownInOut(runs, name, store, used);
      const dag = recorded
        ? { stages: recorded.stages.map((s) => ({ name: s.id, handler: s.handler ?? 'cmd' })), edges: recorded.stages.flatMap((s) => Object.entries(s.needs).flatMap(([input, ids]) => ids.map((from) => ({ from, to: s.id, input })))) }
        : {
            stages: pipeline!.instances.map((i) => ({ name: i.id, handler: i.handler?.name ?? 'cmd' })),
            edges: pipeline!.instances.flatMap((i) => Object.entries(i.needs).flatMap(([input, n]) => n.instances.map((from) => ({ from, to: i.id, input })))),
          };
      const provenance = {
        ...collectProvenance(),
        ...(recorded ? { gitCommit: recorded.git?.commit, gitDirty: recorded.git?.dirty } : {}),
        pipeline: path.relative(process.cwd(), recorded?.pipeline.file ?? pipeline!.file),
        command: recorded?.command ?? `cbnn ${process.argv.slice(2).join(' ')}`,
        run: run && { id: run.id, name: run.name, startedAt: run.startedAt, status: run.status },
      };
      const input = loadReportInput(folders, { title: opts.title ?? `cbnn: ${name}`, dag, provenance });
      const { html, markdown } = buildReport(input);
      const out = path.resolve(opts.out ?? path.join(store.root, 'reports', recorded ? `run-${recorded.id}.html` : `${name}.html`));
      writeFileAtomicSync(out, html);
      writeFileAtomicSync(out.replace(/\.html?$/, '') + '.md', markdown);
      process.stdout.write(`${markdown.trimEnd()}\n\nreport: ${out}${run ? ` (run ${run.id}${run.name ? `, ${run.name}` : ''})` : ''}\n`);
    });
}
