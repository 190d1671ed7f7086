import { escapeHtml } from './html-escape';
import type { PipelineDag } from './result-schemas';

const BOX_W = 140;
const BOX_H = 42;
const GAP_X = 36;
const GAP_Y = 18;
const PAD = 12;

/**
 * The pipeline DAG as inline SVG: stages in columns by their longest distance from a source,
 * edges as curves with arrows. A text DAG (mermaid, ASCII) is shown preformatted as given.
 */
export function renderDag(dag: PipelineDag): string {
  if (typeof dag === 'string') return `<pre class="dag-text">${escapeHtml(dag)}</pre>`;
  const names = dag.stages.map((s) => s.name);
  // Edges may name stages the list left out: draw those too rather than lose an edge.
  for (const e of dag.edges) for (const n of [e.from, e.to]) if (!names.includes(n)) names.push(n);
  const stageOf = new Map(dag.stages.map((s) => [s.name, s]));
  const depth = new Map(names.map((n) => [n, 0]));
  // Longest-path layering; at most |V| rounds, so a cycle cannot loop forever.
  for (let round = 0; round < names.length; round++) {
    let changed = false;
    for (const e of dag.edges) {
      const next = (depth.get(e.from) ?? 0) + 1;
      if (next > (depth.get(e.to) ?? 0) && next < names.length) {
        depth.set(e.to, next);
        changed = true;
      }
    }
    if (!changed) break;
  }
  const columns: string[][] = [];
  for (const n of names) (columns[depth.get(n)!] ??= []).push(n);
  const position = new Map<string, { x: number; y: number }>();
  columns.forEach((column, c) => (column ?? []).forEach((n, r) => position.set(n, { x: PAD + c * (BOX_W + GAP_X), y: PAD + r * (BOX_H + GAP_Y) })));
  const width = PAD * 2 + columns.length * BOX_W + Math.max(0, columns.length - 1) * GAP_X;
  const height = PAD * 2 + Math.max(1, ...columns.map((c) => c?.length ?? 0)) * (BOX_H + GAP_Y) - GAP_Y;

  const edges = dag.edges.map((e) => {
    const a = position.get(e.from)!;
    const b = position.get(e.to)!;
    const x1 = a.x + BOX_W;
    const y1 = a.y + BOX_H / 2;
    const x2 = b.x - 2;
    const y2 = b.y + BOX_H / 2;
    const mid = (x1 + x2) / 2;
    const title = `${e.from} → ${e.to}${e.input ? ` (${e.input})` : ''}`;
    return `<path class="dag-edge" d="M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}" marker-end="url(#dag-arrow)"><title>${escapeHtml(title)}</title></path>`;
  });
  const boxes = names.map((n) => {
    const { x, y } = position.get(n)!;
    const stage = stageOf.get(n);
    const sub = [stage?.handler, stage?.status].filter(Boolean).join(' · ');
    return (
      `<g class="dag-stage"><rect x="${x}" y="${y}" width="${BOX_W}" height="${BOX_H}" rx="6"/>` +
      `<text x="${x + BOX_W / 2}" y="${y + (sub ? 17 : 26)}" class="dag-name">${escapeHtml(truncate(n, 20))}</text>` +
      (sub ? `<text x="${x + BOX_W / 2}" y="${y + 33}" class="dag-sub">${escapeHtml(truncate(sub, 26))}</text>` : '') +
      `<title>${escapeHtml([n, sub].filter(Boolean).join('\n'))}</title></g>`
    );
  });
  return (
    `<svg class="dag" role="img" aria-label="pipeline DAG" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" xmlns="http://www.w3.org/2000/svg">` +
    `<defs><marker id="dag-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#666"/></marker></defs>` +
    edges.join('') +
    boxes.join('') +
    `</svg>`
  );
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
