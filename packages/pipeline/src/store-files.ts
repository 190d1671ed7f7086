import * as fs from 'node:fs';
import * as path from 'node:path';

// File helpers the parts of the store share.

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

export function safeReaddir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

export function makeReadOnlyDirs(dir: string): void {
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
