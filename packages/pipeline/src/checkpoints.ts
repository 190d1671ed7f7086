import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ArtifactStore } from './artifact-store';

/**
 * Per-key checkpoint folders (`ctx.checkpointDir`): `<store>/checkpoints/<key>/`. Outside
 * `tmp/`, which a run clears at its start, so that a stage killed mid-way resumes in the next
 * run of the same key, on this machine or on a queue worker sharing the store.
 */
export function checkpointDirOf(storeRoot: string, key: string): string {
  return path.join(storeRoot, 'checkpoints', key);
}

/** A committed stage needs its checkpoint no more. */
export function removeCheckpoint(storeRoot: string, key: string): void {
  fs.rmSync(checkpointDirOf(storeRoot, key), { recursive: true, force: true });
}

/** Checkpoints untouched for this long belong to abandoned runs (gc removes them). */
export const ABANDONED_CHECKPOINT_MS = 7 * 24 * 3600 * 1000;

/**
 * gc's part (under the store's run lock, so no stage is writing): remove the checkpoints of
 * finished stages (the key has a run record) and of abandoned ones (untouched for
 * `maxAgeMs`). Returns the folders removed (or that would be, with `dryRun`).
 */
export function collectCheckpoints(store: ArtifactStore, options: { dryRun?: boolean; maxAgeMs?: number; now?: number } = {}): number {
  const root = path.join(store.root, 'checkpoints');
  let names: string[];
  try {
    names = fs.readdirSync(root);
  } catch {
    return 0;
  }
  const oldest = (options.now ?? Date.now()) - (options.maxAgeMs ?? ABANDONED_CHECKPOINT_MS);
  let removed = 0;
  for (const key of names) {
    const dir = path.join(root, key);
    const finished = store.getRun(key) !== undefined;
    if (!finished && newestMtime(dir) >= oldest) continue;
    removed++;
    if (!options.dryRun) fs.rmSync(dir, { recursive: true, force: true });
  }
  return removed;
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const name of [dir, ...fs.readdirSync(dir).map((n) => path.join(dir, n))]) newest = Math.max(newest, fs.statSync(name).mtimeMs);
  return newest;
}
