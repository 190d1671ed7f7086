import { chartsSection, table } from './build-report';
import { chartPage } from './chart-page';
import type { ChartSpec } from './charts';
import { formatPlaneSelection } from './format';
import { escapeHtml } from './html-escape';
import type { SearchResult } from './result-schemas';

/**
 * The experiments page (`cbnn exp plot`): recorded runs compared in one self-contained HTML page,
 * built like the report (same stylesheet, Vega inlined, same render script and status object).
 * The CLI reads the runs' records and result files; this module only lays them out.
 */
export type PlotValue = number | string | boolean | null | undefined;

export interface ExpPlotRun {
  id: string;
  name?: string;
  pipeline: string;
  startedAt: string;
  status: string;
  /** Top-level params, nested ones as dotted names. */
  params: Record<string, PlotValue>;
  /** `<stage>.<metric>` scalars. */
  metrics: Record<string, PlotValue>;
  /** The run's search result (pruning.select), for size vs accuracy. */
  search?: SearchResult;
  /**
   * Candidate name -> cache key of the stage that trained it: a candidate restored from the
   * cache in several runs is one model, not several seeds, and is drawn once.
   */
  candidateKeys?: Record<string, string>;
  /** Validation accuracy by epoch of the run's training stages. */
  curves?: Array<{ stage: string; epochs: Array<{ epoch: number; validationAccuracy: number }> }>;
}

export interface ExpPlotInput {
  title?: string;
  generatedAt?: string;
  runs: ExpPlotRun[];
  /** Which accuracy the size chart shows (default test). */
  split?: 'test' | 'validation';
  /** The metric the params chart plots params against (a key of `metrics`). */
  metric?: string;
  /** Things the page should say (runs skipped and why). */
  notes?: string[];
}

export interface BuiltExpPlot {
  html: string;
  charts: ChartSpec[];
  missing: Array<{ title: string; reason: string }>;
}

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

export function runLabel(run: Pick<ExpPlotRun, 'id' | 'name'>): string {
  return run.name ? `${run.name} (${run.id})` : run.id;
}

export function buildExpPlot(input: ExpPlotInput): BuiltExpPlot {
  const title = input.title ?? 'cbnn experiments';
  const charts: ChartSpec[] = [];
  const missing: BuiltExpPlot['missing'] = [];
  const add = (title: string, made: ChartSpec | string) => (typeof made === 'string' ? missing.push({ title, reason: made }) : charts.push(made));
  add('Model size vs accuracy', sizeAccuracyChart(input));
  add('Training curves', curvesChart(input));
  add('Params vs metric', paramsChart(input));

  const notes = input.notes?.length
    ? `<section class="notice" id="exp-notes"><ul>${input.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul></section>`
    : '';
  const metric = input.metric;
  const runsTable = table(
    'runs-table',
    ['Run', 'Name', 'Pipeline', 'Started', 'Status', ...(metric ? [metric] : []), 'Candidates'],
    input.runs.map((r) => [
      r.id,
      r.name ?? '',
      r.pipeline,
      r.startedAt,
      r.status,
      ...(metric ? [formatValue(r.metrics[metric])] : []),
      String(r.search ? r.search.candidates.length + 1 : 0),
    ]),
  );
  const body = [
    `<header><h1>${escapeHtml(title)}</h1><p class="meta">Generated ${escapeHtml(input.generatedAt ?? new Date().toISOString())} · ${input.runs.length} run${input.runs.length === 1 ? '' : 's'}</p></header>`,
    notes,
    chartsSection(charts, missing),
    `<section id="runs"><h2>Runs</h2>${runsTable}<p class="note">Rebuild one run's report: <code>cbnn report --run ID</code>; compare two: <code>cbnn exp diff A B</code>.</p></section>`,
  ].join('\n');
  return { html: chartPage(title, body, charts), charts, missing };
}

function formatValue(v: PlotValue): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(5)));
  return String(v);
}

interface ModelPoint {
  run: string;
  pipeline: string;
  /** The run's params other than seeds: models agree on these to count as seeds of one configuration. */
  settings: string;
  config: string;
  name: string;
  role: 'baseline' | 'candidate' | 'chosen';
  planes: string;
  width: number;
  bytes: number;
  accuracy: number;
  validation: number;
  test: number;
}

interface ConfigGroup {
  pipeline: string;
  config: string;
  bytes: number;
  mean: number;
  lo: number;
  hi: number;
  n: number;
}

/**
 * Every candidate (and baseline) of every run: one point per distinct trained model; models of
 * the same configuration (pipeline, planes, width) from other seeds or runs make one group,
 * drawn as an error bar from the lowest to the highest accuracy, and the groups' means make the
 * Pareto front (no other group is both smaller and more accurate).
 */
export function sizeAccuracyChart(input: ExpPlotInput): ChartSpec | string {
  const split = input.split ?? 'test';
  const seen = new Set<string>();
  const points: ModelPoint[] = [];
  for (const run of input.runs) {
    const s = run.search;
    if (!s) continue;
    for (const c of [s.baseline, ...s.candidates]) {
      const identity = run.candidateKeys?.[c.name] ?? `${run.id}/${c.name}/${c.packedBytes}/${c.validationAccuracy}/${c.testAccuracy}`;
      if (seen.has(identity)) continue;
      seen.add(identity);
      const planes = formatPlaneSelection(c.planes);
      points.push({
        run: runLabel(run),
        pipeline: run.pipeline,
        settings: settingsOf(run),
        config: `${planes} · w${c.width}`,
        name: c.name,
        role: c.name === s.baseline.name ? 'baseline' : c.name === s.chosen ? 'chosen' : 'candidate',
        planes,
        width: c.width,
        bytes: c.packedBytes,
        accuracy: split === 'test' ? c.testAccuracy : c.validationAccuracy,
        validation: c.validationAccuracy,
        test: c.testAccuracy,
      });
    }
  }
  if (points.length === 0) return 'none of the selected runs has a search result (a pruning.select stage that ran or was restored)';
  const groups = groupConfigs(points);
  const front = paretoFront(groups);
  const spread = groups.filter((g) => g.n > 1);
  const x = { field: 'bytes', type: 'quantitative', title: 'packed model size (bytes, log scale)', scale: { type: 'log' }, axis: { format: '~s' } };
  const y = { type: 'quantitative', title: `${split} accuracy`, scale: { zero: false }, axis: { format: '.1%' } };
  const roles = { domain: ['baseline', 'candidate', 'chosen'], range: ['square', 'circle', 'diamond'] };
  return {
    id: 'chart-size-accuracy',
    title: 'Model size vs accuracy, all runs',
    caption: `${points.length} models from ${new Set(points.map((p) => p.run)).size} runs (a model restored from the cache in several runs is drawn once). Bars: lowest to highest ${split} accuracy of ${spread.length} configurations trained more than once (seeds, runs); line: Pareto front of the configurations' means${new Set(groups.map((g) => g.pipeline)).size > 1 ? ', one per pipeline' : ''}.`,
    spec: {
      $schema: SCHEMA,
      width: 'container',
      height: 320,
      layer: [
        {
          name: 'spread',
          data: { values: spread },
          mark: { type: 'rule', strokeWidth: 2, color: '#888' },
          encoding: {
            x,
            y: { ...y, field: 'lo' },
            y2: { field: 'hi' },
            tooltip: [
              { field: 'config' },
              { field: 'n', title: 'models' },
              { field: 'mean', format: '.2%' },
              { field: 'lo', format: '.2%', title: 'lowest' },
              { field: 'hi', format: '.2%', title: 'highest' },
            ],
          },
        },
        {
          name: 'front',
          data: { values: front },
          mark: { type: 'line', color: '#d62728', strokeWidth: 1.5, strokeDash: [5, 3] },
          encoding: { x, y: { ...y, field: 'mean' }, detail: { field: 'pipeline' }, order: { field: 'bytes' } },
        },
        {
          name: 'models',
          data: { values: points },
          mark: { type: 'point', filled: true, opacity: 0.85, size: 70 },
          encoding: {
            x,
            y: { ...y, field: 'accuracy' },
            color: { field: 'run', type: 'nominal', title: 'run' },
            shape: { field: 'role', type: 'nominal', title: 'model', scale: roles },
            tooltip: [
              { field: 'run' },
              { field: 'name' },
              { field: 'role' },
              { field: 'planes' },
              { field: 'width' },
              { field: 'bytes', format: ',d', title: 'packed bytes' },
              { field: 'validation', format: '.2%', title: 'validation accuracy' },
              { field: 'test', format: '.2%', title: 'test accuracy' },
            ],
          },
        },
      ],
    },
  };
}

/** A run's params without those named like a seed, as one comparable string. */
function settingsOf(run: ExpPlotRun): string {
  return JSON.stringify(
    Object.entries(run.params)
      .filter(([k]) => !/seed/i.test(k))
      .sort(([a], [b]) => a.localeCompare(b)),
  );
}

export function groupConfigs(points: readonly Pick<ModelPoint, 'pipeline' | 'settings' | 'config' | 'bytes' | 'accuracy'>[]): ConfigGroup[] {
  const byConfig = new Map<string, (typeof points)[number][]>();
  for (const p of points) {
    const k = `${p.pipeline}\u0000${p.settings}\u0000${p.config}`;
    byConfig.set(k, [...(byConfig.get(k) ?? []), p]);
  }
  return [...byConfig.values()].map((ps) => {
    const acc = ps.map((p) => p.accuracy);
    return {
      pipeline: ps[0].pipeline,
      config: ps[0].config,
      bytes: ps.reduce((s, p) => s + p.bytes, 0) / ps.length,
      mean: acc.reduce((s, a) => s + a, 0) / acc.length,
      lo: Math.min(...acc),
      hi: Math.max(...acc),
      n: ps.length,
    };
  });
}

/** Per pipeline, the groups no other group beats on both size (smaller) and mean accuracy (higher). */
export function paretoFront(groups: readonly ConfigGroup[]): ConfigGroup[] {
  const out: ConfigGroup[] = [];
  for (const pipeline of new Set(groups.map((g) => g.pipeline))) {
    const sorted = groups.filter((g) => g.pipeline === pipeline).sort((a, b) => a.bytes - b.bytes || b.mean - a.mean);
    let best = -Infinity;
    for (const g of sorted) {
      if (g.mean > best) {
        out.push(g);
        best = g.mean;
      }
    }
  }
  return out;
}

function curvesChart(input: ExpPlotInput): ChartSpec | string {
  const values = input.runs.flatMap((run) =>
    (run.curves ?? []).flatMap((c) =>
      c.epochs.map((e) => ({ run: runLabel(run), stage: c.stage, series: `${runLabel(run)} · ${c.stage}`, epoch: e.epoch, accuracy: e.validationAccuracy })),
    ),
  );
  if (values.length === 0) return 'no training stage of the selected runs left per-epoch metrics (epochs.jsonl)';
  const series = new Set(values.map((v) => v.series)).size;
  return {
    id: 'chart-curves',
    title: 'Validation accuracy by epoch',
    caption: `${series} training stage${series === 1 ? '' : 's'} across ${new Set(values.map((v) => v.run)).size} runs; colour: run, dash: stage.`,
    spec: {
      $schema: SCHEMA,
      width: 'container',
      height: 300,
      data: { values },
      // Points too: a one-epoch run (the smoke pipeline) has no line to draw.
      mark: { type: 'line', strokeWidth: 1.6, point: true },
      encoding: {
        x: { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1, format: 'd' } },
        y: { field: 'accuracy', type: 'quantitative', title: 'validation accuracy', scale: { zero: false }, axis: { format: '.1%' } },
        color: { field: 'run', type: 'nominal', title: 'run' },
        strokeDash: { field: 'stage', type: 'nominal', title: 'stage' },
        detail: { field: 'series' },
        tooltip: [{ field: 'run' }, { field: 'stage' }, { field: 'epoch' }, { field: 'accuracy', format: '.2%' }],
      },
    },
  };
}

/** One small scatter per numeric param that differs between the runs: param value vs the metric. */
function paramsChart(input: ExpPlotInput): ChartSpec | string {
  const metric = input.metric;
  if (!metric) return 'no metric to plot params against (give --metric)';
  const withMetric = input.runs.filter((r) => typeof r.metrics[metric] === 'number');
  if (withMetric.length === 0) return `no selected run has a numeric '${metric}'`;
  const names = [...new Set(withMetric.flatMap((r) => Object.keys(r.params)))].sort();
  const varying = names.filter((p) => {
    const vals = withMetric.map((r) => r.params[p]);
    return vals.every((v) => typeof v === 'number') && new Set(vals).size > 1;
  });
  if (varying.length === 0) return `no numeric param differs between the ${withMetric.length} runs that have '${metric}'`;
  const values = varying.flatMap((param) =>
    withMetric.map((r) => ({ param, value: r.params[param] as number, metric: r.metrics[metric] as number, run: runLabel(r) })),
  );
  return {
    id: 'chart-params',
    title: `Params vs ${metric}`,
    caption: `Each numeric param that differs between the runs (${varying.join(', ')}), one point per run.`,
    spec: {
      $schema: SCHEMA,
      data: { values },
      facet: { field: 'param', type: 'nominal', title: null },
      columns: 3,
      spec: {
        width: 220,
        height: 180,
        mark: { type: 'point', filled: true, size: 70 },
        encoding: {
          x: { field: 'value', type: 'quantitative', title: null, scale: { zero: false } },
          y: { field: 'metric', type: 'quantitative', title: metric, scale: { zero: false } },
          color: { field: 'run', type: 'nominal', title: 'run' },
          tooltip: [{ field: 'run' }, { field: 'param' }, { field: 'value' }, { field: 'metric', title: metric }],
        },
      },
      resolve: { scale: { x: 'independent' } },
    },
  };
}
