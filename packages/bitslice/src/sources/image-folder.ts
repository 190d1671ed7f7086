import * as fs from 'node:fs';
import * as path from 'node:path';
import { InvalidInputError, type Logger } from '@cbnn/core';

/**
 * One image file of a class folder, named relative to the dataset folder with '/' separators.
 * Its path is `imageFilePath(dir, entry)`, made when the file is read: a listing of many files
 * keeps one short name per file (an absolute path each cost ~400 bytes per file in V8).
 */
export interface ImageFileEntry {
  /** Relative to the dataset folder, '/'-separated: what files.txt and the manifest record. */
  name: string;
  label: number;
}

export function imageFilePath(dir: string, entry: ImageFileEntry): string {
  return path.join(dir, ...entry.name.split('/'));
}

export interface ImageFolderListing {
  classNames: string[];
  /** 'splits': the folder has train/ and test/, each with class folders. */
  layout: 'classes' | 'splits';
  train: ImageFileEntry[];
  test?: ImageFileEntry[];
  /** Entries ignored (hidden files, files beside the class folders), for the log. */
  ignored: string[];
}

export type ImageFolderLayout = 'auto' | 'classes' | 'splits';

const SPLIT_FOLDERS = ['test', 'train'];

/** Names compared after Unicode NFC and case folding: 'Cat' and 'cat' are one class to a user. */
export function normaliseClassName(name: string): string {
  return name.normalize('NFC').trim().toLowerCase();
}

/** Code-unit order, so a listing sorts the same under every locale. */
const byCodeUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * List a Keras/torchvision-style image folder: one subfolder per class (searched recursively),
 * or with layout 'splits' a train/ and a test/ folder that each hold the class folders. Class
 * indices follow the sorted folder names; files are sorted too, so the listing (and files.txt) is
 * the same on every machine. Refuses an empty class folder, two class folders that are the same
 * name after normalisation, and a test class that training lacks.
 */
export function listImageFolder(dir: string, layout: ImageFolderLayout, logger: Logger): ImageFolderListing {
  const top = subfolders(dir, 'dataset folder');
  const isSplits =
    layout === 'splits' ||
    (layout === 'auto' &&
      top.dirs.length === 2 &&
      top.dirs
        .map((d) => d.toLowerCase())
        .sort()
        .join() === SPLIT_FOLDERS.join());
  const ignored = [...top.files, ...top.hidden];
  if (!isSplits) {
    const classes = classFolders(dir, '', ignored, top.dirs);
    const train = listClasses(
      dir,
      '',
      classes,
      classes.map((_, i) => i),
      ignored,
    );
    report(ignored, logger);
    return { classNames: classes.map((c) => c.name), layout: 'classes', train, ignored };
  }
  const find = (split: string): string => {
    const name = top.dirs.find((d) => d.toLowerCase() === split);
    if (!name) {
      throw new InvalidInputError(`layout 'splits' needs a '${split}' folder with one subfolder per class; found ${describe(top.dirs)}`, { file: dir });
    }
    return name;
  };
  const trainDir = find('train');
  const testDir = find('test');
  const trainClasses = classFolders(path.join(dir, trainDir), trainDir, ignored);
  const testClasses = classFolders(path.join(dir, testDir), testDir, ignored);
  const known = new Map(trainClasses.map((c, i) => [c.key, i]));
  for (const c of testClasses) {
    if (!known.has(c.key)) {
      throw new InvalidInputError(`test class folder '${c.name}' has no training folder (train classes: ${describe(trainClasses.map((t) => t.name))})`, {
        file: path.join(dir, testDir, c.folder),
      });
    }
  }
  const classNames = trainClasses.map((c) => c.name);
  const train = listClasses(
    path.join(dir, trainDir),
    trainDir,
    trainClasses,
    trainClasses.map((_, i) => i),
    ignored,
  );
  const test = listClasses(
    path.join(dir, testDir),
    testDir,
    testClasses,
    testClasses.map((c) => known.get(c.key)!),
    ignored,
  );
  report(ignored, logger);
  return { classNames, layout: 'splits', train, test, ignored };
}

interface ClassFolder {
  folder: string;
  name: string;
  key: string;
}

function classFolders(dir: string, prefix: string, ignored: string[], dirs?: string[]): ClassFolder[] {
  if (!dirs) {
    const listing = subfolders(dir, `${prefix} folder`);
    ignored.push(...listing.files.map((f) => `${prefix}/${f}`), ...listing.hidden.map((f) => `${prefix}/${f}`));
    dirs = listing.dirs;
  }
  if (dirs.length < 2) {
    throw new InvalidInputError(
      `${prefix ? `'${prefix}' ` : ''}needs one subfolder per class (at least 2); found ${describe(dirs)}`,
      { file: dir },
      'layout: one folder per class holding its PNG/JPEG files, e.g. photos/cat/1.png, photos/dog/2.jpg',
    );
  }
  const seen = new Map<string, string>();
  const out: ClassFolder[] = [];
  for (const folder of dirs) {
    const name = folder.normalize('NFC');
    const key = normaliseClassName(folder);
    const other = seen.get(key);
    if (other !== undefined) {
      throw new InvalidInputError(
        `class folders '${other}' and '${folder}' are the same class name '${key}' after normalisation (Unicode NFC, case folded, trimmed)`,
        { file: path.join(dir, folder) },
        'rename or merge one of them',
      );
    }
    seen.set(key, folder);
    out.push({ folder, name, key });
  }
  return out.sort((a, b) => byCodeUnits(a.key, b.key) || byCodeUnits(a.name, b.name));
}

function listClasses(dir: string, prefix: string, classes: ClassFolder[], labels: number[], ignored: string[]): ImageFileEntry[] {
  const entries: ImageFileEntry[] = [];
  classes.forEach((c, i) => {
    const rel = prefix ? `${prefix}/${c.folder}` : c.folder;
    const files: string[] = [];
    walk(path.join(dir, c.folder), rel, files, ignored);
    if (files.length === 0) {
      throw new InvalidInputError(`class folder '${rel}' holds no file`, { file: path.join(dir, c.folder) }, 'remove the folder or add its images');
    }
    for (const name of files) entries.push({ name, label: labels[i] });
  });
  return entries;
}

/** Every non-hidden file below `abs`, sorted, as '/'-joined names starting with `rel`. */
function walk(abs: string, rel: string, out: string[], ignored: string[]): void {
  const listing = subfolders(abs, 'class folder');
  for (const f of listing.files) out.push(`${rel}/${f}`);
  for (const d of listing.dirs) walk(path.join(abs, d), `${rel}/${d}`, out, ignored);
  ignored.push(...listing.hidden.map((h) => `${rel}/${h}`));
}

function subfolders(dir: string, what: string): { dirs: string[]; files: string[]; hidden: string[] } {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    throw new InvalidInputError(`cannot read the ${what}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { file: dir });
  }
  const dirs: string[] = [];
  const files: string[] = [];
  const hidden: string[] = [];
  for (const entry of entries.sort((a, b) => byCodeUnits(a.name, b.name))) {
    const name = entry.name;
    if (name.startsWith('.')) {
      hidden.push(name);
      continue;
    }
    if (/[\n\r\\]/.test(name)) {
      throw new InvalidInputError(`file name ${JSON.stringify(name)} holds a newline or backslash, which files.txt cannot list`, {
        file: path.join(dir, name),
      });
    }
    // The dirent's type where it is plain; stat for a symbolic link (followed, to a folder or a
    // file) and where the file system does not say. A stat per file made 70,000 Stats objects of garbage.
    const isDirectory = entry.isDirectory() || ((entry.isSymbolicLink() || !entry.isFile()) && fs.statSync(path.join(dir, name)).isDirectory());
    (isDirectory ? dirs : files).push(name);
  }
  return { dirs, files, hidden };
}

function describe(names: string[]): string {
  return names.length === 0 ? 'none' : names.map((n) => `'${n}'`).join(', ');
}

function report(ignored: string[], logger: Logger): void {
  if (ignored.length > 0) {
    logger.warn(
      { ignored: ignored.slice(0, 20), count: ignored.length },
      `${ignored.length} hidden or top-level files ignored (first: ${ignored.slice(0, 3).join(', ')})`,
    );
  }
}
