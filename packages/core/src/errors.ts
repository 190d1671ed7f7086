/**
 * Typed errors. Every error a user can cause carries a message meant for that user (what was wrong,
 * where: file, line, field, and what was expected) and the process exit code the CLI should use.
 */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  invalidInput: 3,
  stageFailed: 4,
  cancelled: 130,
  corruptStore: 5,
  busy: 6,
  unavailable: 7,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export interface ErrorLocation {
  file?: string;
  line?: number;
  column?: number;
  /** Dotted path of the offending field, e.g. `stages.train.with.epochs`. */
  field?: string;
}

export class CbnnError extends Error {
  readonly code: string;
  readonly exitCode: ExitCode;
  readonly location: ErrorLocation;
  readonly hint?: string;

  constructor(code: string, message: string, options: { exitCode?: ExitCode; location?: ErrorLocation; hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.exitCode = options.exitCode ?? ExitCode.failure;
    this.location = options.location ?? {};
    this.hint = options.hint;
  }

  /** `file:line:col: field: message (hint)` — what the CLI prints. */
  userMessage(): string {
    const where = formatLocation(this.location);
    const hint = this.hint ? `\n  hint: ${this.hint}` : '';
    return `${where ? where + ': ' : ''}${this.message}${hint}`;
  }
}

/** A file, record, YAML key or parameter that is not what was expected. */
export class InvalidInputError extends CbnnError {
  constructor(message: string, location: ErrorLocation = {}, hint?: string, cause?: unknown) {
    super('invalid-input', message, { exitCode: ExitCode.invalidInput, location, hint, cause });
  }
}

/** An artifact file whose header, version or checksum does not match. */
export class CorruptArtifactError extends CbnnError {
  constructor(message: string, file: string, hint?: string) {
    super('corrupt-artifact', message, { exitCode: ExitCode.corruptStore, location: { file }, hint });
  }
}

export class StageFailedError extends CbnnError {
  readonly stage: string;
  constructor(stage: string, message: string, cause?: unknown) {
    super('stage-failed', `stage '${stage}' failed: ${message}`, { exitCode: ExitCode.stageFailed, cause });
    this.stage = stage;
  }
}

export class CancelledError extends CbnnError {
  constructor(message = 'cancelled') {
    super('cancelled', message, { exitCode: ExitCode.cancelled });
  }
}

export function formatLocation(loc: ErrorLocation): string {
  const parts: string[] = [];
  if (loc.file) {
    let p = loc.file;
    if (loc.line !== undefined) p += `:${loc.line}`;
    if (loc.line !== undefined && loc.column !== undefined) p += `:${loc.column}`;
    parts.push(p);
  }
  if (loc.field) parts.push(loc.field);
  return parts.join(': ');
}

export function isCbnnError(e: unknown): e is CbnnError {
  return e instanceof CbnnError;
}
