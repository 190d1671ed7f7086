/** The report's stylesheet, inlined (no external files). */
export const REPORT_CSS = `
:root { color-scheme: light; --ink: #1d2330; --muted: #5b6475; --line: #d9dee7; --accent: #d62728; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--ink); background: #f6f7f9; }
main { max-width: 1280px; margin: 0 auto; padding: 24px 28px 48px; }
header h1 { margin: 0 0 4px; font-size: 26px; }
.meta, .note { color: var(--muted); }
.note { font-size: 12.5px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 16px 20px; margin: 18px 0; }
h2 { margin: 0 0 10px; font-size: 19px; }
h3 { margin: 18px 0 6px; font-size: 15px; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
thead th { background: #eef1f6; font-weight: 600; }
#results-table tr[data-model="compact"] td { background: #fff4f2; font-weight: 600; }
#ratios-table td:nth-child(n+2), #ratios-table th:nth-child(n+2) { text-align: right; white-space: nowrap; }
.headline { font-size: 15px; margin: 4px 0 8px; }
#provenance-table th { width: 180px; color: var(--muted); font-weight: 600; }
code { background: #eef1f6; padding: 1px 5px; border-radius: 4px; }
.notice { border-color: #e8c36a; background: #fffaf0; }
.notice ul { margin: 6px 0 0; padding-left: 22px; }
.missing { color: #8a5a00; font-style: italic; }
.chart-grid { display: flex; flex-wrap: wrap; gap: 18px; }
.chart { width: 100%; }
#results-table td:nth-child(1), #results-table td:nth-child(n+3):nth-child(-n+9) { white-space: nowrap; }
.chart-figure { margin: 0; flex: 1 1 520px; min-width: 0; border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; overflow-x: auto; }
.chart-figure figcaption { font-size: 12.5px; color: var(--muted); margin-bottom: 6px; }
.chart-figure figcaption strong { color: var(--ink); display: block; font-size: 14px; }
.dag-wrap { overflow-x: auto; }
svg.dag { max-width: 100%; height: auto; }
svg.dag rect { fill: #eef4fb; stroke: #4c78a8; stroke-width: 1.2; }
svg.dag .dag-name { font-size: 12.5px; font-weight: 600; text-anchor: middle; fill: var(--ink); }
svg.dag .dag-sub { font-size: 10.5px; text-anchor: middle; fill: var(--muted); }
svg.dag .dag-edge { fill: none; stroke: #666; stroke-width: 1.3; }
pre.dag-text { background: #f3f5f8; padding: 10px; border-radius: 6px; overflow-x: auto; }
`;
