import type { ProgressUpdate } from '@cbnn/core';

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
  startedAt?: number;
  endedAt?: number;
}

export interface RunSummary {
  /** This run's id in the store's run list (pipeline-runs.ts). */
  runId: string;
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
