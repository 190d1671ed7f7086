export * from './redis-connection';
export * from './stage-queue';
export * from './bullmq-executor';
export * from './queue-worker';
export * from './no-worker-notice';
