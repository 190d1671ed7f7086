import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Default store: `.cbnn/` in the project that holds the pipeline file: the nearest parent folder
 * with a package.json or .git, else the pipeline's own folder.
 */
export function defaultStoreRoot(pipelineFile: string): string {
  const start = path.dirname(path.resolve(pipelineFile));
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json')) || fs.existsSync(path.join(dir, '.git'))) return path.join(dir, '.cbnn');
    if (path.dirname(dir) === dir) return path.join(start, '.cbnn');
  }
}
