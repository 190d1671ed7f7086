import type { z } from 'zod';
import type { Logger } from 'pino';
import type { ArtifactKind } from './artifact-kinds';

/** Stage-reported progress; the runner renders it as a live line (TTY) or log lines. */
export interface ProgressUpdate {
  /** Units done so far, e.g. batches of this epoch or candidates evaluated. */
  current?: number;
  total?: number;
  /** Unit of `current`/`total` (e.g. 'batch'). */
  unit?: string;
  /** Short free text, e.g. 'epoch 3/10 loss 0.41 acc 0.93 1200 samples/s'. */
  message?: string;
}

export interface ProgressReporter {
  update(progress: ProgressUpdate): void;
}

export interface StageInputSpec {
  kind: ArtifactKind | readonly ArtifactKind[];
  optional?: boolean;
  description?: string;
}

/** What the runner gives a handler's `run`. */
export interface StageContext<P> {
  /** Instance name in the pipeline (e.g. `search-w0.5`). */
  stage: string;
  /** Validated against the handler's schema (defaults applied). */
  params: P;
  /** Absolute paths of the input artifact folders, by input name. Read-only: never write there. */
  inputs: Record<string, string>;
  /** Empty folder; the runner commits it atomically to the store when `run` resolves. */
  outDir: string;
  /** Scratch folder, deleted after the stage. */
  tmpDir: string;
  /**
   * Folder for resumable state (checkpoints), stable per cache key across runs and attempts: a
   * stage killed mid-way finds there what it wrote, when the same key runs again. The handler
   * creates it when it writes; the runner removes it once the stage's output is committed, and
   * `cbnn gc` removes abandoned ones. Unset (library use, tests): no checkpoints.
   */
  checkpointDir?: string;
  logger: Logger;
  progress: ProgressReporter;
  /** Aborted on cancellation (Ctrl-C, timeout); long loops should check it between batches. */
  signal: AbortSignal;
  /** Deterministic per stage: derived from the pipeline seed and the stage's key inputs. */
  seed: number;
  /** CPU threads this stage may use. */
  threads: number;
}

export interface StageRunResult {
  /** Small scalar results shown by the runner and recorded in the lock file. */
  metrics?: Record<string, number | string | boolean>;
}

/**
 * A stage handler: a plain object exported by a package. `version` is part of the cache key:
 * bump it whenever the handler's output for the same params and inputs would change.
 */
export interface StageHandler<S extends z.ZodType = z.ZodType> {
  name: string;
  version: number;
  description: string;
  params: S;
  inputs: Record<string, StageInputSpec>;
  output: ArtifactKind;
  run(ctx: StageContext<z.output<S>>): Promise<StageRunResult | void>;
}

/** Identity function that keeps the params type flowing into `run`. */
export function defineStage<S extends z.ZodType>(handler: StageHandler<S>): StageHandler<S> {
  return handler;
}

/** Handlers by name; built by the CLI from every package's exported handlers. */
export type StageRegistry = ReadonlyMap<string, StageHandler>;

export function createStageRegistry(handlers: Iterable<StageHandler<any>>): StageRegistry {
  const map = new Map<string, StageHandler>();
  for (const h of handlers) {
    if (map.has(h.name)) throw new Error(`duplicate stage handler name '${h.name}'`);
    map.set(h.name, h as StageHandler);
  }
  return map;
}

/** A progress reporter that drops updates (tests, library use). */
export const noProgress: ProgressReporter = { update: () => undefined };
