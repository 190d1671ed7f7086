import { CorruptArtifactError } from '@cbnn/core';
import type { ObjectStore } from '../object-store';
import type { RecordedRun, RecordedStage } from './run-record-format';

/** Stages of a run whose output is in the record (they ran or were restored). */
export function stagesWithOutput(run: RecordedRun): Array<RecordedStage & { output: string }> {
  return run.stages.filter((s): s is RecordedStage & { output: string } => (s.status === 'ran' || s.status === 'cached') && s.output !== undefined);
}

/**
 * One file of a recorded output, read from the object store; undefined when the output has no
 * such file. A missing or damaged object is an error (exit 5): a result is never read from it.
 */
export function readRecordedFile(store: ObjectStore, output: string, rel: string): Buffer | undefined {
  const entry = store.readManifest(output).files[rel];
  if (!entry) return undefined;
  if (!store.objectIntact(entry.hash)) {
    throw new CorruptArtifactError(
      `stored object ${entry.hash.slice(0, 12)} (${rel} of output ${output.slice(0, 12)}) is ${store.hasObject(entry.hash) ? 'damaged' : 'missing'}`,
      store.objectPath(entry.hash),
      'cbnn verify checks the store; a gc may have removed it',
    );
  }
  return store.readObject(entry.hash);
}
