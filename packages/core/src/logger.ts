import * as fs from 'node:fs';
import * as path from 'node:path';
import pino, { type Logger, type DestinationStream, type StreamEntry } from 'pino';
import pretty from 'pino-pretty';

export type { Logger } from 'pino';

export interface LoggerOptions {
  name?: string;
  level?: pino.LevelWithSilent;
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
  const level = options.level ?? ((process.env.CBNN_LOG_LEVEL as pino.LevelWithSilent | undefined) ?? 'info');
  const streams: StreamEntry[] = [];
  if (options.file) {
    fs.mkdirSync(path.dirname(options.file), { recursive: true });
    streams.push({ level: 'trace', stream: pino.destination({ dest: options.file, sync: true, append: true }) });
  }
  if (options.console ?? true) {
    const usePretty = options.pretty ?? process.stderr.isTTY === true;
    const stream: DestinationStream = usePretty
      ? pretty({ destination: 2, colorize: true, sync: true, ignore: 'pid,hostname' })
      : pino.destination({ dest: 2, sync: true });
    streams.push({ level: level === 'silent' ? 'fatal' : level, stream });
  }
  if (streams.length === 0) return pino({ name: options.name, level: 'silent' });
  return pino({ name: options.name, level: options.file ? 'trace' : level }, pino.multistream(streams));
}

/** A logger that drops everything (for tests and library callers that pass none). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
