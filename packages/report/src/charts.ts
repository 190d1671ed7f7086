import { MODEL_NAMES } from './results-table';
import type { ReportInput } from './report-input';
import { ablationChart } from './evidence-section';

/** A Vega-Lite spec (plain JSON) and where it goes in the page. */
export interface ChartSpec {
  id: string;
  title: string;
  caption: string;
  spec: Record<string, unknown>;
}

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const MODE_COLORS = { domain: ['randomize', 'zero'], range: ['#4c78a8', '#f58518'] };

/** Accuracy interval of one spread, clipped to [0, 1]. */
function spread(accuracy: number, std: number): { lo: number; hi: number } {
  return { lo: Math.max(0, accuracy - std), hi: Math.min(1, accuracy + std) };
}

/** Accuracy with each single plane perturbed, both modes side by side, mean ± std over repeats. */
export function perPlaneChart(input: ReportInput): ChartSpec | undefined {
  const sensitivity = input.sensitivity;
  const rows = sensitivity?.rows.filter((r) => r.scope === 'single') ?? [];
  if (!sensitivity || rows.length === 0) return undefined;
  const channels = [...new Set(rows.map((r) => r.channel))];
  // MSB first within each channel, channels in the file's order: the paper's reading order.
  const order = [...new Set([...rows].sort((a, b) => channels.indexOf(a.channel) - channels.indexOf(b.channel) || b.bits[0] - a.bits[0]).map((r) => r.label))];
  const values = rows.map((r) => ({
    plane: r.label,
    mode: r.mode,
    accuracy: r.accuracy,
    std: r.accuracyStd,
    drop: r.dropPoints,
    repeats: r.repeats,
    ...spread(r.accuracy, r.accuracyStd),
  }));
  const x = { field: 'plane', type: 'nominal', sort: order, title: 'perturbed plane', axis: { labelAngle: order.length > 8 ? -45 : 0 } };
  const y = { type: 'quantitative', title: 'test accuracy', scale: { zero: false }, axis: { format: '.1%' } };
  return {
    id: 'chart-per-plane',
    title: 'Accuracy with one plane perturbed',
    caption: `Each plane perturbed alone on the ${sensitivity.split} split (baseline ${(sensitivity.baselineAccuracy * 100).toFixed(2)}%, dashed). Points: mean over repeats; bars: ±1 standard deviation.`,
    spec: {
      $schema: SCHEMA,
      width: 'container',
      height: 260,
      layer: [
        {
          data: { values },
          encoding: { x, xOffset: { field: 'mode', type: 'nominal' }, color: { field: 'mode', type: 'nominal', title: 'perturbation', scale: MODE_COLORS } },
          layer: [
            { mark: { type: 'rule', strokeWidth: 1.5 }, encoding: { y: { ...y, field: 'lo' }, y2: { field: 'hi' } } },
            {
              mark: { type: 'point', filled: true, size: 60 },
              encoding: {
                y: { ...y, field: 'accuracy' },
                tooltip: [
                  { field: 'plane' },
                  { field: 'mode' },
                  { field: 'accuracy', format: '.2%' },
                  { field: 'std', format: '.2%', title: 'std' },
                  { field: 'drop', format: '.2f', title: 'drop (pts)' },
                  { field: 'repeats' },
                ],
              },
            },
          ],
        },
        {
          data: { values: [{ baseline: sensitivity.baselineAccuracy }] },
          mark: { type: 'rule', strokeDash: [4, 4], color: '#555' },
          encoding: { y: { ...y, field: 'baseline' } },
        },
      ],
    },
  };
}

const KNOWN_CHANNEL_COLORS: Record<string, string> = {
  red: '#d62728',
  r: '#d62728',
  green: '#2ca02c',
  g: '#2ca02c',
  blue: '#1f77b4',
  b: '#1f77b4',
  grey: '#555555',
  gray: '#555555',
};
const FALLBACK_COLORS = ['#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#7f7f7f'];

/** Colour channels by their name where it is a colour (red, green, blue), else from a palette. */
function channelColors(channels: string[]): { domain: string[]; range: string[] } {
  let next = 0;
  return { domain: channels, range: channels.map((c) => KNOWN_CHANNEL_COLORS[c.toLowerCase()] ?? FALLBACK_COLORS[next++ % FALLBACK_COLORS.length]) };
}

/** Accuracy as more least-significant planes are perturbed together (0 = baseline). */
export function cumulativeChart(input: ReportInput): ChartSpec | undefined {
  const sensitivity = input.sensitivity;
  const rows = sensitivity?.rows.filter((r) => r.scope === 'cumulative') ?? [];
  if (!sensitivity || rows.length === 0) return undefined;
  const channels = [...new Set(rows.map((r) => r.channel))];
  const seriesOf = (channel: string, mode: string) => (channels.length > 1 ? `${channel} · ${mode}` : mode);
  const values: {
    removed: number;
    series: string;
    channel: string;
    mode: string;
    planes: string;
    accuracy: number;
    std: number;
    drop: number;
    lo: number;
    hi: number;
  }[] = rows.map((r) => ({
    removed: r.bits.length,
    series: seriesOf(r.channel, r.mode),
    channel: r.channel,
    mode: r.mode,
    planes: r.label,
    accuracy: r.accuracy,
    std: r.accuracyStd,
    drop: r.dropPoints,
    ...spread(r.accuracy, r.accuracyStd),
  }));
  // Every series starts at the unperturbed baseline.
  for (const series of new Set(values.map((v) => `${v.series}\u0000${v.channel}\u0000${v.mode}`))) {
    const [name, channel, mode] = series.split('\u0000');
    const b = sensitivity.baselineAccuracy;
    values.push({ removed: 0, series: name, channel, mode, planes: 'none', accuracy: b, std: 0, drop: 0, lo: b, hi: b });
  }
  const budgetPoints = input.plan?.budgetPoints ?? input.search?.budgetPoints;
  const y = { type: 'quantitative', title: 'test accuracy', scale: { zero: false }, axis: { format: '.1%' } };
  const x = { field: 'removed', type: 'quantitative', title: 'least-significant planes perturbed', axis: { tickMinStep: 1, format: 'd' } };
  // Several channels: colour by channel, line style and point shape by mode.
  const multi = channels.length > 1;
  const color = multi
    ? { field: 'channel', type: 'nominal', title: 'channel', scale: channelColors(channels) }
    : { field: 'mode', type: 'nominal', title: 'perturbation', scale: MODE_COLORS };
  const modeStyle = multi
    ? {
        strokeDash: {
          field: 'mode',
          type: 'nominal',
          title: 'perturbation',
          scale: {
            domain: ['randomize', 'zero'],
            range: [
              [1, 0],
              [5, 3],
            ],
          },
        },
      }
    : {};
  const modeShape = multi
    ? { shape: { field: 'mode', type: 'nominal', title: 'perturbation', scale: { domain: ['randomize', 'zero'], range: ['circle', 'square'] } } }
    : {};
  const layers: Record<string, unknown>[] = [
    {
      data: { values },
      encoding: { x, color, detail: { field: 'series' } },
      layer: [
        { mark: { type: 'line', strokeWidth: 2 }, encoding: { y: { ...y, field: 'accuracy' }, ...modeStyle } },
        { mark: { type: 'rule' }, encoding: { y: { ...y, field: 'lo' }, y2: { field: 'hi' } } },
        {
          mark: { type: 'point', filled: true, size: 50 },
          encoding: {
            y: { ...y, field: 'accuracy' },
            ...modeShape,
            tooltip: [
              { field: 'series', title: 'series' },
              { field: 'planes' },
              { field: 'accuracy', format: '.2%' },
              { field: 'std', format: '.2%' },
              { field: 'drop', format: '.2f', title: 'drop (pts)' },
            ],
          },
        },
      ],
    },
  ];
  if (budgetPoints !== undefined) {
    const floor = sensitivity.baselineAccuracy - budgetPoints / 100;
    layers.push({
      data: { values: [{ floor, label: `budget: −${budgetPoints} pts` }] },
      layer: [
        { mark: { type: 'rule', strokeDash: [4, 4], color: '#c00' }, encoding: { y: { ...y, field: 'floor' } } },
        {
          mark: { type: 'text', align: 'right', dx: -2, dy: -6, color: '#c00' },
          encoding: { y: { ...y, field: 'floor' }, x: { datum: Math.max(...values.map((v) => v.removed)), type: 'quantitative' }, text: { field: 'label' } },
        },
      ],
    });
  }
  return {
    id: 'chart-cumulative',
    title: 'Accuracy vs cumulative LSB planes perturbed',
    caption: `Planes perturbed together from the least significant up${budgetPoints !== undefined ? `; the dashed red line is the accuracy budget (${budgetPoints} pts below the baseline)` : ''}.`,
    spec: { $schema: SCHEMA, width: 'container', height: 280, layer: layers },
  };
}

/** The search: every candidate's test accuracy against its packed size, the chosen one marked. */
export function searchChart(input: ReportInput): ChartSpec | undefined {
  const search = input.search;
  if (!search || search.candidates.length === 0) return undefined;
  const statusOf = (name: string, within: boolean) => (name === search.chosen ? 'chosen' : within ? 'within budget' : 'over budget');
  const values = [
    ...search.candidates.map((c) => ({
      name: c.name,
      status: statusOf(c.name, c.withinBudget),
      bytes: c.packedBytes,
      test: c.testAccuracy,
      validation: c.validationAccuracy,
      planes: c.planeCount,
      width: c.width,
    })),
    {
      name: search.baseline.name,
      status: 'baseline',
      bytes: search.baseline.packedBytes,
      test: search.baseline.testAccuracy,
      validation: search.baseline.validationAccuracy,
      planes: search.baseline.planeCount,
      width: search.baseline.width,
    },
  ];
  const y = { field: 'test', type: 'quantitative', title: 'test accuracy', scale: { zero: false, padding: 12 }, axis: { format: '.1%' } };
  const x = {
    field: 'bytes',
    type: 'quantitative',
    title: 'model size (packed bytes, log scale)',
    scale: { type: 'log', nice: false, padding: 24 },
    axis: { format: '~s', tickCount: 6 },
  };
  const statusScale = { domain: ['chosen', 'within budget', 'over budget', 'baseline'], range: ['#d62728', '#2ca02c', '#9e9e9e', '#1f77b4'] };
  return {
    id: 'chart-search',
    title: 'Search: accuracy vs model size',
    caption: `Each candidate (kept planes × width). Selection by validation accuracy within ${search.budgetPoints} pts of the baseline; the chosen model is '${search.chosen}'.`,
    spec: {
      $schema: SCHEMA,
      width: 'container',
      height: 300,
      data: { values },
      layer: [
        {
          mark: { type: 'point', filled: true, opacity: 0.85 },
          encoding: {
            x,
            y,
            color: { field: 'status', type: 'nominal', title: 'candidate', scale: statusScale },
            shape: { field: 'status', type: 'nominal', scale: { domain: statusScale.domain, range: ['diamond', 'circle', 'circle', 'square'] } },
            size: { condition: { test: "datum.status === 'chosen' || datum.status === 'baseline'", value: 180 }, value: 60 },
            tooltip: [
              { field: 'name' },
              { field: 'status' },
              { field: 'planes' },
              { field: 'width' },
              { field: 'bytes', format: ',d', title: 'packed bytes' },
              { field: 'test', format: '.2%', title: 'test accuracy' },
              { field: 'validation', format: '.2%', title: 'validation accuracy' },
            ],
          },
        },
        {
          transform: [{ filter: "datum.status === 'chosen' || datum.status === 'baseline'" }],
          mark: { type: 'text', align: 'left', dx: 9, dy: -9, fontWeight: 'bold' },
          encoding: { x, y, text: { field: 'name' }, color: { field: 'status', type: 'nominal', scale: statusScale, legend: null } },
        },
      ],
    },
  };
}

/** Median latency per model and runtime, error bars from the first to the third quartile. */
export function runtimeChart(input: ReportInput): ChartSpec | undefined {
  const bench = input.bench;
  if (!bench || bench.rows.length === 0) return undefined;
  // Threads and batch go into the label only when they differ between rows (else: in the caption).
  const benchRows = bench.rows;
  const varies = (f: (r: (typeof benchRows)[number]) => number) => new Set(benchRows.map(f)).size > 1;
  const showThreads = varies((r) => r.threads);
  const showBatch = varies((r) => r.batch);
  const values = bench.rows.map((r) => ({
    label: [MODEL_NAMES[r.model], r.runtime, showThreads ? `${r.threads} thr` : '', showBatch ? `batch ${r.batch}` : ''].filter(Boolean).join(' · '),
    model: MODEL_NAMES[r.model],
    runtime: r.runtime,
    median: r.latencyMs.median,
    q1: r.latencyMs.q1,
    q3: r.latencyMs.q3,
    ips: r.imagesPerSecond.median,
    batch: r.batch,
  }));
  const x = { type: 'quantitative', title: 'latency per batch (ms, median)' };
  const y = { field: 'label', type: 'nominal', title: null, sort: values.map((v) => v.label), axis: { labelLimit: 320 } };
  return {
    id: 'chart-runtime',
    title: 'Runtime',
    caption: `Median over ${bench.runs} runs after ${bench.warmup} warm-up runs; error bars span the first to the third quartile.${showThreads ? '' : ` ${bench.rows[0].threads} thread(s).`}${showBatch ? '' : ` Batch ${bench.rows[0].batch}.`} Machine: ${bench.machine.cpu} (${bench.machine.cores} cores), Node ${bench.machine.node}.`,
    spec: {
      $schema: SCHEMA,
      width: 'container',
      // A fixed height per row: a step height cannot be combined with a container width.
      height: values.length * 30,
      data: { values },
      encoding: { y },
      layer: [
        {
          mark: { type: 'bar', opacity: 0.85 },
          encoding: {
            x: { ...x, field: 'median' },
            color: { field: 'model', type: 'nominal', title: 'model', scale: { domain: Object.values(MODEL_NAMES), range: ['#1f77b4', '#d62728', '#7f7f7f'] } },
            tooltip: [
              { field: 'label', title: 'run' },
              { field: 'median', format: '.3f', title: 'median ms' },
              { field: 'q1', format: '.3f', title: 'q1 ms' },
              { field: 'q3', format: '.3f', title: 'q3 ms' },
              { field: 'ips', format: ',.0f', title: 'images/s' },
            ],
          },
        },
        { mark: { type: 'rule', color: '#222' }, encoding: { x: { ...x, field: 'q1' }, x2: { field: 'q3' } } },
        { mark: { type: 'tick', color: '#222', thickness: 1.5 }, encoding: { x: { ...x, field: 'q1' } } },
        { mark: { type: 'tick', color: '#222', thickness: 1.5 }, encoding: { x: { ...x, field: 'q3' } } },
      ],
    },
  };
}

export interface ChartPlan {
  charts: ChartSpec[];
  /** Charts left out, with why. */
  missing: { title: string; reason: string }[];
}

export function planCharts(input: ReportInput): ChartPlan {
  const entries: [string, ChartSpec | undefined, string][] = [
    ['Accuracy with one plane perturbed', perPlaneChart(input), 'needs sensitivity.json with single-plane rows'],
    ['Accuracy vs cumulative LSB planes perturbed', cumulativeChart(input), 'needs sensitivity.json with cumulative rows'],
    ['Search: accuracy vs model size', searchChart(input), 'needs search.json with candidates'],
    ['Ablation: accuracy vs width, kept planes and all planes', ablationChart(input), 'needs search.json with all-plane controls'],
    ['Runtime', runtimeChart(input), 'needs bench.json with rows'],
  ];
  const charts: ChartSpec[] = [];
  const missing: ChartPlan['missing'] = [];
  for (const [title, chart, reason] of entries) {
    if (chart) charts.push(chart);
    else missing.push({ title, reason });
  }
  return { charts, missing };
}
