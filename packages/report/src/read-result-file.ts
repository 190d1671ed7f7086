import * as fs from 'node:fs';
import type { z } from 'zod';
import { InvalidInputError, parseOrThrow } from '@cbnn/core';

/**
 * Read and validate one JSON result file. Every failure is an InvalidInputError that names the
 * file, and for a schema mismatch the first offending field (`rows[3].accuracy`), so a user can
 * find the broken producer without reading the report's code.
 */
export function readResultFile<S extends z.ZodType>(file: string, schema: S, what: string): z.output<S> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const reason = err.code === 'ENOENT' ? 'file not found' : err.message;
    throw new InvalidInputError(`cannot read ${what}: ${reason}`, { file }, `is this folder the output of the stage that writes ${what}?`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new InvalidInputError(`${what} is not valid JSON: ${(e as Error).message}`, { file, ...jsonErrorLine(text, e) });
  }
  return parseOrThrow(schema, raw, what, { file });
}

/** Line of a JSON.parse error, from the "position N" in V8's message, when there is one. */
function jsonErrorLine(text: string, error: unknown): { line?: number } {
  const match = /position (\d+)/.exec(String((error as Error)?.message ?? ''));
  if (!match) return {};
  const position = Number(match[1]);
  return { line: text.slice(0, position).split('\n').length };
}
