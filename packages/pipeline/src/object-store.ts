import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { CorruptArtifactError, sha256FileSync, sha256Hex, fsyncDir, writeFileAtomicSync } from '@cbnn/core';
import { canonicalJson } from './canonical-json';
import { listFiles, safeReaddir } from './store-files';

/**
 * The object store, the part of the store that the runner and every queue worker write:
 *
 *   <root>/objects/ab/cdef...   read-only (0444) objects named by the SHA-256 of their bytes
 *   <root>/corrupt/             quarantined objects (moved aside, never used again)
 *   <root>/state/verified.json  file fingerprints of objects already re-hashed
 *
 * A folder is stored as a manifest object (canonical JSON: relative path -> object hash and
 * size); the manifest's hash is the folder's hash. Every write is temp + fsync + rename, so a
 * crash leaves at most unreferenced objects (gc removes them), never a half object under its
 * name. Writes are content-addressed and idempotent: two writers of the same bytes agree.
 */
export const MANIFEST_FORMAT = 'cbnn.manifest/1';
export const HASH = /^[0-9a-f]{64}$/;

export const folderManifestSchema = z.strictObject({
  format: z.literal(MANIFEST_FORMAT),
  files: z.record(z.string(), z.strictObject({ hash: z.string().regex(HASH), size: z.number().int().min(0) })),
});
export type FolderManifest = z.infer<typeof folderManifestSchema>;

export interface CorruptObject {
  hash: string;
  path: string;
  problem: string;
}

export class ObjectStore {
  readonly root: string;
  private fingerprints?: Map<string, string>;
  private fingerprintsDirty = false;

  /**
   * `scratchDir`: where this process writes temp files before renaming them in (same filesystem
   * as the objects). A queue worker sharing the store keeps its own, out of `tmp/`, which a
   * starting runner empties.
   */
  constructor(
    root: string,
    readonly scratchDir: string = path.join(path.resolve(root), 'tmp'),
  ) {
    this.root = path.resolve(root);
  }

  get objectsDir(): string {
    return path.join(this.root, 'objects');
  }

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
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
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
    fs.mkdirSync(this.scratchDir, { recursive: true });
    const tmp = path.join(this.scratchDir, `.obj-${process.pid}-${randomBytes(6).toString('hex')}`);
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
      return [
        { hash: manifestHash, path: this.objectPath(manifestHash), problem: this.hasObject(manifestHash) ? 'content does not match its hash' : 'missing' },
      ];
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
  verifyObjects(onProgress?: (done: number, total: number) => void): { checked: number; corrupt: CorruptObject[] } {
    const hashes = this.listObjects();
    const corrupt: CorruptObject[] = [];
    hashes.forEach((hash, i) => {
      if (!this.objectIntact(hash, true)) corrupt.push({ hash, path: this.objectPath(hash), problem: 'content does not match its hash' });
      onProgress?.(i + 1, hashes.length);
    });
    return { checked: hashes.length, corrupt };
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

  saveState(): void {
    if (!this.fingerprintsDirty || !this.fingerprints) return;
    writeFileAtomicSync(path.join(this.root, 'state', 'verified.json'), JSON.stringify(Object.fromEntries(this.fingerprints)));
    this.fingerprintsDirty = false;
  }

  /** Verified before and unchanged since (by the file's fingerprint). */
  isKnownIntact(hash: string): boolean {
    try {
      return this.loadFingerprints().get(hash) === fingerprint(fs.statSync(this.objectPath(hash)));
    } catch {
      return false;
    }
  }

  /** Record an object's current file fingerprint as verified. */
  remember(hash: string): void {
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
