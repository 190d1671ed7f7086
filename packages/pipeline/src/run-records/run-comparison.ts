import { CbnnError, ExitCode } from '@cbnn/core';
import { canonicalJson } from '../canonical-json';
import type { RecordedRun, RecordedScalar, RecordedStage } from './run-record-format';
import { nearestMatches } from './run-record-store';

/**
 * Runs side by side, as `dvc exp show` / `dvc params diff` / `dvc metrics diff` do: params are the
 * pipeline's top-level params (nested values as dotted names), metrics are `<instance>.<metric>`
 * of every stage that reported scalars.
 */
export type CellValue = RecordedScalar | undefined;

export interface RunColumn {
  name: string;
  kind: 'param' | 'metric';
}

export interface RunTable {
  columns: RunColumn[];
  rows: Array<{ run: RecordedRun; values: Record<string, CellValue> }>;
}

/** Strings longer than this (a report's markdown summary) are not metrics one compares in a table. */
const MAX_METRIC_TEXT = 80;

export function paramsOf(run: RecordedRun): Record<string, CellValue> {
  const out: Record<string, CellValue> = {};
  const walk = (prefix: string, value: unknown): void => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) walk(prefix ? `${prefix}.${k}` : k, v);
    } else out[prefix] = toCell(value);
  };
  walk('', run.params);
  return out;
}

export function metricsOf(run: RecordedRun): Record<string, CellValue> {
  const out: Record<string, CellValue> = {};
  for (const s of run.stages) {
    for (const [k, v] of Object.entries(s.metrics ?? {})) {
      if (typeof v === 'string' && v.length > MAX_METRIC_TEXT) continue;
      if (v !== null && typeof v === 'object') continue;
      out[`${s.id}.${k}`] = v as RecordedScalar;
    }
  }
  return out;
}

function toCell(value: unknown): CellValue {
  if (value === undefined) return undefined;
  if (value === null || typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') return value;
  return canonicalJson(value);
}

export class UnknownColumnError extends CbnnError {
  constructor(message: string, hint?: string) {
    super('unknown-column', message, { exitCode: ExitCode.usage, hint });
  }
}

/**
 * Which of `available` a user's selector list picks: a full name (`select.testAccuracy`), a bare
 * metric or param name matching every column that ends in it (`testAccuracy`), a prefix ending in
 * '.' or a `*` glob (`search-*.validationAccuracy`). A selector that picks nothing is refused.
 */
export function pickColumns(selectors: readonly string[], available: readonly string[], option: string): string[] {
  const picked = new Set<string>();
  for (const sel of selectors) {
    const hits = available.filter((name) => columnMatches(sel, name));
    if (hits.length === 0) {
      const near = nearestMatches(sel, available);
      throw new UnknownColumnError(
        `${option} ${sel}: no recorded run has ${option === '--metrics' ? 'a metric' : 'a param'} by this name`,
        near.length ? `nearest: ${near.join(', ')}` : `the selected runs have no ${option === '--metrics' ? 'metrics' : 'params'}`,
      );
    }
    hits.forEach((h) => picked.add(h));
  }
  return available.filter((a) => picked.has(a));
}

/** `*` matches any run of characters; everything else itself. */
export function matchesGlob(glob: string, name: string): boolean {
  return new RegExp(
    `^${glob
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  ).test(name);
}

function columnMatches(sel: string, name: string): boolean {
  if (sel.includes('*')) return matchesGlob(sel, name);
  return name === sel || name.endsWith(`.${sel}`) || (sel.endsWith('.') && name.startsWith(sel)) || name.startsWith(`${sel}.`);
}

export interface RunTableOptions {
  onlyChanged?: boolean;
  metrics?: readonly string[];
  params?: readonly string[];
}

/** One row per run, a column per param and metric (chosen ones, or all; `onlyChanged`: those that differ). */
export function buildRunTable(runs: readonly RecordedRun[], options: RunTableOptions = {}): RunTable {
  const rows = runs.map((run) => ({ run, params: paramsOf(run), metrics: metricsOf(run) }));
  const names = (pick: (r: (typeof rows)[number]) => Record<string, CellValue>) => {
    const seen = new Set<string>();
    for (const r of rows) for (const k of Object.keys(pick(r))) seen.add(k);
    return [...seen];
  };
  const paramNames = names((r) => r.params).sort();
  const metricNames = orderMetrics(
    names((r) => r.metrics),
    runs,
  );
  let params = options.params?.length ? pickColumns(options.params, paramNames, '--params') : paramNames;
  let metrics = options.metrics?.length ? pickColumns(options.metrics, metricNames, '--metrics') : metricNames;
  if (options.onlyChanged && rows.length > 1) {
    const differs = (get: (r: (typeof rows)[number]) => CellValue) => {
      const first = cellKey(get(rows[0]));
      return rows.some((r) => cellKey(get(r)) !== first);
    };
    params = params.filter((p) => differs((r) => r.params[p]));
    metrics = metrics.filter((m) => differs((r) => r.metrics[m]));
  }
  return {
    columns: [...params.map((name) => ({ name, kind: 'param' as const })), ...metrics.map((name) => ({ name, kind: 'metric' as const }))],
    rows: rows.map((r) => {
      const values: Record<string, CellValue> = {};
      for (const p of params) values[p] = r.params[p];
      for (const m of metrics) values[m] = r.metrics[m];
      return { run: r.run, values };
    }),
  };
}

/** Metrics in pipeline order (the stages' order in the newest run that has them), then by name. */
function orderMetrics(names: string[], runs: readonly RecordedRun[]): string[] {
  const stageOrder = new Map<string, number>();
  for (const run of runs) for (const s of run.stages) if (!stageOrder.has(s.id)) stageOrder.set(s.id, stageOrder.size);
  // Instance ids may hold dots (`search-w0.5`), so a metric's stage is found by prefix, once per name.
  const rank = new Map<string, number>();
  for (const name of names) {
    let best = Number.MAX_SAFE_INTEGER;
    for (const [id, i] of stageOrder) if (i < best && name.startsWith(`${id}.`)) best = i;
    rank.set(name, best);
  }
  return names.sort((a, b) => rank.get(a)! - rank.get(b)! || (a < b ? -1 : a > b ? 1 : 0));
}

function cellKey(v: CellValue): string {
  return v === undefined ? '\u0000' : JSON.stringify(v);
}

export type StageChange = 'code' | 'params' | 'input';

export interface StageDiff {
  id: string;
  /** `added`/`removed`: only one run has it; `changed`: both, with different keys. */
  state: 'added' | 'removed' | 'changed' | 'same';
  /** For `changed`: what differs in the key material (several when several do). */
  changes: StageChange[];
  /** The key material fields that differ, e.g. `params.width`, `inputs.dataset`, `version`. */
  fields: string[];
  a?: { key?: string; status: RecordedStage['status'] };
  b?: { key?: string; status: RecordedStage['status'] };
}

export interface ValueDiff {
  name: string;
  a: CellValue;
  b: CellValue;
}

export interface MetricDiff extends ValueDiff {
  /** b - a, when both are numbers. */
  change?: number;
  /** (b - a) / |a|, when both are numbers and a is not 0. */
  relative?: number;
}

export interface RunDiff {
  a: RecordedRun;
  b: RecordedRun;
  /** Set when the runs are of different pipelines (allowed; the comparison is then by name only). */
  note?: string;
  params: ValueDiff[];
  metrics: MetricDiff[];
  stages: StageDiff[];
}

/** Params and metrics that differ (absolute and relative change) and how each stage differs. */
export function diffRuns(a: RecordedRun, b: RecordedRun, options: { all?: boolean } = {}): RunDiff {
  const note =
    a.pipeline.name !== b.pipeline.name
      ? `the runs are of different pipelines ('${a.pipeline.name}' and '${b.pipeline.name}'): params, metrics and stages are matched by name`
      : a.pipeline.hash !== b.pipeline.hash
        ? `the pipeline file changed between the runs (${a.pipeline.hash.slice(0, 12)} -> ${b.pipeline.hash.slice(0, 12)})`
        : undefined;
  const values = (x: Record<string, CellValue>, y: Record<string, CellValue>): ValueDiff[] =>
    [...new Set([...Object.keys(x), ...Object.keys(y)])]
      .filter((k) => options.all || cellKey(x[k]) !== cellKey(y[k]))
      .map((name) => ({ name, a: x[name], b: y[name] }));
  const params = values(paramsOf(a), paramsOf(b)).sort((p, q) => p.name.localeCompare(q.name));
  const metricOrder = orderMetrics(
    values(metricsOf(a), metricsOf(b)).map((m) => m.name),
    [b, a],
  );
  const metricMap = new Map(values(metricsOf(a), metricsOf(b)).map((m) => [m.name, m]));
  const metrics = metricOrder.map((name) => {
    const m = metricMap.get(name)!;
    const out: MetricDiff = { ...m };
    if (typeof m.a === 'number' && typeof m.b === 'number') {
      out.change = m.b - m.a;
      if (m.a !== 0) out.relative = (m.b - m.a) / Math.abs(m.a);
    }
    return out;
  });
  return { a, b, note, params, metrics, stages: diffStages(a, b).filter((s) => options.all || s.state !== 'same') };
}

const PARAM_FIELDS = new Set(['params', 'seed']);
const INPUT_FIELDS = new Set(['inputs']);

function diffStages(a: RecordedRun, b: RecordedRun): StageDiff[] {
  const pa = paramsOf(a);
  const pb = paramsOf(b);
  const changedParams = [...new Set([...Object.keys(pa), ...Object.keys(pb)])]
    .filter((k) => cellKey(pa[k]) !== cellKey(pb[k]) && pa[k] !== undefined && pb[k] !== undefined)
    .map((k) => [String(pa[k]), String(pb[k])] as const);
  const inA = new Map(a.stages.map((s) => [s.id, s]));
  const inB = new Map(b.stages.map((s) => [s.id, s]));
  const ids = [...b.stages.map((s) => s.id), ...a.stages.map((s) => s.id).filter((id) => !inB.has(id))];
  return ids.map((id): StageDiff => {
    const x = inA.get(id);
    const y = inB.get(id);
    const sides = { a: x && { key: x.key, status: x.status }, b: y && { key: y.key, status: y.status } };
    if (!x) return { id, state: 'added', changes: [], fields: [], ...sides };
    if (!y) return { id, state: 'removed', changes: [], fields: [], ...sides };
    if (x.key && x.key === y.key) return { id, state: 'same', changes: [], fields: [], ...sides };
    const fields = materialDifferences(x.material ?? {}, y.material ?? {});
    const changes = new Set<StageChange>();
    for (const f of fields) {
      const top = f.split('.')[0];
      if (top === 'cmd' && onlyParamsDiffer(x.material?.cmd, y.material?.cmd, changedParams)) changes.add('params');
      else changes.add(PARAM_FIELDS.has(top) ? 'params' : INPUT_FIELDS.has(top) ? 'input' : 'code');
    }
    return { id, state: fields.length || x.key !== y.key ? 'changed' : 'same', changes: [...changes], fields, ...sides };
  });
}

/**
 * A `cmd:` stage's params are interpolated into its command (`node gen.js ${params.n}`), so a
 * `--set n=5` changes the command line. It counts as a params change when every word that
 * differs is explained by a top-level param whose value changed; anything else is code.
 */
function onlyParamsDiffer(x: unknown, y: unknown, changed: ReadonlyArray<readonly [string, string]>): boolean {
  if (typeof x !== 'string' || typeof y !== 'string' || changed.length === 0) return false;
  const wx = x.split(/\s+/);
  const wy = y.split(/\s+/);
  if (wx.length !== wy.length) return false;
  return wx.every((w, i) => w === wy[i] || changed.some(([from, to]) => from !== '' && w.includes(from) && w.split(from).join(to) === wy[i]));
}

/** Dotted names of what differs between two key materials, one level into params/inputs/deps. */
function materialDifferences(x: Record<string, unknown>, y: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const k of [...new Set([...Object.keys(x), ...Object.keys(y)])].sort()) {
    const u = x[k];
    const v = y[k];
    if (canonicalJson(u ?? null) === canonicalJson(v ?? null)) continue;
    const isMap = (w: unknown) => w !== null && typeof w === 'object' && !Array.isArray(w);
    if (isMap(u) && isMap(v)) {
      const a = u as Record<string, unknown>;
      const b = v as Record<string, unknown>;
      for (const sub of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
        if (canonicalJson(a[sub] ?? null) !== canonicalJson(b[sub] ?? null)) out.push(`${k}.${sub}`);
      }
    } else out.push(k);
  }
  return out;
}
