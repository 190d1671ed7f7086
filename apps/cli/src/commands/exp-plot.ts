import * as path from 'node:path';
import type { Command } from 'commander';
import { CbnnError, ExitCode, writeFileAtomicSync } from '@cbnn/core';
import {
  ArtifactStore,
  matchesGlob,
  metricsOf,
  paramsOf,
  pickColumns,
  readRecordedFile,
  stagesWithOutput,
  UnknownColumnError,
  type RecordedRun,
} from '@cbnn/pipeline/run-records';
import type { ExpPlotRun, SearchResult } from '@cbnn/report';
import { openRunRecords, positiveInt, selectRuns, type ExpStoreOptions } from './exp';

const SELECT = 'pruning.select';
const TRAIN = new Set(['train.bnn', 'train.fp']);
const DEFAULT_METRICS = ['select.testAccuracy', 'select.validationAccuracy'];

interface PlotOptions extends ExpStoreOptions {
  out?: string;
  metric?: string;
  curves?: string[];
  split: string;
  limit?: number;
}

export function registerExpPlot(exp: Command): void {
  exp
    .command('plot [runs...]')
    .description('a self-contained HTML page comparing runs: size vs accuracy (Pareto front, seeds as error bars), training curves, params vs a metric')
    .option('--out <file>', 'where to write the page (default: <store>/reports/experiments.html)')
    .option('--metric <name>', `metric the params are plotted against (default: ${DEFAULT_METRICS[0]} when recorded)`)
    .option('--curves <stages>', "training stages whose validation curves are drawn, comma-separated, * globs (default: each run's baseline)", (v: string) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .option('--split <split>', 'accuracy of the size chart: test or validation', 'test')
    .option('--store <dir>', 'artifact store folder (default: .cbnn/ in the project)')
    .option('--pipeline <name>', "only runs of this pipeline (its 'name:')")
    .option('-n, --limit <n>', 'at most this many runs, newest first (default 20)', (v: string) => positiveInt(v, '--limit'))
    .action(async (refs: string[], opts: PlotOptions) => {
      if (opts.split !== 'test' && opts.split !== 'validation')
        throw new CbnnError('usage', `--split ${opts.split}: expected test or validation`, { exitCode: ExitCode.usage });
      const { storeRoot, runs: all } = openRunRecords(opts);
      const runs = selectRuns(all, refs, refs.length ? undefined : (opts.limit ?? 20));
      const metric = chooseMetric(runs, opts.metric);
      const store = new ArtifactStore(storeRoot);
      const notes: string[] = [];
      // Loaded only here: list/show/diff never need the report package.
      const { buildExpPlot, searchResultSchema } = await import('@cbnn/report');
      const parseSearch = (text: string) => searchResultSchema.parse(JSON.parse(text));
      const plotted = runs.map((run) => plotRun(store, run, opts.curves, parseSearch, notes));
      const built = buildExpPlot({ runs: plotted, metric, split: opts.split, notes, title: 'cbnn experiments' });
      const out = path.resolve(opts.out ?? path.join(storeRoot, 'reports', 'experiments.html'));
      writeFileAtomicSync(out, built.html);
      for (const m of built.missing) process.stderr.write(`not shown: ${m.title}: ${m.reason}\n`);
      process.stdout.write(
        `${built.charts.length} chart${built.charts.length === 1 ? '' : 's'} of ${runs.length} run${runs.length === 1 ? '' : 's'}: ${out}\n`,
      );
    });
}

function chooseMetric(runs: readonly RecordedRun[], wanted: string | undefined): string | undefined {
  const names = [
    ...new Set(
      runs.flatMap((r) =>
        Object.entries(metricsOf(r))
          .filter(([, v]) => typeof v === 'number')
          .map(([k]) => k),
      ),
    ),
  ];
  if (!wanted) return DEFAULT_METRICS.find((m) => names.includes(m)) ?? names[0];
  const hits = pickColumns([wanted], names, '--metrics');
  if (hits.length > 1) throw new UnknownColumnError(`--metric ${wanted}: names ${hits.length} metrics; pick one`, hits.slice(0, 8).join(', '));
  return hits[0];
}

function plotRun(
  store: ArtifactStore,
  run: RecordedRun,
  curveStages: string[] | undefined,
  parseSearch: (text: string) => SearchResult,
  notes: string[],
): ExpPlotRun {
  const outputs = stagesWithOutput(run);
  const byId = new Map(run.stages.map((s) => [s.id, s]));
  const plot: ExpPlotRun = {
    id: run.id,
    name: run.name,
    pipeline: run.pipeline.name,
    startedAt: run.startedAt,
    status: run.status,
    params: paramsOf(run),
    metrics: metricsOf(run),
  };
  const skip = (what: string, e: unknown) => notes.push(`run ${run.id}: ${what} left out: ${(e as Error).message.split('\n')[0]}`);

  const select = outputs.find((s) => s.handler === SELECT);
  if (select) {
    try {
      const bytes = readRecordedFile(store.objects, select.output, 'search.json');
      if (bytes) {
        const search = parseSearch(bytes.toString('utf8'));
        plot.search = search;
        const keys: Record<string, string> = {};
        for (const id of select.needs.candidates ?? []) {
          const key = byId.get(id)?.key;
          if (key) keys[id] = key;
        }
        const baselineKey = byId.get(select.needs.baseline?.[0] ?? '')?.key;
        if (baselineKey) keys[search.baseline.name] = baselineKey;
        plot.candidateKeys = keys;
      }
    } catch (e) {
      skip(`its search result (stage ${select.id})`, e);
    }
  }

  const wanted = (s: (typeof outputs)[number]) =>
    curveStages?.length ? curveStages.some((g) => matchesGlob(g, s.id)) : s.handler === 'train.bnn' && !s.matrix && !s.needs.plan;
  plot.curves = [];
  for (const s of outputs.filter((s) => s.handler !== undefined && TRAIN.has(s.handler) && wanted(s))) {
    try {
      const bytes = readRecordedFile(store.objects, s.output, 'epochs.jsonl');
      if (!bytes) continue;
      const epochs = bytes
        .toString('utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { epoch?: unknown; validationAccuracy?: unknown })
        .filter((e): e is { epoch: number; validationAccuracy: number } => typeof e.epoch === 'number' && typeof e.validationAccuracy === 'number');
      plot.curves.push({ stage: s.id, epochs: epochs.map((e) => ({ epoch: e.epoch, validationAccuracy: e.validationAccuracy })) });
    } catch (e) {
      skip(`the training curve of ${s.id}`, e);
    }
  }
  return plot;
}
