import type { ResolvedPipeline } from './pipeline-loader';
import { topologicalOrder } from './dag';
import { readRunRecords, runsOfPipeline } from './run-records/run-record-store';

/** The cost of a stage no run of this pipeline has executed yet: every stage counts the same. */
export const UNKNOWN_STAGE_SECONDS = 1;

/**
 * Seconds each instance took when it last executed (status `ran`) in a recorded run of this
 * pipeline, newest first. A restore's wall time says nothing about the work, so cache hits are
 * skipped for an older run that executed the stage. Only the records are read: no handler
 * package, nothing heavy.
 */
export function recordedStageSeconds(storeRoot: string, pipeline: Pick<ResolvedPipeline, 'file' | 'name'>): Map<string, number> {
  const runs = runsOfPipeline(readRunRecords(storeRoot).runs, pipeline.file, pipeline.name); // oldest first
  const seconds = new Map<string, number>();
  for (const run of runs) for (const s of run.stages) if (s.status === 'ran') seconds.set(s.id, s.wallSeconds);
  return seconds;
}

/**
 * The work that waits on each instance: its own cost plus the largest such value among the
 * instances that need it (the length of the longest path from it to the end of the DAG). The
 * stage with the highest value is on the critical path: starting it first, and giving it the
 * spare threads, shortens the run the most. Costs default to UNKNOWN_STAGE_SECONDS, which makes
 * the priority the number of stages on the longest chain below.
 */
export function criticalPathPriorities(pipeline: Pick<ResolvedPipeline, 'instances'>, cost: ReadonlyMap<string, number> = new Map()): Map<string, number> {
  const ids = pipeline.instances.map((i) => i.id);
  const deps = new Map(pipeline.instances.map((i) => [i.id, i.upstream]));
  const downstream = new Map<string, string[]>(ids.map((id) => [id, []]));
  for (const inst of pipeline.instances) for (const u of inst.upstream) downstream.get(u)?.push(inst.id);
  const { order } = topologicalOrder(ids, deps);
  const priority = new Map<string, number>();
  // Reverse topological order: everything downstream of a node is known before the node.
  for (const id of [...(order ?? ids)].reverse()) {
    const below = Math.max(0, ...(downstream.get(id) ?? []).map((d) => priority.get(d) ?? 0));
    priority.set(id, (cost.get(id) ?? UNKNOWN_STAGE_SECONDS) + below);
  }
  return priority;
}
