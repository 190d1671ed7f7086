import type { ChartSpec } from './charts';
import { escapeHtml } from './html-escape';
import type { ReportInput } from './report-input';
import { deltaText, earlyStopSummary } from '@cbnn/pruning/search-format';
import type { SearchResult } from './result-schemas';

/**
 * What a reviewer asks first: which split decided what, how many seeds stand behind each number,
 * and whether dropping the planes (rather than narrowing the network) is what bought the savings.
 */

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** One line per decision, naming its split; the authors' test-split variant is called out. */
export function decisionLines(input: ReportInput): string[] {
  const lines: string[] = [];
  const s = input.sensitivity;
  if (s) {
    lines.push(
      s.split === 'test'
        ? `Sensitivity measured on the **test** split (${s.records} images): the authors' variant — the plan below was decided on test images, so the test accuracies are not an unbiased estimate.`
        : `Sensitivity measured on the ${s.split} split (${s.records} images).`,
    );
  }
  if (input.plan) lines.push(`Planes chosen (pruning.plan) on the ${input.plan.split} split (${input.plan.records} images).`);
  if (input.search) {
    const search = input.search;
    lines.push(
      `Compact model chosen (pruning.select) on the ${search.selection} split; test accuracy is measured once per model for reporting and read by no decision.`,
    );
    lines.push(seedLine(search));
    lines.push(earlyStopSummary(search));
  }
  return lines;
}

function seedLine(search: SearchResult): string {
  const counts = [search.baseline, ...search.candidates, ...search.controls].map((c) => c.seeds.length);
  if (counts.every((n) => n === 1))
    return 'One seed per configuration: every accuracy is a single training run (intervals are Wilson intervals on the test images only).';
  return `Seeds ${search.seeds.join(', ')} (${Math.min(...counts)}–${Math.max(...counts)} per configuration): accuracies are mean ± standard deviation over seeds, intervals are 95% t intervals over seeds.`;
}

const signed = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(2)}`;

/** Markdown: the decision lines and, when the search had controls, the planes' cost at the chosen width. */
export function evidenceMarkdown(input: ReportInput): string[] {
  const lines = decisionLines(input).map((l) => `- ${l}`);
  const search = input.search;
  const chosen = search?.candidates.find((c) => c.name === search.chosen);
  const row = chosen && search?.ablation.find((a) => a.pruned === chosen.name);
  if (row) {
    lines.push(
      `- Ablation at w=${row.width}: the kept planes (${row.prunedPlaneCount}) vs all ${row.controlPlaneCount} planes: ${deltaText(row.validationDeltaPoints, row.seeds)} validation points, ${deltaText(row.testDeltaPoints, row.seeds)} test points, ${row.prunedBytes} vs ${row.controlBytes} bytes.`,
    );
  } else if (search && search.controls.length === 0) {
    lines.push('- No all-plane control was trained: nothing here says whether dropping planes (rather than narrowing) cost or saved anything.');
  }
  return lines.length ? ['', 'Evidence:', ...lines] : [];
}

/** HTML: decisions, seeds, the ablation table and the attribution of the savings. */
export function evidenceSection(input: ReportInput): string {
  const lines = decisionLines(input);
  const search = input.search;
  if (lines.length === 0) return '';
  const parts = [
    `<section id="evidence"><h2>Evidence</h2><ul>${lines.map((l) => `<li>${escapeHtml(l).replace(/\*\*(.+?)\*\*/g, '<strong>$1</strong>')}</li>`).join('')}</ul>`,
  ];
  if (search) parts.push(`<p class="note">Selection rule: ${escapeHtml(search.rule.text)}</p>`);
  if (search && search.ablation.length > 0) {
    const rows = search.ablation
      .map(
        (a) =>
          `<tr><td>${a.width}</td><td>${escapeHtml(a.pruned)} (${a.prunedPlaneCount})</td><td>${escapeHtml(a.control)} (${a.controlPlaneCount})</td><td>${deltaText(a.validationDeltaPoints, a.seeds)}</td><td>${deltaText(a.testDeltaPoints, a.seeds)}</td><td>${a.prunedBytes.toLocaleString('en-US')} / ${a.controlBytes.toLocaleString('en-US')}</td><td>${a.prunedFirstLayerMacs?.toLocaleString('en-US') ?? '—'} / ${a.controlFirstLayerMacs?.toLocaleString('en-US') ?? '—'}</td><td>${a.prunedInputBits ?? '—'} / ${a.controlInputBits ?? '—'}</td></tr>`,
      )
      .join('\n');
    parts.push(
      `<h3>Ablation: kept planes vs all planes at the same width</h3><table id="ablation-table"><thead><tr><th>Width</th><th>Kept planes</th><th>All planes</th><th>Δ validation (pts)</th><th>Δ test (pts)</th><th>Bytes kept / all</th><th>First-layer MACs kept / all</th><th>Input bits kept / all</th></tr></thead><tbody>\n${rows}\n</tbody></table>`,
    );
  } else if (search) {
    parts.push('<p class="missing">No all-plane control was trained at the searched widths: the report cannot say what dropping the planes cost or saved.</p>');
  }
  if (search && search.attribution.length > 0) {
    const rows = search.attribution
      .map((r) => {
        const accuracy = r.quantity.includes('accuracy');
        const part = (a: number, b: number) => (accuracy ? signed(b - a) : `${(a / b).toFixed(2)}×`);
        const fmt = (x: number) => (accuracy ? x.toFixed(2) : Math.round(x).toLocaleString('en-US'));
        return `<tr><td>${escapeHtml(r.quantity)}</td><td>${fmt(r.baseline)}</td><td>${fmt(r.control)}</td><td>${fmt(r.chosen)}</td><td>${part(r.baseline, r.control)}</td><td>${part(r.control, r.chosen)}</td></tr>`;
      })
      .join('\n');
    parts.push(
      `<h3>Where the savings come from</h3><p class="note">Baseline BNN (w=${search.baseline.width}, all planes) → all planes at the chosen width → the chosen model (kept planes). Latency: see the benchmark.</p><table id="attribution-table"><thead><tr><th>Quantity</th><th>Baseline</th><th>All planes, chosen width</th><th>Chosen</th><th>From the width</th><th>From the planes</th></tr></thead><tbody>\n${rows}\n</tbody></table>`,
    );
  }
  parts.push('</section>');
  return parts.join('');
}

/** Accuracy against width: one line for all planes, one per kept-plane set; bars ±1 std over seeds. */
export function ablationChart(input: ReportInput): ChartSpec | undefined {
  const search = input.search;
  if (!search || search.controls.length === 0) return undefined;
  const values = [...search.candidates, ...search.controls].flatMap((c) =>
    (['validation', 'test'] as const).map((split) => {
      const s = c[split];
      return {
        series: c.role === 'control' ? `all ${c.planeCount} planes` : `kept: ${c.name.replace(/-w[0-9.]+(-\d+)?$/, '')} (${c.planeCount})`,
        split,
        width: c.width,
        mean: s.mean,
        lo: Math.max(0, s.mean - s.std),
        hi: Math.min(1, s.mean + s.std),
        seeds: s.n,
        name: c.name,
      };
    }),
  );
  const x = { field: 'width', type: 'quantitative', title: 'width multiplier', scale: { zero: false, padding: 10 } };
  const y = { type: 'quantitative', title: 'accuracy (mean over seeds)', scale: { zero: false }, axis: { format: '.1%' } };
  return {
    id: 'chart-ablation',
    title: 'Ablation: accuracy vs width, kept planes and all planes',
    caption: `Each point is one configuration (${seedLine(search)}); bars are ±1 standard deviation over seeds. Left: validation (decides); right: test (reported).`,
    spec: {
      $schema: SCHEMA,
      data: { values },
      facet: { column: { field: 'split', type: 'nominal', title: null, sort: ['validation', 'test'] } },
      spec: {
        width: 260,
        height: 240,
        layer: [
          {
            mark: { type: 'line', point: true },
            encoding: {
              x,
              y: { ...y, field: 'mean' },
              color: { field: 'series', type: 'nominal', title: 'input planes' },
              tooltip: [{ field: 'name' }, { field: 'mean', format: '.2%' }, { field: 'seeds' }],
            },
          },
          { mark: { type: 'rule' }, encoding: { x, y: { ...y, field: 'lo' }, y2: { field: 'hi' }, color: { field: 'series', type: 'nominal' } } },
        ],
      },
    },
  };
}
