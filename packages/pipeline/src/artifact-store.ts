import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { CorruptArtifactError, sha256FileSync, sha256Hex, fsyncDir, writeFileAtomicSync } from '@cbnn/core';
import { canonicalJson } from './canonical-json';

/**
 * The content-addressed store:
 *
 *   <root>/objects/ab/cdef...   read-only (0444) objects named by the SHA-256 of their bytes
 *   <root>/runs/ab/<key>.json   run cache: stage key -> output manifest hash, log object hash
 *   <root>/views/<manifest>/    a folder materialised from a manifest: hard links to objects
 *   <root>/out/<instance>       symlink to its current view (swapped atomically)
 *   <root>/tmp/<run>/           per-run scratch (stage outDirs, tmpDirs), never read as results
 *   <root>/state/               bookkeeping (verified fingerprints, registered lock files)
 *
 * A folder output is a manifest object (canonical JSON: relative path -> object hash and size);
 * the manifest's hash is the output's hash. Every write is temp + fsync + rename, so a crash
 * leaves at most unreferenced objects (gc removes them), never a half object under its name.
 */
export const MANIFEST_FORMAT = 'cbnn.manifest/1';
const HASH = /^[0-9a-f]{64}$/;

export const folderManifestSchema = z.strictObject({
  format: z.literal(MANIFEST_FORMAT),
  files: z.record(z.string(), z.strictObject({ hash: z.string().regex(HASH), size: z.number().int().min(0) })),
});
export type FolderManifest = z.infer<typeof folderManifestSchema>;

export const runRecordSchema = z.object({
  key: z.string().regex(HASH),
  stage: z.string(),
  output: z.string().regex(HASH),
  log: z.string().regex(HASH).optional(),
  metrics: z.record(z.string(), z.unknown()).optional(),
  durationMs: z.number().min(0),
  createdAt: z.string(),
});
export type RunRecord = z.infer<typeof runRecordSchema>;

export interface CorruptObject {
  hash: string;
  path: string;
  problem: string;
}

export class ArtifactStore {
  readonly root: string;
  private fingerprints?: Map<string, string>;
  private fingerprintsDirty = false;

  /** Where this process writes temp files before renaming them in (same filesystem as objects). */
  private readonly scratchDir?: string;

  /**
   * `scratchDir`: a queue worker sharing the store with a runner keeps its temp files out of
   * `tmp/`, which a starting runner empties.
   */
  constructor(root: string, options: { scratchDir?: string } = {}) {
    this.root = path.resolve(root);
    this.scratchDir = options.scratchDir;
  }

  private get scratch(): string {
    return this.scratchDir ?? this.tmpRoot;
  }

  get objectsDir(): string { return path.join(this.root, 'objects'); }
  get tmpRoot(): string { return path.join(this.root, 'tmp'); }
  get outDir(): string { return path.join(this.root, 'out'); }
  get viewsDir(): string { return path.join(this.root, 'views'); }

  objectPath(hash: string): string {
    return path.join(this.objectsDir, hash.slice(0, 2), hash.slice(2));
  }

  hasObject(hash: string): boolean {
    return fs.existsSync(this.objectPath(hash));
  }

  /** Move (same filesystem) a finished file into the store; returns its hash. */
  putFileByMove(file: string): { hash: string; size: number } {
    const hash = sha256FileSync(file);
    const size = fs.statSync(file).size;
    const dest = this.objectPath(hash);
    if (fs.existsSync(dest) && this.objectIntact(hash)) {
      fs.rmSync(file, { force: true });
      return { hash, size };
    }
    const fd = fs.openSync(file, 'r');
    try { fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
    fs.chmodSync(file, 0o444);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.renameSync(file, dest);
    fsyncDir(path.dirname(dest));
    this.remember(hash);
    return { hash, size };
  }

  putBytes(data: Uint8Array | string): string {
    const hash = sha256Hex(data);
    const dest = this.objectPath(hash);
    if (fs.existsSync(dest) && this.objectIntact(hash)) return hash;
    fs.mkdirSync(this.scratch, { recursive: true });
    const tmp = path.join(this.scratch, `.obj-${process.pid}-${randomBytes(6).toString('hex')}`);
    writeFileAtomicSync(tmp, data);
    fs.chmodSync(tmp, 0o444);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.renameSync(tmp, dest);
    fsyncDir(path.dirname(dest));
    this.remember(hash);
    return hash;
  }

  readObject(hash: string): Buffer {
    return fs.readFileSync(this.objectPath(hash));
  }

  /** Commit a finished folder: every file becomes an object; returns the manifest hash. */
  commitFolder(dir: string): string {
    const files: FolderManifest['files'] = {};
    for (const rel of listFiles(dir)) files[rel] = this.putFileByMove(path.join(dir, rel));
    return this.putManifest({ format: MANIFEST_FORMAT, files });
  }

  putManifest(manifest: FolderManifest): string {
    return this.putBytes(canonicalJson(manifest));
  }

  readManifest(hash: string): FolderManifest {
    const file = this.objectPath(hash);
    let raw: unknown;
    try {
      raw = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (e) {
      throw new CorruptArtifactError(`cannot read folder manifest: ${(e as Error).message}`, file);
    }
    const parsed = folderManifestSchema.safeParse(raw);
    if (!parsed.success) throw new CorruptArtifactError(`not a folder manifest: ${parsed.error.issues[0]?.message}`, file);
    return parsed.data;
  }

  /** Re-hash an object (skipped when its file is unchanged since it was last verified). */
  objectIntact(hash: string, force = false): boolean {
    const file = this.objectPath(hash);
    let st: fs.Stats;
    try {
      st = fs.statSync(file);
    } catch {
      return false;
    }
    const fp = fingerprint(st);
    const known = this.loadFingerprints();
    if (!force && known.get(hash) === fp) return true;
    const ok = sha256FileSync(file) === hash;
    if (ok) {
      known.set(hash, fp);
      this.fingerprintsDirty = true;
    }
    return ok;
  }

  /** Problems of a stored output (its manifest and every object it lists); empty when intact. */
  checkOutput(manifestHash: string): CorruptObject[] {
    const bad: CorruptObject[] = [];
    if (!this.objectIntact(manifestHash)) {
      return [{ hash: manifestHash, path: this.objectPath(manifestHash), problem: this.hasObject(manifestHash) ? 'content does not match its hash' : 'missing' }];
    }
    let manifest: FolderManifest;
    try {
      manifest = this.readManifest(manifestHash);
    } catch (e) {
      return [{ hash: manifestHash, path: this.objectPath(manifestHash), problem: (e as Error).message }];
    }
    for (const { hash } of Object.values(manifest.files)) {
      if (!this.objectIntact(hash)) {
        bad.push({ hash, path: this.objectPath(hash), problem: this.hasObject(hash) ? 'content does not match its hash' : 'missing' });
      }
    }
    return bad;
  }

  /** Move a corrupt object aside so that nothing can use it and a re-run can store it again. */
  quarantine(hash: string): void {
    const src = this.objectPath(hash);
    if (!fs.existsSync(src)) return;
    const dir = path.join(this.root, 'corrupt');
    fs.mkdirSync(dir, { recursive: true });
    fs.renameSync(src, path.join(dir, `${hash}.${Date.now()}`));
    this.loadFingerprints().delete(hash);
    this.fingerprintsDirty = true;
  }

  /**
   * The read-only folder of an output (hard links to its objects), built once per manifest.
   * An existing view is rebuilt when one of its files is no longer the store's object.
   */
  view(manifestHash: string): string {
    const dir = path.join(this.viewsDir, manifestHash);
    const manifest = this.readManifest(manifestHash);
    if (fs.existsSync(dir) && this.viewMatches(dir, manifest)) return dir;
    fs.mkdirSync(this.scratch, { recursive: true });
    const tmp = path.join(this.scratch, `.view-${process.pid}-${randomBytes(6).toString('hex')}`);
    fs.mkdirSync(tmp, { recursive: true });
    for (const [rel, { hash }] of Object.entries(manifest.files)) {
      const dest = path.join(tmp, rel);
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      // Linking changes the object's ctime; keep a verified object verified.
      const wasVerified = this.isKnownIntact(hash);
      try {
        fs.linkSync(this.objectPath(hash), dest);
        if (wasVerified) this.remember(hash);
      } catch {
        fs.copyFileSync(this.objectPath(hash), dest);
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
        const b = fs.statSync(this.objectPath(hash));
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

  getRun(key: string): RunRecord | undefined {
    const file = this.runPath(key);
    let raw: unknown;
    try {
      raw = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch {
      return undefined;
    }
    const parsed = runRecordSchema.safeParse(raw);
    return parsed.success && parsed.data.key === key ? parsed.data : undefined;
  }

  putRun(record: RunRecord): void {
    writeFileAtomicSync(this.runPath(record.key), JSON.stringify(record, null, 2) + '\n');
  }

  deleteRun(key: string): void {
    fs.rmSync(this.runPath(key), { force: true });
  }

  listRuns(): RunRecord[] {
    const dir = path.join(this.root, 'runs');
    const out: RunRecord[] = [];
    for (const sub of safeReaddir(dir)) {
      for (const f of safeReaddir(path.join(dir, sub))) {
        if (!f.endsWith('.json')) continue;
        const rec = this.getRun(f.slice(0, -5));
        if (rec) out.push(rec);
      }
    }
    return out;
  }

  private runPath(key: string): string {
    return path.join(this.root, 'runs', key.slice(0, 2), `${key}.json`);
  }

  listObjects(): string[] {
    const out: string[] = [];
    for (const sub of safeReaddir(this.objectsDir)) {
      for (const f of safeReaddir(path.join(this.objectsDir, sub))) {
        if (HASH.test(sub + f)) out.push(sub + f);
      }
    }
    return out;
  }

  /** Re-hash every object (no shortcut); returns the corrupt ones. */
  verifyAll(onProgress?: (done: number, total: number) => void): { checked: number; corrupt: CorruptObject[] } {
    const hashes = this.listObjects();
    const corrupt: CorruptObject[] = [];
    hashes.forEach((hash, i) => {
      if (!this.objectIntact(hash, true)) corrupt.push({ hash, path: this.objectPath(hash), problem: 'content does not match its hash' });
      onProgress?.(i + 1, hashes.length);
    });
    // Outputs the run cache points at must be whole too.
    for (const run of this.listRuns()) {
      if (!this.hasObject(run.output)) {
        corrupt.push({ hash: run.output, path: this.objectPath(run.output), problem: `missing (output of stage '${run.stage}', key ${run.key.slice(0, 12)})` });
        continue;
      }
      try {
        for (const { hash } of Object.values(this.readManifest(run.output).files)) {
          if (!this.hasObject(hash)) corrupt.push({ hash, path: this.objectPath(hash), problem: `missing (listed by output of stage '${run.stage}')` });
        }
      } catch {
        // already reported as a corrupt object
      }
    }
    this.saveState();
    return { checked: hashes.length, corrupt };
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

  deleteObject(hash: string): number {
    const file = this.objectPath(hash);
    try {
      const size = fs.statSync(file).size;
      fs.rmSync(file, { force: true });
      this.loadFingerprints().delete(hash);
      this.fingerprintsDirty = true;
      return size;
    } catch {
      return 0;
    }
  }

  removeView(manifestHash: string): void {
    const dir = path.join(this.viewsDir, manifestHash);
    if (fs.existsSync(dir)) removeTree(dir);
  }

  listViews(): string[] {
    return safeReaddir(this.viewsDir).filter((n) => HASH.test(n));
  }

  saveState(): void {
    if (!this.fingerprintsDirty || !this.fingerprints) return;
    writeFileAtomicSync(path.join(this.root, 'state', 'verified.json'), JSON.stringify(Object.fromEntries(this.fingerprints)));
    this.fingerprintsDirty = false;
  }

  private isKnownIntact(hash: string): boolean {
    try {
      return this.loadFingerprints().get(hash) === fingerprint(fs.statSync(this.objectPath(hash)));
    } catch {
      return false;
    }
  }

  private remember(hash: string): void {
    try {
      this.loadFingerprints().set(hash, fingerprint(fs.statSync(this.objectPath(hash))));
      this.fingerprintsDirty = true;
    } catch {
      // not there: nothing to remember
    }
  }

  private loadFingerprints(): Map<string, string> {
    if (this.fingerprints) return this.fingerprints;
    try {
      const raw = z.record(z.string(), z.string()).parse(JSON.parse(fs.readFileSync(path.join(this.root, 'state', 'verified.json'), 'utf8')));
      this.fingerprints = new Map(Object.entries(raw));
    } catch {
      this.fingerprints = new Map();
    }
    return this.fingerprints;
  }
}

/** What changes whenever the file's bytes change (ctime cannot be set back by users). */
function fingerprint(st: fs.Stats): string {
  return `${st.size}:${st.mtimeMs}:${st.ctimeMs}:${st.ino}`;
}

/** Relative paths (with '/') of every file under dir, sorted. Symlinks are followed. */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${entry.name}` : entry.name;
      const full = path.join(dir, r);
      const isDir = entry.isDirectory() || (entry.isSymbolicLink() && fs.statSync(full).isDirectory());
      if (isDir) walk(r);
      else out.push(r);
    }
  };
  walk('');
  return out.sort();
}

function safeReaddir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

function makeReadOnlyDirs(dir: string): void {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) makeReadOnlyDirs(path.join(dir, entry.name));
  }
  fs.chmodSync(dir, 0o555);
}

/** rm -rf that first makes read-only folders writable again. */
export function removeTree(dir: string): void {
  const unlock = (d: string): void => {
    try {
      fs.chmodSync(d, 0o755);
      for (const entry of fs.readdirSync(d, { withFileTypes: true })) if (entry.isDirectory()) unlock(path.join(d, entry.name));
    } catch {
      // gone already
    }
  };
  unlock(dir);
  fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
}
