import type { ProgressUpdate } from '@cbnn/core';

/**
 * What a worker needs to run one stage attempt: names, params, paths. Never large data, so a job
 * can travel through a queue (issue 9: a BullMQ executor) as well as over IPC.
 */
export interface StageJob {
  /** Instance name. */
  stage: string;
  key: string;
  kind: 'handler' | 'cmd';
  handler?: string;
  handlerVersion?: number;
  cmd?: string;
  /** Working folder of a cmd stage (the pipeline's folder). */
  cwd?: string;
  params: Record<string, unknown>;
  /** Read-only input folders by input name. */
  inputs: Record<string, string>;
  /**
   * The same inputs as output hashes (folder manifests) of the store: what a remote worker, which
   * may mount the store elsewhere, resolves to its own paths.
   */
  inputHashes?: Record<string, string>;
  /** Extra attempts the pipeline allows (`retries:`); used by executors that retry themselves. */
  retries?: number;
  outDir: string;
  tmpDir: string;
  /** Stable per key across runs (checkpoints.ts): the handler's `ctx.checkpointDir`. */
  checkpointDir?: string;
  /** JSON-lines log of this attempt; the runner stores it with the outputs. */
  logFile: string;
  seed: number;
  threads: number;
  /** The pipeline set `threads:` for this stage: remote workers use it rather than their own share. */
  threadsPinned?: boolean;
}

export interface StageJobResult {
  metrics?: Record<string, number | string | boolean>;
  /**
   * Set by executors whose workers commit to the (shared) store themselves: the output folder's
   * manifest hash and the attempt's log object. The runner then commits nothing from outDir.
   */
  output?: string;
  log?: string;
  /** CPU seconds (user + system) the attempt's process and its waited-for children used. */
  cpuSeconds?: number;
  /** Which queue worker ran it. */
  worker?: string;
  /** Threads a queue worker gave the stage (its own count: the runner's budget is local). */
  threads?: number;
}

export interface StageJobEvents {
  progress(update: ProgressUpdate): void;
  /** One JSON log line (already written to job.logFile by the worker). */
  log(line: string): void;
  /** The stage adopts changed thread counts, up to `max` (ThreadBudget.canUse). */
  threadsUsable?(max: number): void;
  /** The stage now runs on `threads` (ThreadBudget.adopted). */
  threadsAdopted?(threads: number): void;
}

/** What the runner tells a running attempt: executors that can pass it on subscribe. */
export interface StageJobControl {
  /** `listener` gets every new thread count the runner gives the stage. */
  onThreads(listener: (threads: number) => void): void;
}

/**
 * Runs stage attempts somewhere (child processes here; queue workers later). Rejects with a
 * StageFailedError when the stage fails, a CancelledError when `signal` aborts.
 */
export interface Executor {
  readonly name: string;
  /** true: the executor retries failed attempts itself (job.retries), the runner calls run once. */
  readonly retriesStages?: boolean;
  run(job: StageJob, events: StageJobEvents, signal: AbortSignal, control?: StageJobControl): Promise<StageJobResult>;
  close(): Promise<void>;
}

/** Messages between the local executor and a worker process. */
export type ParentMessage = { type: 'run'; job: StageJob } | { type: 'cancel' } | { type: 'threads'; threads: number };
export type WorkerMessage =
  | { type: 'progress'; update: ProgressUpdate }
  | { type: 'threads-usable'; max: number }
  | { type: 'threads-adopted'; threads: number }
  | { type: 'log'; line: string }
  | { type: 'done'; result: StageJobResult }
  /** `code`: the CbnnError code when the failure is the user's to fix (stage-failure.ts). */
  | { type: 'error'; message: string; stderrTail?: string[]; code?: string };
