import { headlineText, ratioMatrix, ratioMatrixMarkdown } from '@cbnn/bench/ratio-matrix';
import { escapeMarkdownCell } from './html-escape';
import { formatAccuracy, formatBytes, formatMs, formatPoints, formatRatio } from './format';
import type { MissingPart } from './missing-parts';
import type { ResultsRow } from './results-table';
import type { ReportInput } from './report-input';
import { evidenceMarkdown } from './evidence-section';

export const RESULTS_COLUMNS = [
  'Model',
  'Input planes',
  'Width',
  'Test accuracy',
  'Δ vs baseline',
  'Size',
  'Compression (→ compact)',
  'Latency (median)',
  'Speedup of compact',
  'Runtime',
] as const;

/** The cells of one results row, as text (shared by the HTML table and the markdown). */
export function resultsCells(row: ResultsRow): string[] {
  return [
    row.name,
    row.input ?? '—',
    row.width === undefined ? '—' : `${row.width}×`,
    formatAccuracy(row.testAccuracy),
    row.model === 'baseline' ? '—' : formatPoints(row.deltaPoints),
    formatBytes(row.bytes),
    formatRatio(row.compression),
    formatMs(row.latency?.median),
    formatRatio(row.speedup),
    row.latency ? `${row.latency.runtime}, ${row.latency.threads} thr, batch ${row.latency.batch}` : '—',
  ];
}

/** A row is shown when anything is known about that model. */
export function hasData(row: ResultsRow): boolean {
  return row.testAccuracy !== undefined || row.bytes !== undefined || row.latency !== undefined;
}

export function buildMarkdownSummary(input: ReportInput, rows: ResultsRow[], missing: MissingPart[], title: string): string {
  const lines: string[] = [`## ${title}`, ''];
  if (input.dataset) {
    const s = input.dataset.splits;
    lines.push(`Dataset: ${input.dataset.source.name} (${s.train.count} train / ${s.validation.count} validation / ${s.test.count} test).`, '');
  }
  const shown = rows.filter(hasData);
  if (shown.length > 0) {
    lines.push(`| ${RESULTS_COLUMNS.join(' | ')} |`, `| ${RESULTS_COLUMNS.map(() => '---').join(' | ')} |`);
    for (const row of shown) lines.push(`| ${resultsCells(row).map(escapeMarkdownCell).join(' | ')} |`);
    lines.push(
      '',
      'Size: packed engine model on disk for the BNNs, float32 weights for full precision. Compression: size of that model / size of the compact BNN. Speedup: latency of that model / latency of the compact BNN.',
    );
  } else {
    lines.push('No results table: neither search.json, bench.json nor model folders were given.');
  }
  if (input.bench && input.bench.ratios.length > 0) {
    const headline = headlineText(input.bench);
    if (headline) lines.push('', `**${headline}**`);
    lines.push(
      '',
      'Speed ratios (median latencies measured side by side in one process; one ratio per line in bench.md, or with `--verbose`):',
      '',
      ...ratioMatrixMarkdown(ratioMatrix(input.bench), escapeMarkdownCell),
    );
  }
  if (input.search) {
    lines.push('', `Chosen compact model: \`${input.search.chosen}\` (budget ${input.search.budgetPoints} pts, selected on validation accuracy).`);
  }
  lines.push(...evidenceMarkdown(input));
  if (missing.length > 0) {
    lines.push('', 'Missing from this report:');
    for (const m of missing) lines.push(`- ${m.part}: ${m.effect}`);
  }
  return lines.join('\n') + '\n';
}
