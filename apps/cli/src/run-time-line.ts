import type { ArtifactStore, RunSummary } from '@cbnn/pipeline';

/** `0.04 s`, `11.8 s`, `9 min 43 s`, `2 h 5 min`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

/**
 * The last line of a run's summary. A fully cached run took no time to compute anything, so
 * "wall time: 0.0 s" would mislead: it says where the results came from instead (the run
 * records of the restored stages: when they were computed and how long that took).
 */
export function runTimeLine(summary: RunSummary, store: ArtifactStore): string {
  const wall = formatDuration(summary.durationMs);
  if (summary.executed > 0) {
    return `wall time: ${wall} (${summary.executed} stage${summary.executed === 1 ? '' : 's'} ran${summary.cached ? `, ${summary.cached} restored from the cache` : ''})`;
  }
  const records = summary.outcomes.flatMap((o) => (o.status === 'cached' && o.key ? [store.getRun(o.key)] : [])).filter((r) => r !== undefined);
  const restored = `nothing ran: all ${summary.cached} stage${summary.cached === 1 ? ' was' : 's were'} restored from the cache in ${wall}`;
  if (records.length === 0) return restored;
  const stageMs = records.reduce((n, r) => n + r.durationMs, 0);
  const latest = records
    .map((r) => r.createdAt)
    .sort()
    .at(-1)!;
  return `${restored}; these results were computed by earlier runs (the latest on ${latest.slice(0, 16).replace('T', ' ')} UTC) in ${formatDuration(stageMs)} of stage time`;
}
