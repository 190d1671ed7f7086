import { planCharts, type ChartSpec } from './charts';
import { evidenceSection } from './evidence-section';
import { renderDag } from './dag-render';
import { formatAccuracy, formatBytes, formatMs, formatPlaneSelection, formatPoints, formatRatio } from './format';
import { escapeHtml } from './html-escape';
import { chartPage } from './chart-page';
import { buildMarkdownSummary, hasData, RESULTS_COLUMNS, resultsCells } from './markdown-summary';
import { missingParts, type MissingPart } from './missing-parts';
import { effectiveProvenance } from './provenance';
import { buildResultsRows, MODEL_NAMES, type ResultsRow } from './results-table';
import { headlineText, ratioMatrix } from '@cbnn/bench/ratio-matrix';
import type { ReportInput } from './report-input';
import type { Provenance } from './result-schemas';

export interface BuiltReport {
  /** One self-contained HTML page: Vega, Vega-Lite and vega-embed are inlined. */
  html: string;
  /** The results table and key facts as markdown (`summary.md`, printed by the runner). */
  markdown: string;
}

export const DEFAULT_TITLE = 'Compact BNN report';

export function buildReport(input: ReportInput): BuiltReport {
  const title = input.title ?? DEFAULT_TITLE;
  const generatedAt = input.generatedAt ?? new Date().toISOString();
  const rows = buildResultsRows(input);
  const missing = missingParts(input);
  const { charts, missing: missingCharts } = planCharts(input);
  const markdown = buildMarkdownSummary(input, rows, missing, title);

  const body = [
    `<header><h1>${escapeHtml(title)}</h1><p class="meta">Generated ${escapeHtml(generatedAt)}${runLine(input)}${datasetLine(input)}</p></header>`,
    missingSection(missing),
    resultsSection(input, rows),
    evidenceSection(input),
    chartsSection(charts, missingCharts),
    planSection(input),
    benchSection(input),
    dagSection(input),
    provenanceSection(input),
  ].join('\n');

  const html = chartPage(title, body, charts);
  return { html, markdown };
}

function runLabel(run: NonNullable<Provenance['run']>): string {
  return [run.id, run.name && `"${run.name}"`, run.startedAt && `started ${run.startedAt}`, run.status].filter(Boolean).join(' · ');
}

/** The run the results come from, so a reader can find it again: `cbnn exp show ID`. */
function runLine(input: ReportInput): string {
  const run = input.provenance?.run;
  return run ? ` · run <code id="report-run">${escapeHtml(run.id)}</code>${run.name ? ` (<strong>${escapeHtml(run.name)}</strong>)` : ''}` : '';
}

function datasetLine(input: ReportInput): string {
  const d = input.dataset;
  if (!d) return '';
  const s = d.splits;
  return ` · dataset <strong>${escapeHtml(d.source.name)}</strong> ${d.shape.height}×${d.shape.width}×${d.shape.channels} (${escapeHtml(d.channelNames.join(', '))}), ${d.classNames.length} classes, ${s.train.count.toLocaleString('en-US')} train / ${s.validation.count.toLocaleString('en-US')} validation / ${s.test.count.toLocaleString('en-US')} test`;
}

function missingSection(missing: MissingPart[]): string {
  if (missing.length === 0) return '';
  const items = missing.map((m) => `<li><strong>${escapeHtml(m.part)}</strong>: ${escapeHtml(m.effect)}</li>`).join('');
  return `<section id="missing-parts" class="notice"><h2>Missing from this report</h2><p>These inputs were not given to the report, so the parts below are left out:</p><ul>${items}</ul></section>`;
}

export function table(id: string, headers: readonly string[], rows: string[][], rowAttrs: string[] = []): string {
  const head = headers.map((h) => `<th scope="col">${escapeHtml(h)}</th>`).join('');
  const body = rows.map((cells, i) => `<tr${rowAttrs[i] ?? ''}>${cells.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('\n');
  return `<table id="${id}"><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

function resultsSection(input: ReportInput, rows: ResultsRow[]): string {
  const shown = rows.filter(hasData);
  if (shown.length === 0) {
    return `<section id="results"><h2>Results</h2><p class="missing">No results table: it needs search.json, bench.json or model folders, and none was given.</p></section>`;
  }
  let ratios = '';
  if (input.bench && input.bench.ratios.length > 0) {
    const matrix = ratioMatrix(input.bench);
    const headline = headlineText(input.bench);
    ratios =
      `<h3>Speed ratios</h3>${headline ? `<p class="headline"><strong>${escapeHtml(headline)}</strong></p>` : ''}` +
      `<p class="note">How many times faster the first side of each comparison ran (median latencies measured side by side in one process); one ratio per line in bench.md.</p>` +
      table(
        'ratios-table',
        ['Comparison', ...matrix.batches.map((b) => `Batch ${b}`)],
        matrix.rows.map((r) => [r.comparison, ...matrix.batches.map((b) => formatRatio(r.speedups.get(b)))]),
      );
  }
  const chosen = input.search
    ? `<p>Chosen compact model: <code>${escapeHtml(input.search.chosen)}</code>, selected on validation accuracy within ${escapeHtml(input.search.budgetPoints)} pts of the baseline.</p>`
    : '';
  return (
    `<section id="results"><h2>Results</h2>${chosen}` +
    table(
      'results-table',
      RESULTS_COLUMNS,
      shown.map(resultsCells),
      shown.map((r) => ` data-model="${r.model}"`),
    ) +
    `<p class="note">Size: the packed engine model on disk for the BNNs, float32 weights for full precision. Compression: that model's size / the compact BNN's size. Speedup: that model's median latency / the compact BNN's, on the runtime named in the last column.</p>` +
    ratios +
    `</section>`
  );
}

/** The charts section of a page (the report, the experiments page): a figure per chart, and one per chart not shown with why. */
export function chartsSection(charts: ChartSpec[], missing: { title: string; reason: string }[]): string {
  const figures = charts.map(
    (c) =>
      `<figure class="chart-figure"><figcaption><strong>${escapeHtml(c.title)}</strong> ${escapeHtml(c.caption)}</figcaption><div class="chart" id="${c.id}" data-rendered="pending"></div></figure>`,
  );
  const absent = missing.map(
    (m) =>
      `<figure class="chart-figure chart-missing"><figcaption><strong>${escapeHtml(m.title)}</strong></figcaption><p class="missing">Not shown: ${escapeHtml(m.reason)}.</p></figure>`,
  );
  return `<section id="charts"><h2>Charts</h2><div class="chart-grid">${[...figures, ...absent].join('\n')}</div></section>`;
}

function planSection(input: ReportInput): string {
  const plan = input.plan;
  if (!plan) return '';
  const steps = table(
    'plan-steps',
    ['Drop', 'Accuracy', 'Drop vs baseline', 'Accepted'],
    plan.steps.map((s) => [s.drop, formatAccuracy(s.accuracy), formatPoints(-s.dropPoints), s.accepted ? 'yes' : 'no']),
  );
  const dropped = Object.values(plan.droppedPlanes).some((b) => b.length > 0)
    ? formatPlaneSelection(Object.fromEntries(Object.entries(plan.droppedPlanes).filter(([, b]) => b.length > 0)))
    : 'none';
  return (
    `<section id="plan"><h2>Pruning plan</h2>` +
    `<p>Policy <code>${escapeHtml(plan.policy)}</code>, perturbation <code>${escapeHtml(plan.mode)}</code>, budget ${escapeHtml(plan.budgetPoints)} pts below the baseline (${escapeHtml(formatAccuracy(plan.baselineAccuracy))}). ` +
    `Kept: <strong>${escapeHtml(formatPlaneSelection(plan.keptPlanes))}</strong>; dropped: <strong>${escapeHtml(dropped)}</strong>.</p>` +
    steps +
    `</section>`
  );
}

function benchSection(input: ReportInput): string {
  const bench = input.bench;
  if (!bench) return '';
  const rows = bench.rows.map((r) => [
    MODEL_NAMES[r.model],
    r.runtime,
    String(r.threads),
    String(r.batch),
    `${formatMs(r.latencyMs.median)} [${formatMs(r.latencyMs.q1)} – ${formatMs(r.latencyMs.q3)}]`,
    Math.round(r.imagesPerSecond.median).toLocaleString('en-US'),
    formatBytes(r.modelBytes),
    formatAccuracy(r.accuracy),
    formatBytes(r.peakRssBytes),
  ]);
  return (
    `<section id="bench"><h2>Benchmark runs</h2><p class="note">${escapeHtml(bench.date)} · ${escapeHtml(bench.machine.cpu)}, ${bench.machine.cores} cores, Node ${escapeHtml(bench.machine.node)}, ${escapeHtml(bench.machine.os)} · ${bench.warmup} warm-up + ${bench.runs} timed runs</p>` +
    table('bench-table', ['Model', 'Runtime', 'Threads', 'Batch', 'Latency median [q1 – q3]', 'Images/s', 'Model bytes', 'Accuracy', 'Peak RSS'], rows) +
    `</section>`
  );
}

function dagSection(input: ReportInput): string {
  if (!input.dag) return '';
  return `<section id="dag"><h2>Pipeline</h2><div class="dag-wrap">${renderDag(input.dag)}</div></section>`;
}

function provenanceSection(input: ReportInput): string {
  const p = effectiveProvenance(input);
  const entries: [string, string][] = [];
  if (p.run) entries.push(['run', runLabel(p.run)]);
  if (p.gitCommit) entries.push(['git commit', `${p.gitCommit}${p.gitDirty ? ' (with uncommitted changes)' : ''}`]);
  if (p.pipeline) entries.push(['pipeline', p.pipeline]);
  if (p.command) entries.push(['command', p.command]);
  if (p.backend) entries.push(['training backend', p.backend]);
  if (p.seeds)
    entries.push([
      'seeds',
      Object.entries(p.seeds)
        .map(([k, v]) => `${k}: ${v}`)
        .join(', '),
    ]);
  if (p.machine)
    entries.push([
      'machine',
      [p.machine.cpu, p.machine.cores !== undefined ? `${p.machine.cores} cores` : undefined, p.machine.os, p.machine.node && `Node ${p.machine.node}`]
        .filter(Boolean)
        .join(', '),
    ]);
  if (p.packageVersions)
    entries.push([
      'package versions',
      Object.entries(p.packageVersions)
        .map(([k, v]) => `${k} ${v}`)
        .join(', '),
    ]);
  if (entries.length === 0)
    return `<section id="provenance"><h2>Provenance</h2><p class="missing">No provenance was given or recorded in the results.</p></section>`;
  const rows = entries.map(([k, v]) => `<tr><th scope="row">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('\n');
  return `<section id="provenance"><h2>Provenance</h2><table id="provenance-table"><tbody>\n${rows}\n</tbody></table></section>`;
}
