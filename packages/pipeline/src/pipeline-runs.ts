import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { writeFileAtomicSync } from '@cbnn/core';
import { HASH } from './object-store';
import { safeReaddir } from './store-files';

/**
 * What one run of a pipeline produced: for every stage instance it ran or restored, its key and
 * output. `out/` links are repointed stage by stage, and the lock file keeps entries of stages a
 * partial run did not touch, so both can mix two runs; a run list cannot. `cbnn report` reads
 * one (the latest complete run by default). Stored in the store, beside the outputs it names:
 *
 *   <root>/pipeline-runs/<pipeline name>/<run id>.json
 *
 * docs/pipeline-runs.md describes the file for other readers (the experiment records of #17).
 */
export const PIPELINE_RUN_FORMAT = 'cbnn.pipeline-run/1';

export const pipelineRunSchema = z.object({
  format: z.literal(PIPELINE_RUN_FORMAT),
  /** Sortable by time (milliseconds): `20261201T080147.123Z-1a2b3c`. */
  id: z.string(),
  /** The pipeline file, absolute, as the runner saw it. */
  pipeline: z.string(),
  name: z.string(),
  startedAt: z.string(),
  endedAt: z.string(),
  /** Every instance of the pipeline ran or was restored in this run (no --stage, nothing failed). */
  complete: z.boolean(),
  /** The top-level params after --set. */
  params: z.record(z.string(), z.unknown()),
  stages: z.record(
    z.string(),
    z.object({
      handler: z.string().optional(),
      status: z.enum(['ran', 'cached']),
      key: z.string().regex(HASH),
      output: z.string().regex(HASH),
    }),
  ),
});
export type PipelineRun = z.infer<typeof pipelineRunSchema>;

export function newPipelineRunId(now = new Date()): string {
  return `${now.toISOString().replace(/[-:]/g, '')}-${randomBytes(3).toString('hex')}`;
}

function runsDir(storeRoot: string, name: string): string {
  return path.join(storeRoot, 'pipeline-runs', name);
}

export function writePipelineRun(storeRoot: string, run: PipelineRun): string {
  const file = path.join(runsDir(storeRoot, run.name), `${run.id}.json`);
  writeFileAtomicSync(file, JSON.stringify(run, null, 2) + '\n');
  return file;
}

/** The runs of one pipeline file recorded in this store, oldest first (unreadable files skipped). */
export function listPipelineRuns(storeRoot: string, pipelineFile: string, name: string): PipelineRun[] {
  const dir = runsDir(storeRoot, name);
  const out: PipelineRun[] = [];
  for (const f of safeReaddir(dir).filter((n) => n.endsWith('.json')).sort()) {
    try {
      const parsed = pipelineRunSchema.safeParse(JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')));
      if (parsed.success && parsed.data.pipeline === path.resolve(pipelineFile)) out.push(parsed.data);
    } catch {
      // a damaged record is not a run
    }
  }
  return out;
}

export function latestCompleteRun(runs: readonly PipelineRun[]): PipelineRun | undefined {
  return [...runs].reverse().find((r) => r.complete);
}
