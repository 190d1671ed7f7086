import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ArtifactStore } from './artifact-store';
import { collectCheckpoints } from './checkpoints';
import { readLockFileFor } from './lock-file';
import { WorkspaceLock } from './workspace-lock';
import { readRunRecords, recordedObjects, removeRunRecord } from './run-records/run-record-store';

export interface GcResult {
  lockFiles: string[];
  keptObjects: number;
  removedObjects: number;
  removedRuns: number;
  removedViews: number;
  /** Checkpoint folders of finished or abandoned stages (checkpoints.ts). */
  removedCheckpoints: number;
  freedBytes: number;
  /** Run records whose outputs were kept (default), or that stay whole after `dropRecords`. */
  keptRecords: number;
  /** With `dropRecords`: records removed because they referenced what went. */
  removedRecords: number;
  dryRun: boolean;
}

/**
 * Drop everything no lock file references: objects, run-cache entries, views and `out/` links.
 * The lock files are the ones runs registered with this store (plus `extraLockFiles`); a lock
 * file that no longer exists keeps nothing. Run records keep what they reference too (so
 * `cbnn report --run` works for any recorded run), unless `dropRecords`: then only lock files
 * count, and the records that referenced anything removed are removed with it. Takes the store's
 * run lock.
 */
export async function garbageCollect(
  store: ArtifactStore,
  options: { dryRun?: boolean; extraLockFiles?: string[]; wait?: boolean; dropRecords?: boolean } = {},
): Promise<GcResult> {
  const lock = await WorkspaceLock.acquire(store.root, { wait: options.wait ?? false });
  try {
    const lockFiles = [...new Set([...store.lockFiles(), ...(options.extraLockFiles ?? [])])].filter((f) => fs.existsSync(f));
    const keepOutputs = new Set<string>();
    const keep = new Set<string>();
    const counted: string[] = [];
    for (const file of lockFiles) {
      // A lock file last written for another store references that store's objects, not these.
      const lf = readLockFileFor(file, store.root);
      if (lf) counted.push(file);
      for (const e of Object.values(lf?.stages ?? {})) {
        keepOutputs.add(e.output);
        keep.add(e.output);
        if (e.log) keep.add(e.log);
      }
    }
    const { runs } = readRunRecords(store.root);
    if (!options.dropRecords) {
      const recorded = recordedObjects(runs);
      for (const o of recorded.outputs) {
        keepOutputs.add(o);
        keep.add(o);
      }
      for (const l of recorded.logs) keep.add(l);
    }
    const doomedRecords = options.dropRecords
      ? runs.filter((r) => r.stages.some((s) => (s.output && !keepOutputs.has(s.output)) || (s.log && !keep.has(s.log))))
      : [];
    if (!options.dryRun) for (const r of doomedRecords) removeRunRecord(store.root, r.id);
    for (const out of keepOutputs) {
      try {
        for (const { hash } of Object.values(store.readManifest(out).files)) keep.add(hash);
      } catch {
        // a missing/corrupt manifest keeps nothing more; verify reports it
      }
    }
    // Combined inputs (`stage[*]`) are manifests too: keep those whose files are all kept.
    let removedObjects = 0;
    let freedBytes = 0;
    for (const hash of store.listObjects()) {
      if (keep.has(hash)) continue;
      removedObjects++;
      if (options.dryRun) freedBytes += fs.statSync(store.objectPath(hash)).size;
      else freedBytes += store.deleteObject(hash);
    }
    let removedRuns = 0;
    for (const run of store.listRuns()) {
      if (keepOutputs.has(run.output)) continue;
      removedRuns++;
      if (!options.dryRun) store.deleteRun(run.key);
    }
    let removedViews = 0;
    for (const v of store.listViews()) {
      if (keepOutputs.has(v)) continue;
      removedViews++;
      if (!options.dryRun) store.removeView(v);
    }
    const removedCheckpoints = collectCheckpoints(store, { dryRun: options.dryRun });
    if (!options.dryRun) {
      for (const name of safeReaddir(store.outDir)) {
        const hash = store.exposed(name);
        if (!hash || !keepOutputs.has(hash)) fs.rmSync(path.join(store.outDir, name), { force: true });
      }
      store.saveState();
    }
    return {
      lockFiles: counted,
      keptObjects: keep.size,
      removedObjects,
      removedRuns,
      removedViews,
      removedCheckpoints,
      freedBytes,
      keptRecords: runs.length - doomedRecords.length,
      removedRecords: doomedRecords.length,
      dryRun: !!options.dryRun,
    };
  } finally {
    lock.release();
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}
