import * as path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import {
  buildRunTable,
  defaultStoreRoot,
  diffRuns,
  readRunRecords,
  removeRunRecord,
  resolveRun,
  type CellValue,
  type RecordedRun,
} from '@cbnn/pipeline/run-records';
import { outputFormat, renderTable, shortDuration, shortTime, textCell, toCsv, writeJson } from './exp-output';
import { registerExpPlot } from './exp-plot';

/**
 * `cbnn exp`: the recorded runs (`<store>/records/`), listed, side by side, diffed, removed and
 * plotted. These commands load only the run-record reader (no handlers, no TensorFlow.js), so
 * they answer quickly over hundreds of runs.
 */
export interface ExpStoreOptions {
  store?: string;
  pipeline?: string;
}

interface FormatOptions {
  json?: boolean;
  csv?: boolean;
}

export function expStoreRoot(opts: ExpStoreOptions): string {
  return opts.store ? path.resolve(opts.store) : defaultStoreRoot(path.join(process.cwd(), 'pipeline.yaml'));
}

/** Every readable record (newest first, of `--pipeline` if given); damaged ones are named on stderr and skipped. */
export function openRunRecords(opts: ExpStoreOptions): { storeRoot: string; runs: RecordedRun[]; damaged: ReturnType<typeof readRunRecords>['damaged'] } {
  const storeRoot = expStoreRoot(opts);
  const { runs, damaged } = readRunRecords(storeRoot);
  for (const d of damaged) process.stderr.write(`cbnn: skipped damaged run record ${d.file}: ${d.problem}\n`);
  return { storeRoot, runs: opts.pipeline ? runs.filter((r) => r.pipeline.name === opts.pipeline) : runs, damaged };
}

/** The runs named on the command line (ids, names, id prefixes), else the newest `limit`. */
export function selectRuns(all: readonly RecordedRun[], refs: readonly string[], limit?: number): RecordedRun[] {
  if (refs.length) return refs.map((r) => resolveRun(all, r));
  return limit ? all.slice(0, limit) : [...all];
}

const storeOption = ['--store <dir>', 'artifact store folder (default: .cbnn/ in the project)'] as const;
const pipelineOption = ['--pipeline <name>', "only runs of this pipeline (its 'name:')"] as const;
const limitOption = ['-n, --limit <n>', 'at most this many runs, newest first', (v: string) => positiveInt(v, '--limit')] as const;
const list = (v: string) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

export function registerExp(program: Command): void {
  const exp = program.command('exp').description('recorded runs: list, compare side by side, diff, remove, plot');

  exp
    .command('list')
    .description('recorded runs, newest first')
    .option(...storeOption)
    .option(...pipelineOption)
    .option(...limitOption)
    .option('--json', 'JSON on stdout')
    .option('--csv', 'CSV on stdout')
    .action((opts: ExpStoreOptions & FormatOptions & { limit?: number }) => {
      const { runs, damaged } = openRunRecords(opts);
      const shown = selectRuns(runs, [], opts.limit);
      const format = outputFormat(opts);
      if (format === 'json') return writeJson({ runs: shown.map(runSummary), damaged });
      const headers = ['id', 'name', 'pipeline', 'started (UTC)', 'duration', 'status', 'ran', 'cached', 'failed', 'git', 'executor'];
      const rows = shown.map((r) => [
        r.id,
        r.name ?? '',
        r.pipeline.name,
        shortTime(r.startedAt),
        shortDuration(r.durationMs),
        r.status,
        r.counts.executed,
        r.counts.cached,
        r.counts.failed + r.counts.skipped,
        gitLabel(r),
        executorLabel(r),
      ]);
      if (format === 'csv')
        return void process.stdout.write(
          toCsv(
            headers,
            shown.map((r, i) => [...rows[i].slice(0, 3), r.startedAt, r.durationMs, ...rows[i].slice(5)]),
          ),
        );
      if (shown.length === 0)
        return void process.stdout.write(`no recorded runs in ${expStoreRoot(opts)}${opts.pipeline ? ` for pipeline '${opts.pipeline}'` : ''}\n`);
      process.stdout.write(
        renderTable(
          headers,
          rows.map((r) => r.map((c) => textCell(c))),
        ),
      );
    });

  exp
    .command('show [runs...]')
    .description('one row per run, a column per param and metric (like dvc exp show)')
    .option('--only-changed', 'only the params and metrics that differ between the runs shown')
    .option('--metrics <names>', 'metric columns, comma-separated: stage.metric, a bare metric name, a prefix or a * glob', list)
    .option('--params <names>', 'param columns, comma-separated (nested params as a.b)', list)
    .option(...storeOption)
    .option(...pipelineOption)
    .option(...limitOption)
    .option('--json', 'JSON on stdout')
    .option('--csv', 'CSV on stdout')
    .action((refs: string[], opts: ExpStoreOptions & FormatOptions & { onlyChanged?: boolean; metrics?: string[]; params?: string[]; limit?: number }) => {
      const { runs, damaged } = openRunRecords(opts);
      const shown = selectRuns(runs, refs, opts.limit);
      const t = buildRunTable(shown, { onlyChanged: opts.onlyChanged, metrics: opts.metrics, params: opts.params });
      const format = outputFormat(opts);
      if (format === 'json') {
        return writeJson({
          columns: t.columns,
          runs: t.rows.map(({ run, values }) => ({
            id: run.id,
            name: run.name,
            pipeline: run.pipeline.name,
            startedAt: run.startedAt,
            status: run.status,
            params: Object.fromEntries(t.columns.filter((c) => c.kind === 'param').map((c) => [c.name, values[c.name] ?? null])),
            metrics: Object.fromEntries(t.columns.filter((c) => c.kind === 'metric').map((c) => [c.name, values[c.name] ?? null])),
          })),
          damaged,
        });
      }
      const names = t.columns.map((c) => c.name);
      if (format === 'csv') {
        return void process.stdout.write(
          toCsv(
            ['id', 'name', 'pipeline', 'startedAt', 'status', ...names],
            t.rows.map(({ run, values }) => [run.id, run.name, run.pipeline.name, run.startedAt, run.status, ...names.map((n) => values[n])]),
          ),
        );
      }
      if (t.rows.length === 0) return void process.stdout.write(`no recorded runs in ${expStoreRoot(opts)}\n`);
      process.stdout.write(
        renderTable(
          ['id', 'name', 'started (UTC)', 'status', ...names],
          t.rows.map(({ run, values }) => [run.id, run.name ?? '', shortTime(run.startedAt), run.status, ...names.map((n) => textCell(values[n]))]),
        ),
      );
    });

  exp
    .command('diff <a> <b>')
    .description('params, metrics (absolute and relative change) and stages that differ between two runs; each stage marked code, params or input')
    .option('--all', 'also what is the same')
    .option(...storeOption)
    .option('--json', 'JSON on stdout')
    .option('--csv', 'CSV on stdout (section,name,a,b,change,relative)')
    .action((refA: string, refB: string, opts: ExpStoreOptions & FormatOptions & { all?: boolean }) => {
      const { runs } = openRunRecords({ store: opts.store });
      const a = resolveRun(runs, refA, 'A');
      const b = resolveRun(runs, refB, 'B');
      const d = diffRuns(a, b, { all: opts.all });
      if (d.note) process.stderr.write(`note: ${d.note}\n`);
      const format = outputFormat(opts);
      if (format === 'json') {
        return writeJson({ a: runRef(a), b: runRef(b), note: d.note, params: d.params, metrics: d.metrics, stages: d.stages });
      }
      if (format === 'csv') {
        const rows: CellValue[][] = [
          ...d.params.map((p) => ['param', p.name, p.a, p.b, undefined, undefined]),
          ...d.metrics.map((m) => ['metric', m.name, m.a, m.b, m.change, m.relative]),
          ...d.stages.map((s) => ['stage', s.id, s.a?.key, s.b?.key, stageChangeLabel(s), s.fields.join(' ')]),
        ];
        return void process.stdout.write(toCsv(['section', 'name', 'a', 'b', 'change', 'relative'], rows));
      }
      const out: string[] = [`A  ${runHeadline(a)}`, `B  ${runHeadline(b)}`, ''];
      if (d.params.length)
        out.push(
          'params',
          indent(
            renderTable(
              ['param', 'A', 'B'],
              d.params.map((p) => [p.name, textCell(p.a), textCell(p.b)]),
            ),
          ),
        );
      else out.push('params: the same', '');
      if (d.metrics.length) {
        out.push(
          'metrics',
          indent(
            renderTable(
              ['metric', 'A', 'B', 'change', 'relative'],
              d.metrics.map((m) => [
                m.name,
                textCell(m.a),
                textCell(m.b),
                m.change === undefined ? '' : signed(m.change),
                m.relative === undefined ? '' : `${signed(m.relative * 100, 2)}%`,
              ]),
            ),
          ),
        );
      } else out.push('metrics: the same', '');
      if (d.stages.length)
        out.push(
          'stages',
          indent(
            renderTable(
              ['stage', 'differs', 'what changed'],
              d.stages.map((s) => [s.id, stageChangeLabel(s), s.fields.join(', ')]),
            ),
          ),
        );
      else out.push('stages: the same keys', '');
      process.stdout.write(out.join('\n').trimEnd() + '\n');
    });

  exp
    .command('remove <runs...>')
    .description("drop run records (the outputs they alone referenced go at the next 'cbnn gc')")
    .option(...storeOption)
    .option('--json', 'JSON on stdout')
    .option('--csv', 'CSV on stdout')
    .action((refs: string[], opts: ExpStoreOptions & FormatOptions) => {
      const { storeRoot, runs } = openRunRecords({ store: opts.store });
      // All names are resolved before anything is removed: one typo removes nothing.
      const doomed = [...new Map(refs.map((r) => resolveRun(runs, r)).map((r) => [r.id, r])).values()];
      for (const r of doomed) removeRunRecord(storeRoot, r.id);
      const format = outputFormat(opts);
      if (format === 'json') return writeJson({ removed: doomed.map(runRef) });
      if (format === 'csv')
        return void process.stdout.write(
          toCsv(
            ['id', 'name'],
            doomed.map((r) => [r.id, r.name]),
          ),
        );
      process.stdout.write(
        `removed ${doomed.length} run record${doomed.length === 1 ? '' : 's'}: ${doomed.map((r) => r.id + (r.name ? ` (${r.name})` : '')).join(', ')}\n`,
      );
    });

  registerExpPlot(exp);
}

function runSummary(r: RecordedRun) {
  return {
    id: r.id,
    name: r.name,
    pipeline: r.pipeline.name,
    pipelineFile: r.pipeline.file,
    startedAt: r.startedAt,
    endedAt: r.endedAt,
    durationMs: r.durationMs,
    status: r.status,
    counts: r.counts,
    git: r.git,
    executor: r.executor,
  };
}

function runRef(r: RecordedRun) {
  return { id: r.id, name: r.name, pipeline: r.pipeline.name, startedAt: r.startedAt, status: r.status };
}

function runHeadline(r: RecordedRun): string {
  return `${r.id}${r.name ? ` (${r.name})` : ''}  pipeline ${r.pipeline.name}, started ${shortTime(r.startedAt)} UTC, ${r.status}${r.git ? `, git ${gitLabel(r)}` : ''}`;
}

function gitLabel(r: RecordedRun): string {
  return r.git ? `${r.git.commit.slice(0, 8)}${r.git.dirty ? '+dirty' : ''}` : '';
}

function executorLabel(r: RecordedRun): string {
  return r.executor.workers.length ? `${r.executor.name} (${r.executor.workers.length} worker${r.executor.workers.length === 1 ? '' : 's'})` : r.executor.name;
}

function stageChangeLabel(s: ReturnType<typeof diffRuns>['stages'][number]): string {
  if (s.state === 'added') return 'only in B';
  if (s.state === 'removed') return 'only in A';
  if (s.state === 'same') return 'same';
  return s.changes.length ? s.changes.join('+') : 'key differs';
}

function signed(v: number, digits = 5): string {
  const text = Number.isInteger(v) ? String(v) : digits === 2 ? v.toFixed(2) : String(Number(v.toPrecision(digits)));
  return v > 0 ? `+${text}` : text;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => (l ? `  ${l}` : l))
    .join('\n');
}

export function positiveInt(v: string, name: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} expects a positive integer, got '${v}'`);
  return n;
}
