import type { ResolvedPipeline } from './pipeline-loader';

/** Plain text: one line per instance, indented by depth, with what it needs. */
export function renderDagAscii(p: ResolvedPipeline): string {
  const depth = new Map<string, number>();
  const lines: string[] = [];
  for (const inst of p.instances) {
    const d = inst.upstream.length ? 1 + Math.max(...inst.upstream.map((u) => depth.get(u) ?? 0)) : 0;
    depth.set(inst.id, d);
    const what = inst.kind === 'handler' ? inst.handler!.name : `cmd: ${truncate(inst.cmd ?? '', 40)}`;
    const needs = Object.entries(inst.needs)
      .map(([k, n]) => `${k}=${n.ref}`)
      .join(', ');
    lines.push(`${'  '.repeat(d)}${d ? '└─ ' : ''}${inst.id} [${what}]${needs ? `  <- ${needs}` : ''}`);
  }
  return lines.join('\n');
}

export function renderDagMermaid(p: ResolvedPipeline): string {
  const id = (s: string) => s.replace(/[^A-Za-z0-9_]/g, '_');
  const lines = ['graph TD'];
  for (const inst of p.instances) lines.push(`  ${id(inst.id)}["${inst.id}"]`);
  for (const inst of p.instances) {
    for (const [name, need] of Object.entries(inst.needs)) for (const u of need.instances) lines.push(`  ${id(u)} -->|${name}| ${id(inst.id)}`);
  }
  return lines.join('\n');
}

export function renderDagDot(p: ResolvedPipeline): string {
  const lines = [`digraph "${p.name}" {`, '  rankdir=TB;'];
  for (const inst of p.instances) lines.push(`  "${inst.id}";`);
  for (const inst of p.instances) {
    for (const [name, need] of Object.entries(inst.needs)) for (const u of need.instances) lines.push(`  "${u}" -> "${inst.id}" [label="${name}"];`);
  }
  lines.push('}');
  return lines.join('\n');
}

export function dagJson(p: ResolvedPipeline): unknown {
  return {
    name: p.name,
    stages: p.instances.map((i) => ({
      id: i.id,
      stage: i.stage,
      kind: i.kind,
      handler: i.handler?.name,
      cmd: i.cmd,
      needs: Object.fromEntries(Object.entries(i.needs).map(([k, n]) => [k, n.instances])),
    })),
  };
}

function truncate(s: string, n: number): string {
  return s.length > n ? s.slice(0, n - 1) + '…' : s;
}
