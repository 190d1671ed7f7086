// The light entry point `@cbnn/pipeline/run-records`: the run-record contract and its reader and
// writer, without the runner, the executors or BullMQ.
export * from './run-record-format';
export * from './run-record-store';
export * from './run-comparison';
export * from './recorded-outputs';
// Light helpers the readers need (the store's files and where the store is).
export { ArtifactStore } from '../artifact-store';
export { defaultStoreRoot } from '../store-root';
