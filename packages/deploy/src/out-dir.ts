import * as fs from 'node:fs';
import { InvalidInputError } from '@cbnn/core';

/**
 * An export's output folder: created when missing; an existing folder with anything in it is
 * refused unless `force`, so an export never mixes its files into (or over) someone else's.
 * With `force` the export's own files are overwritten and other files are left alone.
 */
export function prepareOutDir(dir: string, force: boolean): void {
  let entries: string[];
  try {
    entries = fs.readdirSync(dir);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') {
      fs.mkdirSync(dir, { recursive: true });
      return;
    }
    if (err.code === 'ENOTDIR') throw new InvalidInputError('the output path exists and is not a folder', { file: dir, field: '--out' });
    throw new InvalidInputError(`cannot read the output folder: ${err.message}`, { file: dir, field: '--out' });
  }
  if (entries.length > 0 && !force) {
    const shown = entries.slice(0, 5).join(', ') + (entries.length > 5 ? `, ... (${entries.length} entries)` : '');
    throw new InvalidInputError(
      `the output folder exists and is not empty (${shown})`,
      { file: dir, field: '--out' },
      'choose an empty or new folder, or pass --force to overwrite the exported files in it',
    );
  }
}
