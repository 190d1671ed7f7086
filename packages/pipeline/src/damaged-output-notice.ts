import * as fs from 'node:fs';
import * as path from 'node:path';
import { listFiles, type ArtifactStore, type CorruptObject } from './artifact-store';

/**
 * One line for the user when a cached result cannot be used as it is: which files of which
 * stage were damaged, and what happens now. The runner heals the store either way; this is so
 * the user knows it did, and why a stage they thought cached runs again.
 */

/** The files of a stored output whose objects are corrupt or missing (`a.txt`), by the manifest. */
function damagedNames(store: ArtifactStore, manifestHash: string, bad: CorruptObject[]): string[] {
  if (bad.some((b) => b.hash === manifestHash)) return [`its file list (manifest ${manifestHash.slice(0, 12)})`];
  const names = new Map<string, string[]>();
  try {
    for (const [rel, { hash }] of Object.entries(store.readManifest(manifestHash).files)) names.set(hash, [...(names.get(hash) ?? []), rel]);
  } catch {
    // an unreadable manifest is reported by hash below
  }
  return bad.map((b) => names.get(b.hash)?.join(', ') ?? `object ${b.hash.slice(0, 12)}`);
}

/** `⚠ a: its stored output is damaged: a.txt (content does not match its hash); stage a runs again (...)` */
export function damagedOutputNotice(store: ArtifactStore, stage: string, manifestHash: string, bad: CorruptObject[]): string {
  const names = damagedNames(store, manifestHash, bad);
  const problems = [...new Set(bad.map((b) => b.problem))].join('; ');
  return `⚠ ${stage}: its stored output is damaged: ${names.join(', ')} (${problems}); stage ${stage} runs again (the damaged copy is moved to ${path.join(store.root, 'corrupt')})`;
}

/**
 * Files of `out/<stage>` changed by hand although the stored objects are intact: a file replaced
 * (an editor's save writes a new file), added or removed. Empty when `out/<stage>` shows another
 * output or none (nothing of the user's to lose).
 */
export function editedOutFiles(store: ArtifactStore, stage: string, manifestHash: string): string[] {
  if (store.exposed(stage) !== manifestHash) return [];
  const dir = path.join(store.viewsDir, manifestHash);
  if (!fs.existsSync(dir)) return [];
  const files = store.readManifest(manifestHash).files;
  const edited: string[] = [];
  for (const [rel, { hash }] of Object.entries(files)) {
    try {
      const shown = fs.statSync(path.join(dir, rel));
      const stored = fs.statSync(store.objectPath(hash));
      if (shown.ino !== stored.ino || shown.dev !== stored.dev) edited.push(rel);
    } catch {
      edited.push(rel);
    }
  }
  for (const rel of listFiles(dir)) if (!(rel in files)) edited.push(rel);
  return edited.sort();
}

/** `⚠ a: out/a/a.txt was changed outside cbnn; ...` */
export function editedOutNotice(stage: string, files: string[]): string {
  const shown = files.map((f) => `out/${stage}/${f}`).join(', ');
  return `⚠ ${stage}: ${shown} ${files.length === 1 ? 'was' : 'were'} changed outside cbnn; the stored result is intact, so out/${stage} is put back from the store and the stage does not run again (copy a file elsewhere before editing it)`;
}
