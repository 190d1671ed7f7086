import * as path from 'node:path';
import { ObjectStore, type CorruptObject, type FolderManifest } from './object-store';
import { RunCache, type RunRecord } from './run-cache';
import { StoreViews } from './store-views';

export { MANIFEST_FORMAT, folderManifestSchema, ObjectStore, type CorruptObject, type FolderManifest } from './object-store';
export { RunCache, runRecordSchema, type RunRecord } from './run-cache';
export { StoreViews } from './store-views';
export { listFiles, removeTree } from './store-files';

/**
 * A store folder, in three parts (as DVC keeps its object cache, its run cache and its lock
 * file apart):
 *
 *   objects  content-addressed objects, folder manifests, verify, quarantine  (object-store.ts)
 *   runCache stage key -> output manifest and log                             (run-cache.ts)
 *   views    views/ folders, out/ links, the lock-file registry               (store-views.ts)
 *
 *   <root>/tmp/<run>/   per-run scratch (stage outDirs, tmpDirs), never read as results
 *
 * Queue workers use the object store and the views only; the run cache and `out/` are the
 * runner's. The methods below delegate to the parts, for callers that hold a whole store.
 */
export class ArtifactStore {
  readonly root: string;
  readonly objects: ObjectStore;
  readonly runCache: RunCache;
  readonly views: StoreViews;

  /**
   * `scratchDir`: a queue worker sharing the store with a runner keeps its temp files out of
   * `tmp/`, which a starting runner empties.
   */
  constructor(root: string, options: { scratchDir?: string } = {}) {
    this.root = path.resolve(root);
    this.objects = new ObjectStore(this.root, options.scratchDir ?? this.tmpRoot);
    this.runCache = new RunCache(this.root);
    this.views = new StoreViews(this.objects);
  }

  get objectsDir(): string {
    return this.objects.objectsDir;
  }
  get tmpRoot(): string {
    return path.join(this.root, 'tmp');
  }
  get outDir(): string {
    return this.views.outDir;
  }
  get viewsDir(): string {
    return this.views.viewsDir;
  }

  objectPath(hash: string): string {
    return this.objects.objectPath(hash);
  }
  hasObject(hash: string): boolean {
    return this.objects.hasObject(hash);
  }
  putFileByMove(file: string): { hash: string; size: number } {
    return this.objects.putFileByMove(file);
  }
  putBytes(data: Uint8Array | string): string {
    return this.objects.putBytes(data);
  }
  readObject(hash: string): Buffer {
    return this.objects.readObject(hash);
  }
  commitFolder(dir: string): string {
    return this.objects.commitFolder(dir);
  }
  putManifest(manifest: FolderManifest): string {
    return this.objects.putManifest(manifest);
  }
  readManifest(hash: string): FolderManifest {
    return this.objects.readManifest(hash);
  }
  objectIntact(hash: string, force = false): boolean {
    return this.objects.objectIntact(hash, force);
  }
  checkOutput(manifestHash: string): CorruptObject[] {
    return this.objects.checkOutput(manifestHash);
  }
  quarantine(hash: string): void {
    this.objects.quarantine(hash);
  }
  listObjects(): string[] {
    return this.objects.listObjects();
  }
  deleteObject(hash: string): number {
    return this.objects.deleteObject(hash);
  }
  saveState(): void {
    this.objects.saveState();
  }

  getRun(key: string): RunRecord | undefined {
    return this.runCache.get(key);
  }
  putRun(record: RunRecord): void {
    this.runCache.put(record);
  }
  deleteRun(key: string): void {
    this.runCache.delete(key);
  }
  listRuns(): RunRecord[] {
    return this.runCache.list();
  }

  view(manifestHash: string): string {
    return this.views.view(manifestHash);
  }
  expose(name: string, manifestHash: string): string {
    return this.views.expose(name, manifestHash);
  }
  exposed(name: string): string | undefined {
    return this.views.exposed(name);
  }
  removeView(manifestHash: string): void {
    this.views.removeView(manifestHash);
  }
  listViews(): string[] {
    return this.views.listViews();
  }
  registerLockFile(file: string): void {
    this.views.registerLockFile(file);
  }
  lockFiles(): string[] {
    return this.views.lockFiles();
  }

  /**
   * Re-hash every object (no shortcut), and check that every output the run cache points at is
   * whole: the one check that spans two parts.
   */
  verifyAll(onProgress?: (done: number, total: number) => void): { checked: number; corrupt: CorruptObject[] } {
    const { checked, corrupt } = this.objects.verifyObjects(onProgress);
    for (const run of this.runCache.list()) {
      if (!this.objects.hasObject(run.output)) {
        corrupt.push({
          hash: run.output,
          path: this.objects.objectPath(run.output),
          problem: `missing (output of stage '${run.stage}', key ${run.key.slice(0, 12)})`,
        });
        continue;
      }
      try {
        for (const { hash } of Object.values(this.objects.readManifest(run.output).files)) {
          if (!this.objects.hasObject(hash))
            corrupt.push({ hash, path: this.objects.objectPath(hash), problem: `missing (listed by output of stage '${run.stage}')` });
        }
      } catch {
        // already reported as a corrupt object
      }
    }
    this.objects.saveState();
    return { checked, corrupt };
  }
}
