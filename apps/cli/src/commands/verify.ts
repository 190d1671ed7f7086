import type { Command } from 'commander';
import { ExitCode } from '@cbnn/core';
import { defaultStoreRoot } from '@cbnn/pipeline';
import * as path from 'node:path';
import { DEFAULT_PIPELINE, existingStore, PIPELINE_ARGUMENT, printJson } from '../context';

export function registerVerify(program: Command): void {
  program
    .command('verify')
    .argument('[pipeline]', `${PIPELINE_ARGUMENT}; only its store is used`)
    .description('re-hash every object in the store and name the corrupt or missing ones (exit 5 if any)')
    .option('--store <dir>', 'artifact store folder (default: .cbnn/ in the project)')
    .option('--json', 'JSON on stdout')
    .action((file: string | undefined, opts: { store?: string; json?: boolean }) => {
      const store = existingStore(opts.store ? path.resolve(opts.store) : defaultStoreRoot(path.resolve(file ?? DEFAULT_PIPELINE)));
      const result = store.verifyAll();
      if (opts.json) printJson({ store: store.root, ...result, ok: result.corrupt.length === 0 });
      else {
        for (const c of result.corrupt) process.stdout.write(`CORRUPT ${c.hash} ${c.path}: ${c.problem}\n`);
        process.stdout.write(
          `${result.checked} objects checked in ${store.root}: ${result.corrupt.length ? `${result.corrupt.length} corrupt` : 'all intact'}\n`,
        );
      }
      if (result.corrupt.length) process.exitCode = ExitCode.corruptStore;
    });
}
