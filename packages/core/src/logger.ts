import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Logger, DestinationStream, LevelWithSilent, StreamEntry } from 'pino';

export type { Logger } from 'pino';

export interface LoggerOptions {
  name?: string;
  level?: LevelWithSilent;
  /** JSON lines are appended here (the run's or the stage's log file). */
  file?: string;
  /** Also log to stderr: pretty on a TTY, JSON lines otherwise. Default: true. */
  console?: boolean;
  /** Force pretty console output (default: stderr is a TTY). */
  pretty?: boolean;
}

/**
 * pino logger: JSON lines to a file (synchronously, so nothing is lost when a stage dies), and
 * to stderr pretty on a TTY or as JSON lines otherwise.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const pino = loadPino();
  const level = options.level ?? (process.env.CBNN_LOG_LEVEL as LevelWithSilent | undefined) ?? 'info';
  const streams: StreamEntry[] = [];
  if (options.file) {
    fs.mkdirSync(path.dirname(options.file), { recursive: true });
    streams.push({ level: 'trace', stream: pino.destination({ dest: options.file, sync: true, append: true }) });
  }
  if (options.console ?? true) {
    const usePretty = options.pretty ?? process.stderr.isTTY === true;
    const stream: DestinationStream = usePretty
      ? loadPretty()({ destination: 2, colorize: true, sync: true, ignore: 'pid,hostname' })
      : pino.destination({ dest: 2, sync: true });
    streams.push({ level: level === 'silent' ? 'fatal' : level, stream });
  }
  if (streams.length === 0) return pino({ name: options.name, level: 'silent' });
  return pino({ name: options.name, level: options.file ? 'trace' : level }, pino.multistream(streams));
}

/** A logger that drops everything (for tests and library callers that pass none). */
export function silentLogger(): Logger {
  return loadPino()({ level: 'silent' });
}

// pino and pino-pretty (some 40 modules) load when a logger is first made, not with @cbnn/core:
// light commands (status, dag) that log nothing do not pay for them.
function loadPino(): typeof import('pino') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('pino') as typeof import('pino');
}

function loadPretty(): typeof import('pino-pretty') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('pino-pretty') as typeof import('pino-pretty');
}
