import type { Command } from 'commander';
import * as path from 'node:path';
import { defaultStoreRoot, garbageCollect, lockFileFor } from '@cbnn/pipeline';
import { DEFAULT_PIPELINE, existingStore, PIPELINE_ARGUMENT, printJson } from '../context';

export function registerGc(program: Command): void {
  program
    .command('gc')
    .argument('[pipeline]', `${PIPELINE_ARGUMENT}; its lock file counts as a reference`)
    .description('remove from the store everything no lock file or run record references')
    .option('--store <dir>', 'artifact store folder (default: .cbnn/ in the project)')
    .option('--dry-run', 'only report what would be removed')
    .option('--drop-records', 'keep only what lock files reference, and drop the run records that referenced anything else')
    .option('--json', 'JSON on stdout')
    .action(async (file: string | undefined, opts: { store?: string; dryRun?: boolean; dropRecords?: boolean; json?: boolean }) => {
      const pipelineFile = path.resolve(file ?? DEFAULT_PIPELINE);
      const store = existingStore(opts.store ? path.resolve(opts.store) : defaultStoreRoot(pipelineFile));
      const result = await garbageCollect(store, { dryRun: opts.dryRun, dropRecords: opts.dropRecords, extraLockFiles: [lockFileFor(pipelineFile)] });
      if (opts.json) return printJson(result);
      process.stdout.write(
        `${result.dryRun ? 'would remove' : 'removed'} ${result.removedObjects} objects (${result.freedBytes} bytes), ${result.removedRuns} run-cache entries, ${result.removedViews} views, ${result.removedCheckpoints} checkpoints; kept ${result.keptObjects} objects referenced by ${result.lockFiles.length} lock file(s) and ${result.keptRecords} run record(s)${result.removedRecords ? `; ${result.dryRun ? 'would drop' : 'dropped'} ${result.removedRecords} run record(s)` : ''}\n`,
      );
    });
}
