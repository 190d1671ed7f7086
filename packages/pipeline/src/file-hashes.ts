import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { sha256FileSync, writeFileAtomicSync } from '@cbnn/core';
import { canonicalJson, sha256OfText } from './canonical-json';

/**
 * Content hashes of files outside the store (a handler's built code, a `cmd:` stage's deps),
 * remembered by path, size and mtime so that a fully cached run re-hashes nothing. The cache is
 * a JSON file in the store's `state/`; a file whose size or mtime changed is hashed again. Within
 * one process every folder is hashed at most once (a run hashes the code once).
 */
export class FileHashes {
  private entries?: Map<string, { size: number; mtimeMs: number; hash: string }>;
  private dirty = false;
  private readonly folders = new Map<string, string>();

  /** `cacheFile`: where the path -> hash memory lives between runs (none: in memory only). */
  constructor(private readonly cacheFile?: string) {}

  file(abs: string): string {
    const st = fs.statSync(abs);
    const known = this.load().get(abs);
    if (known && known.size === st.size && known.mtimeMs === st.mtimeMs) return known.hash;
    const hash = sha256FileSync(abs);
    this.load().set(abs, { size: st.size, mtimeMs: st.mtimeMs, hash });
    this.dirty = true;
    return hash;
  }

  /**
   * A folder's hash: the canonical JSON of its listing (relative path -> content hash). `skip`
   * leaves out files that do not change what runs (type declarations, source maps).
   */
  folder(abs: string, skip?: (rel: string) => boolean): string {
    const memoKey = `${skip ? 'code' : 'all'}:${abs}`;
    const memo = this.folders.get(memoKey);
    if (memo) return memo;
    const listing: Record<string, string> = {};
    const walk = (rel: string): void => {
      for (const e of fs.readdirSync(path.join(abs, rel), { withFileTypes: true })) {
        const r = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) walk(r);
        else if (!skip?.(r)) listing[r] = this.file(path.join(abs, r));
      }
    };
    walk('');
    const hash = sha256OfText(canonicalJson(listing));
    this.folders.set(memoKey, hash);
    return hash;
  }

  /** A file's or a folder's hash, as `cmd:` deps have always been hashed. */
  any(abs: string, skip?: (rel: string) => boolean): string {
    return fs.statSync(abs).isDirectory() ? this.folder(abs, skip) : this.file(abs);
  }

  save(): void {
    if (!this.dirty || !this.cacheFile || !this.entries) return;
    // Only paths that still exist: the memory must not grow with every deleted temp folder.
    const kept = [...this.entries].filter(([p]) => fs.existsSync(p));
    try {
      writeFileAtomicSync(this.cacheFile, JSON.stringify(Object.fromEntries(kept)));
      this.dirty = false;
    } catch {
      // A read-only store (status on someone else's store): the hashes are simply recomputed.
    }
  }

  private load(): Map<string, { size: number; mtimeMs: number; hash: string }> {
    if (this.entries) return this.entries;
    this.entries = new Map();
    if (!this.cacheFile) return this.entries;
    try {
      const raw = fileHashCacheSchema.parse(JSON.parse(fs.readFileSync(this.cacheFile, 'utf8')));
      this.entries = new Map(Object.entries(raw));
    } catch {
      // absent or damaged: start empty (it is only a memory of hashes)
    }
    return this.entries;
  }
}

const fileHashCacheSchema = z.record(z.string(), z.object({ size: z.number(), mtimeMs: z.number(), hash: z.string() }));

/** Built files that do not change what a handler executes. */
export function isNotCode(rel: string): boolean {
  return rel.endsWith('.d.ts') || rel.endsWith('.map') || rel.endsWith('.tsbuildinfo');
}

/**
 * The code a workspace package executes: its built output (`dist/`, and `build/` where a package
 * builds WebAssembly) and that of every workspace package it depends on (`workspace:` entries of
 * `dependencies`, transitively), labelled by package name. Third-party packages are pinned by
 * the lockfile and not fingerprinted.
 */
export function workspacePackageCode(packageDir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const seen = new Set<string>();
  const visit = (dir: string): void => {
    const real = fs.realpathSync(dir);
    if (seen.has(real)) return;
    seen.add(real);
    const manifest = JSON.parse(fs.readFileSync(path.join(real, 'package.json'), 'utf8')) as { name: string; dependencies?: Record<string, string> };
    for (const sub of ['dist', 'build']) {
      const p = path.join(real, sub);
      if (fs.existsSync(p)) out[`${manifest.name}/${sub}`] = p;
    }
    for (const [dep, spec] of Object.entries(manifest.dependencies ?? {})) {
      if (spec.startsWith('workspace:')) visit(findPackageDir(dep, real));
    }
  };
  visit(packageDir);
  return out;
}

/** The folder of package `name` as Node would find it from `fromDir` (no `exports` map involved). */
export function findPackageDir(name: string, fromDir: string): string {
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (fs.existsSync(path.join(candidate, 'package.json'))) return fs.realpathSync(candidate);
    if (path.dirname(dir) === dir) throw new Error(`cannot find package ${name} from ${fromDir}`);
  }
}
