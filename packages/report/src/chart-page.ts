import { escapeHtml, jsonForScript } from './html-escape';
import { REPORT_CSS } from './report-style';
import { vegaBrowserScripts } from './vega-bundle';

/** A chart of a page: its Vega-Lite spec goes into the container with this id. */
export interface PageChart {
  id: string;
  spec: Record<string, unknown>;
}

/**
 * One self-contained HTML page (the report, the experiments page): the report's stylesheet,
 * Vega, Vega-Lite and vega-embed inlined, and the charts rendered by RENDER_SCRIPT.
 */
export function chartPage(title: string, body: string, charts: readonly PageChart[], extraCss = ''): string {
  const chartData = charts.map((c) => ({ id: c.id, spec: c.spec }));
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${REPORT_CSS}${extraCss}</style>
</head>
<body>
<main>
${body}
</main>
${vegaBrowserScripts()
  .map((code) => `<script>${code}</script>`)
  .join('\n')}
<script type="application/json" id="cbnn-chart-specs">${jsonForScript(chartData)}</script>
<script>${RENDER_SCRIPT}</script>
</body>
</html>
`;
}

/**
 * Renders every chart with the SVG renderer and records the outcome in `window.cbnnReport`
 * (and `data-rendered` on each container) so a browser test can wait for it. A failure is
 * printed in place of the chart and logged with console.error.
 */
const RENDER_SCRIPT = `(function () {
  var charts = JSON.parse(document.getElementById('cbnn-chart-specs').textContent);
  var status = (window.cbnnReport = { total: charts.length, rendered: 0, failed: 0, errors: [] });
  charts.forEach(function (chart) {
    var el = document.getElementById(chart.id);
    var fail = function (e) {
      status.failed++;
      status.errors.push(chart.id + ': ' + (e && e.message ? e.message : String(e)));
      el.setAttribute('data-rendered', 'error');
      el.textContent = 'This chart could not be rendered: ' + (e && e.message ? e.message : String(e));
      console.error('chart ' + chart.id + ' failed', e);
    };
    try {
      vegaEmbed(el, chart.spec, { renderer: 'svg', actions: false })
        .then(function () { status.rendered++; el.setAttribute('data-rendered', 'true'); })
        .catch(fail);
    } catch (e) {
      fail(e);
    }
  });
})();`;
