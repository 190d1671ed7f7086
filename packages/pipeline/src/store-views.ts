import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { writeFileAtomicSync } from '@cbnn/core';
import { HASH, type FolderManifest, type ObjectStore } from './object-store';
import { listFiles, makeReadOnlyDirs, removeTree, safeReaddir } from './store-files';

/**
 * The views of the store: what users and stages read, all derived from objects and rebuilt at will.
 *
 *   <root>/views/<manifest>/    a folder materialised from a manifest: hard links to objects
 *   <root>/out/<instance>       symlink to the view an instance shows now (swapped atomically)
 *   <root>/state/lockfiles.json the lock files written against this store (gc keeps what they name)
 */
export class StoreViews {
  readonly root: string;

  constructor(private readonly objects: ObjectStore) {
    this.root = objects.root;
  }

  get viewsDir(): string {
    return path.join(this.root, 'views');
  }
  get outDir(): string {
    return path.join(this.root, 'out');
  }

  /**
   * The read-only folder of an output (hard links to its objects), built once per manifest.
   * An existing view is rebuilt when one of its files is no longer the store's object.
   */
  view(manifestHash: string): string {
    const dir = path.join(this.viewsDir, manifestHash);
    const manifest = this.objects.readManifest(manifestHash);
    if (fs.existsSync(dir) && this.viewMatches(dir, manifest)) return dir;
    fs.mkdirSync(this.objects.scratchDir, { recursive: true });
    const tmp = path.join(this.objects.scratchDir, `.view-${process.pid}-${randomBytes(6).toString('hex')}`);
    fs.mkdirSync(tmp, { recursive: true });
    for (const [rel, { hash }] of Object.entries(manifest.files)) {
      const dest = path.join(tmp, rel);
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      // Linking changes the object's ctime; keep a verified object verified.
      const wasVerified = this.objects.isKnownIntact(hash);
      try {
        fs.linkSync(this.objects.objectPath(hash), dest);
        if (wasVerified) this.objects.remember(hash);
      } catch {
        fs.copyFileSync(this.objects.objectPath(hash), dest);
        fs.chmodSync(dest, 0o444);
      }
    }
    makeReadOnlyDirs(tmp);
    fs.mkdirSync(this.viewsDir, { recursive: true });
    // Several processes (queue workers on a shared store) may build the same view at once: a
    // correct view someone else renamed in first is used as it is, never removed under its readers.
    if (fs.existsSync(dir)) {
      if (this.viewMatches(dir, manifest)) {
        removeTree(tmp);
        return dir;
      }
      removeTree(dir);
    }
    try {
      fs.renameSync(tmp, dir);
    } catch (e) {
      removeTree(tmp);
      if (fs.existsSync(dir) && this.viewMatches(dir, manifest)) return dir;
      throw e;
    }
    return dir;
  }

  private viewMatches(dir: string, manifest: FolderManifest): boolean {
    const entries = Object.entries(manifest.files);
    for (const [rel, { hash }] of entries) {
      try {
        const a = fs.statSync(path.join(dir, rel));
        const b = fs.statSync(this.objects.objectPath(hash));
        if (a.ino !== b.ino || a.dev !== b.dev) return false;
      } catch {
        return false;
      }
    }
    return listFiles(dir).length === entries.length;
  }

  /** Point `<root>/out/<name>` at an output's view, atomically (symlink swap). */
  expose(name: string, manifestHash: string): string {
    const viewDir = this.view(manifestHash);
    fs.mkdirSync(this.outDir, { recursive: true });
    const link = path.join(this.outDir, name);
    const target = path.relative(this.outDir, viewDir);
    try {
      if (fs.readlinkSync(link) === target) return link;
    } catch {
      // absent or not a link: replaced below
    }
    const tmp = path.join(this.outDir, `.${name}.${process.pid}.${randomBytes(4).toString('hex')}`);
    fs.symlinkSync(target, tmp);
    fs.renameSync(tmp, link);
    return link;
  }

  /** Manifest hash that `<root>/out/<name>` shows, if any. */
  exposed(name: string): string | undefined {
    try {
      const target = fs.readlinkSync(path.join(this.outDir, name));
      const hash = path.basename(target);
      return HASH.test(hash) ? hash : undefined;
    } catch {
      return undefined;
    }
  }

  /** Lock files written against this store (gc keeps what they reference). */
  registerLockFile(file: string): void {
    const list = this.lockFiles();
    if (list.includes(file)) return;
    writeFileAtomicSync(path.join(this.root, 'state', 'lockfiles.json'), JSON.stringify([...list, file], null, 2) + '\n');
  }

  lockFiles(): string[] {
    try {
      const parsed = z.array(z.string()).safeParse(JSON.parse(fs.readFileSync(path.join(this.root, 'state', 'lockfiles.json'), 'utf8')));
      return parsed.success ? parsed.data : [];
    } catch {
      return [];
    }
  }

  removeView(manifestHash: string): void {
    const dir = path.join(this.viewsDir, manifestHash);
    if (fs.existsSync(dir)) removeTree(dir);
  }

  listViews(): string[] {
    return safeReaddir(this.viewsDir).filter((n) => HASH.test(n));
  }
}
