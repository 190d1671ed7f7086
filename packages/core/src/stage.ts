import type { z } from 'zod';
import type { Logger } from 'pino';
import type { ArtifactKind } from './artifact-kinds';
import { silentLogger } from './logger';

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
  /** CPU threads this stage may use when it starts (it stays that value; see `threadBudget`). */
  threads: number;
  /**
   * The live share of the run's `--threads` budget: the runner moves threads between running
   * stages (to the one the most work waits on). Absent (library use, cmd stages, queue
   * workers): `threads` holds for the whole stage.
   */
  threadBudget?: ThreadBudget;
}

/**
 * A stage that can change its thread count while it runs says so with `canUse`; the runner then
 * sends it new counts, which it adopts when it can (a trainer: at its next epoch boundary) and
 * reports with `adopted`. A stage that never calls `canUse` keeps its starting count.
 */
export interface ThreadBudget {
  /** The threads the runner gives this stage now. */
  current(): number;
  /** This stage adopts changed counts, and can use at most `max` threads. */
  canUse(max: number): void;
  /** This stage now runs on `threads` (what the run's schedule records). */
  adopted(threads: number): void;
}

export interface StageRunResult {
  /** Small scalar results shown by the runner and recorded in the lock file. */
  metrics?: Record<string, number | string | boolean>;
}

/**
 * What the runner, `status`, `dag` and the pipeline loader need to know about a handler without
 * loading its package: name, params, inputs, output. `version` is a deliberate "results changed"
 * marker in the cache key; the key also covers a fingerprint of the handler's code (`code`), so a
 * code change re-runs the stage without a bump.
 */
export interface StageDescriptor<S extends z.ZodType = z.ZodType> {
  name: string;
  version: number;
  description: string;
  params: S;
  inputs: Record<string, StageInputSpec>;
  output: ArtifactKind;
  /**
   * A measurement stage (a benchmark): its output holds wall-clock figures by design, so two runs
   * with the same key need not give the same bytes. Every other stage's output must.
   */
  measurement?: boolean;
  /**
   * The files or folders whose bytes are the code this handler executes (its package's built
   * output and that of the workspace packages it depends on), by label (`@cbnn/train/dist`).
   * Their fingerprint is part of the cache key; `cbnn why` names the label that changed.
   */
  code?: () => Record<string, string>;
}

/** A stage handler: its descriptor plus `run`. Exported by a package as `<camelName>Stage`. */
export interface StageHandler<S extends z.ZodType = z.ZodType> extends StageDescriptor<S> {
  run(ctx: StageContext<z.output<S>>): Promise<StageRunResult | void>;
}

/** Identity function that keeps the params type flowing into `run`. */
export function defineStage<S extends z.ZodType>(handler: StageHandler<S>): StageHandler<S> {
  return handler;
}

/** Identity function for a light descriptor (a handler's package exports it from a light subpath). */
export function defineStageDescriptor<S extends z.ZodType>(descriptor: StageDescriptor<S>): StageDescriptor<S> {
  return descriptor;
}

/** Descriptors (or whole handlers) by name; what the pipeline loader validates a pipeline against. */
export type StageRegistry = ReadonlyMap<string, StageDescriptor>;

export function createStageRegistry<D extends StageDescriptor<any>>(handlers: Iterable<D>): ReadonlyMap<string, D> {
  const map = new Map<string, D>();
  for (const h of handlers) {
    if (map.has(h.name)) throw new Error(`duplicate stage handler name '${h.name}'`);
    map.set(h.name, h);
  }
  return map;
}

/** A progress reporter that drops updates (tests, library use). */
export const noProgress: ProgressReporter = { update: () => undefined };

/** What a caller must give to run one stage by hand; the rest has a standalone default. */
export type StandaloneStageFields<P> = Pick<StageContext<P>, 'stage' | 'params' | 'inputs' | 'outDir' | 'tmpDir' | 'seed'> &
  Partial<Omit<StageContext<P>, 'stage' | 'params' | 'inputs' | 'outDir' | 'tmpDir' | 'seed'>>;

/**
 * A context for running one stage outside a pipeline (library use, tests): a silent logger, no
 * progress, a signal nobody aborts, one thread and no checkpoints unless the caller says
 * otherwise. One place for these defaults, so a new context field gets one default, not one per caller.
 */
export function standaloneStageContext<P>(fields: StandaloneStageFields<P>): StageContext<P> {
  return {
    logger: silentLogger(),
    progress: noProgress,
    signal: new AbortController().signal,
    threads: 1,
    ...fields,
  };
}
