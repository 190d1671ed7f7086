import type { BenchResult, BenchRow } from './bench-format';
import { describeSide } from './runtime-side';
import { headlineText, ratioMatrix, ratioMatrixMarkdown } from './ratio-matrix';

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
    '| model | runtime | threads | batch | latency ms | images/s | CPU ms | model bytes | accuracy | peak RSS MB |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of result.rows) {
    lines.push(
      `| ${describeSide(r).split(', ')[0]} | ${r.runtime} | ${r.threads} | ${r.batch} | ${spread(r.latencyMs)} | ${spread(r.imagesPerSecond)} | ${r.cpuMs ? fmt(r.cpuMs.median) : '–'} | ${r.modelBytes.toLocaleString('en-US')} | ${
        r.accuracy === undefined ? '–' : (r.accuracy * 100).toFixed(2) + '%'
      } | ${(r.peakRssBytes / MB).toFixed(0)} |`,
    );
  }
  if (result.ratios.length > 0) {
    const headline = headlineText(result);
    lines.push('', '## Speedups (same run)', '');
    if (headline) lines.push(headline, '');
    lines.push(...ratioMatrixMarkdown(ratioMatrix(result)), '');
    lines.push(
      'Every ratio, by median wall time per call; the last column by median process CPU time per call (a side on 2 threads counts both), which load from elsewhere on a shared machine disturbs less.',
      '',
      '| faster | slower | batch | speedup | by CPU time |',
      '| --- | --- | ---: | ---: | ---: |',
    );
    for (const q of result.ratios)
      lines.push(
        `| ${describeSide(q.faster)} | ${describeSide(q.slower)} | ${q.batch} | ${q.speedup.toFixed(2)}x | ${q.cpuSpeedup ? q.cpuSpeedup.toFixed(2) + 'x' : '–'} |`,
      );
  }
  if (result.profiles && result.profiles.length > 0) {
    const batch = result.profiles[0].batch;
    lines.push('', `## Per layer (cbnn engine, 1 thread, batch ${batch})`, '');
    const gemm = result.gemm;
    const pct = (a: number, b: number | undefined): string => (b ? ` = ${((100 * a) / b).toFixed(0)}% of the GEMM's` : '');
    if (gemm) {
      lines.push(
        `Binary GEMM in this run (${gemm.variant}, ${gemm.shape}, 1 thread): ${fmt(gemm.gBinaryMacsPerSecond)} G binary-MAC/s by wall time${gemm.cpuGBinaryMacsPerSecond ? `, ${fmt(gemm.cpuGBinaryMacsPerSecond)} by CPU time` : ''}.`,
      );
    }
    for (const p of result.profiles) {
      const cpu = p.cpuGBinaryMacsPerSecond
        ? `; by CPU time ${fmt(p.cpuGBinaryMacsPerSecond)}${pct(p.cpuGBinaryMacsPerSecond, gemm?.cpuGBinaryMacsPerSecond)}`
        : '';
      lines.push(
        `- ${describeSide({ model: p.model, runtime: p.runtime, threads: 1 })}: ${p.binaryMacsPerImage.toLocaleString('en-US')} binary MACs per image, ${fmt(p.totalMs)} ms per batch (sum of the calls' medians), ${fmt(p.gBinaryMacsPerSecond)} G binary-MAC/s${pct(p.gBinaryMacsPerSecond, gemm?.gBinaryMacsPerSecond)}${cpu}.`,
      );
    }
    lines.push(
      '',
      'Each call timed alone (median of 7 runs, min–max); a conv followed by max-pool is one call. im2col: that phase alone (for a tap-table conv, `b-conv3x3-taplut…`, the rewrite of the input into table indices); the rest of the call is the popcount GEMM or the table sums with the threshold, the pool and the packing of the output bits fused into it.',
      '',
      '| model | layer | kernel | binary MACs/image | ms (min–max) | CPU ms | G binary-MAC/s | im2col ms |',
      '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |',
    );
    for (const p of result.profiles) {
      for (const st of p.steps) {
        lines.push(
          `| ${describeSide({ model: p.model, runtime: p.runtime, threads: 1 }).split(', ')[0]} | ${st.label} | ${st.variant} | ${st.binaryMacsPerImage.toLocaleString('en-US')} | ${fmt(st.ms.median)} (${fmt(st.ms.min)}–${fmt(st.ms.max)}) | ${st.cpuMs !== undefined ? fmt(st.cpuMs) : '–'} | ${
            st.binaryMacsPerImage > 0 ? fmt(st.gBinaryMacsPerSecond) : '–'
          } | ${st.phases?.im2col !== undefined ? fmt(st.phases.im2col) : '–'} |`,
        );
      }
    }
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
