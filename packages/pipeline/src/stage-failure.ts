import { ExitCode, InvalidInputError, StageFailedError, type CbnnError } from '@cbnn/core';
import type { StageOutcome } from './run-reporter';

/**
 * Why a stage attempt failed, as far as the user is concerned: `invalid-input` when the stage's
 * own error was an InvalidInputError (a bad image, a float .npy: the user's data to fix, exit 3),
 * absent for everything else (a bug, a crash, a timeout: exit 4). It crosses the worker process
 * (IPC) and the queue (a BullMQ failed reason) as a plain string, so it travels as the CbnnError
 * `code` rather than as an error object.
 */
export type StageFailureKind = 'invalid-input';

const INVALID_INPUT_CODE = new InvalidInputError('').code;
/** Leads a BullMQ job's failed reason, the only text a failed job carries to the runner. */
const QUEUE_MARK = `[${INVALID_INPUT_CODE}] `;

/** The failure kind of an error a handler (or executor) threw. */
export function failureKindOf(e: unknown): StageFailureKind | undefined {
  const err = e as Partial<CbnnError> & { cause?: unknown };
  if (err?.code === INVALID_INPUT_CODE) return 'invalid-input';
  if (e instanceof StageFailedError) return failureKindOf(err.cause);
  return undefined;
}

/** The error an executor rejects with: the kind survives as the cause, the message as it was. */
export function stageFailedError(stage: string, message: string, kind: StageFailureKind | string | undefined): StageFailedError {
  return new StageFailedError(stage, message, kind === INVALID_INPUT_CODE ? new InvalidInputError(message) : undefined);
}

/** The CbnnError code a worker reports for `e` (undefined for errors that are not the user's). */
export function failureCodeOf(e: unknown): string | undefined {
  return failureKindOf(e) === 'invalid-input' ? INVALID_INPUT_CODE : undefined;
}

export function markQueueFailure(message: string, e: unknown): string {
  return failureKindOf(e) === 'invalid-input' ? QUEUE_MARK + message : message;
}

export function unmarkQueueFailure(reason: string): { message: string; kind?: StageFailureKind } {
  return reason.startsWith(QUEUE_MARK) ? { message: reason.slice(QUEUE_MARK.length), kind: 'invalid-input' } : { message: reason };
}

/**
 * Exit code of a run that did not succeed (and was not cancelled): 3 when every failed stage
 * failed on invalid input, 4 as soon as one failed for another reason (a crash outranks the
 * data: fixing the data would not make that run succeed). Skipped stages do not count.
 */
export function failedRunExitCode(outcomes: readonly StageOutcome[]): ExitCode {
  const failed = outcomes.filter((o) => o.status === 'failed');
  return failed.length > 0 && failed.every((o) => o.failure === 'invalid-input') ? ExitCode.invalidInput : ExitCode.stageFailed;
}
