/**
 * Topological order of a dependency graph (`deps.get(n)` = what n needs). Stable: among ready
 * nodes the declaration order wins, so runs and listings are reproducible. Returns the cycle
 * (first node repeated at the end: a -> b -> a) when there is one.
 */
export function topologicalOrder(
  nodes: readonly string[],
  deps: ReadonlyMap<string, readonly string[]>,
): { order: string[]; cycle?: undefined } | { order?: undefined; cycle: string[] } {
  const state = new Map<string, 'visiting' | 'done'>();
  const order: string[] = [];
  const stack: string[] = [];
  const visit = (n: string): string[] | undefined => {
    const s = state.get(n);
    if (s === 'done') return undefined;
    if (s === 'visiting') return [...stack.slice(stack.indexOf(n)), n];
    state.set(n, 'visiting');
    stack.push(n);
    for (const d of deps.get(n) ?? []) {
      const cycle = visit(d);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(n, 'done');
    order.push(n);
    return undefined;
  };
  for (const n of nodes) {
    const cycle = visit(n);
    if (cycle) return { cycle };
  }
  return { order };
}

/** Every node reachable downstream of `start` (not including it) given `deps` (upstream edges). */
export function downstreamOf(start: string, nodes: readonly string[], deps: ReadonlyMap<string, readonly string[]>): Set<string> {
  const out = new Set<string>();
  let grew = true;
  while (grew) {
    grew = false;
    for (const n of nodes) {
      if (out.has(n) || n === start) continue;
      if ((deps.get(n) ?? []).some((d) => d === start || out.has(d))) {
        out.add(n);
        grew = true;
      }
    }
  }
  return out;
}

/** Every node upstream of `start` (not including it). */
export function upstreamOf(start: string, deps: ReadonlyMap<string, readonly string[]>): Set<string> {
  const out = new Set<string>();
  const todo = [...(deps.get(start) ?? [])];
  while (todo.length) {
    const n = todo.pop()!;
    if (out.has(n)) continue;
    out.add(n);
    todo.push(...(deps.get(n) ?? []));
  }
  return out;
}
