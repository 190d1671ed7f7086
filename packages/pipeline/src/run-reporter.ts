import type { ProgressUpdate } from '@cbnn/core';
import type { ThreadChange } from './stage-scheduler';
import type { StageFailureKind } from './stage-failure';

export type StageStatus = 'ran' | 'cached' | 'failed' | 'skipped' | 'cancelled';

export interface StageOutcome {
  id: string;
  stage: string;
  status: StageStatus;
  durationMs: number;
  attempts: number;
  key?: string;
  output?: string;
  log?: string;
  metrics?: Record<string, unknown>;
  /** Why it failed or was skipped; for a cache hit, where the result came from. */
  note?: string;
  /** A failure on the user's input (its last attempt's): the run exits 3 rather than 4 (failedRunExitCode). */
  failure?: StageFailureKind;
  startedAt?: number;
  endedAt?: number;
  /** CPU seconds of the process that executed it (as its executor reports them). */
  cpuSeconds?: number;
  /** The queue worker that executed it. */
  worker?: string;
  /** From ready (upstream settled, not cached) to started: the wait for a job slot. */
  waitMs?: number;
  /** Its threads over time, from its start (a queue worker's: the count it chose). */
  threads?: ThreadChange[];
}

export interface RunSummary {
  pipeline: string;
  store: string;
  lockFile: string;
  ok: boolean;
  cancelled: boolean;
  executed: number;
  cached: number;
  failed: number;
  skipped: number;
  durationMs: number;
  outcomes: StageOutcome[];
  /** The run record written for this run (`cbnn exp show ID`); absent when recording is off or failed. */
  runId?: string;
}

/** What the runner tells the user while it works (the CLI renders it; tests record it). */
export interface RunReporter {
  message?(text: string): void;
  stageStarted?(id: string, info: { attempt: number; attempts: number; executor: string }): void;
  stageProgress?(id: string, update: ProgressUpdate): void;
  /** A JSON log line of the stage; `replay` when it comes from the store on a cache hit. */
  stageLog?(id: string, line: string, replay: boolean): void;
  stageFinished?(outcome: StageOutcome): void;
  runFinished?(summary: RunSummary): void;
}
