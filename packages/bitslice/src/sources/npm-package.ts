import * as fs from 'node:fs';
import * as path from 'node:path';
import { InvalidInputError } from '@cbnn/core';

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
