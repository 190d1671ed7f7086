import type { BenchResult, BenchRow } from './bench-format';
import { describeSide } from './runtime-side';
import { headlineText, ratioListLines, ratioMatrix, ratioMatrixMarkdown } from './ratio-matrix';

const MB = 1024 * 1024;

function fmt(x: number): string {
  if (x >= 100) return x.toFixed(0);
  if (x >= 10) return x.toFixed(1);
  if (x >= 1) return x.toFixed(2);
  return x.toPrecision(3);
}

const spread = (q: BenchRow['latencyMs']): string => `${fmt(q.median)} (${fmt(q.q1)}–${fmt(q.q3)})`;

/** bench.md: the runtime table, the ratios, the machine and the notes. */
export function benchMarkdown(result: BenchResult): string {
  const lines: string[] = [
    '# Runtime benchmark',
    '',
    `${result.date} · ${result.machine.cpu}, ${result.machine.cores} cores · Node ${result.machine.node} · ${result.machine.os}`,
    '',
    `Median of ${result.runs} timed runs after ${result.warmup} warm-up runs, interquartile range in parentheses. Latency is one call on a batch of images; single-thread figures first.`,
    '',
    '| model | runtime | threads | batch | latency ms | images/s | model bytes | accuracy | peak RSS MB |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of result.rows) {
    lines.push(
      `| ${describeSide(r).split(', ')[0]} | ${r.runtime} | ${r.threads} | ${r.batch} | ${spread(r.latencyMs)} | ${spread(r.imagesPerSecond)} | ${r.modelBytes.toLocaleString('en-US')} | ${
        r.accuracy === undefined ? '–' : (r.accuracy * 100).toFixed(2) + '%'
      } | ${(r.peakRssBytes / MB).toFixed(0)} |`,
    );
  }
  if (result.ratios.length > 0) {
    const headline = headlineText(result);
    lines.push('', '## Speedups (same run)', '');
    if (headline) lines.push(headline, '');
    lines.push(...ratioMatrixMarkdown(ratioMatrix(result)), '', 'Every ratio:', '', ...ratioListLines(result));
  }
  if (result.backends && Object.keys(result.backends).length > 0) {
    lines.push('', '## Runtimes', '');
    for (const [k, v] of Object.entries(result.backends)) lines.push(`- ${k}: ${v}`);
  }
  if (result.notes && result.notes.length > 0) {
    lines.push('', '## Notes', '');
    for (const n of result.notes) lines.push(`- ${n}`);
  }
  return lines.join('\n') + '\n';
}
