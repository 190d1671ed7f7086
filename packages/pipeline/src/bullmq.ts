// `@cbnn/pipeline/bullmq`: the BullMQ executor and queue worker. A subpath of its own so that
// commands that never queue anything (status, dag, a local run) do not load bullmq and ioredis.
export * from './distributed';
