import type { CellValue } from '@cbnn/pipeline/run-records';

/** Output of the `cbnn exp` commands: aligned text for people, CSV and JSON for tools. */
export type OutputFormat = 'text' | 'json' | 'csv';

export function outputFormat(opts: { json?: boolean; csv?: boolean }): OutputFormat {
  return opts.json ? 'json' : opts.csv ? 'csv' : 'text';
}

/** A cell for text output: numbers to 5 significant digits, nothing for absent values. */
export function textCell(v: CellValue): string {
  if (v === undefined || v === null) return '-';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(5)));
  return String(v);
}

export function renderTable(headers: readonly string[], rows: readonly string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n') + '\n';
}

/** RFC 4180: cells with a comma, quote or line break are quoted, quotes doubled. Raw values, not rounded. */
export function toCsv(headers: readonly string[], rows: readonly CellValue[][]): string {
  const cell = (v: CellValue) => {
    const s = v === undefined || v === null ? '' : String(v);
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [headers, ...rows].map((r) => r.map(cell).join(',')).join('\n') + '\n';
}

export function writeJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/** `2026-12-01T07:23:01.123Z` -> `2026-12-01 07:23:01` (UTC, as recorded). */
export function shortTime(iso: string): string {
  return iso.slice(0, 19).replace('T', ' ');
}

export function shortDuration(ms: number): string {
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}
