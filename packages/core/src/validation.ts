import * as fs from 'node:fs';
import { z } from 'zod';
import { InvalidInputError } from './errors';

/** Dotted path of a zod issue, prefixed: `with.epochs`, `stages[2].needs.data`. */
export function formatZodPath(path: ReadonlyArray<PropertyKey>, prefix = ''): string {
  let out = prefix;
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out;
}

/** One line per problem: `field: message`. */
export function describeZodError(error: z.ZodError, prefix = ''): string {
  return error.issues
    .map((issue) => {
      const field = formatZodPath(issue.path, prefix);
      return field ? `${field}: ${issue.message}` : issue.message;
    })
    .join('; ');
}

/**
 * Parse `value` with `schema`, or throw an InvalidInputError naming the file and the first
 * offending field. `what` says what was being read ("params of stage 'train'").
 */
export function parseOrThrow<S extends z.ZodType>(
  schema: S,
  value: unknown,
  what: string,
  location: { file?: string; fieldPrefix?: string } = {},
): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const first = result.error.issues[0];
  const field = first ? formatZodPath(first.path, location.fieldPrefix ?? '') : location.fieldPrefix;
  return fail(`invalid ${what}: ${describeZodError(result.error, location.fieldPrefix ?? '')}`, {
    file: location.file,
    field: field || undefined,
  });
}

function fail(message: string, location: { file?: string; field?: string }): never {
  throw new InvalidInputError(message, location);
}

/**
 * Read a JSON file and validate it: a missing or unreadable file, broken JSON (with its line) and
 * a value that does not fit the schema (with its field) are each an InvalidInputError naming the
 * file. `what` names the content ("pruning plan"); `hint` says where such a file comes from.
 */
export function readJsonFile<S extends z.ZodType>(file: string, schema: S, what: string, hint?: string): z.output<S> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new InvalidInputError(`cannot read ${what}: ${err.code === 'ENOENT' ? 'file not found' : err.message}`, { file }, hint);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new InvalidInputError(`${what} is not valid JSON: ${(e as Error).message}`, { file, ...jsonErrorLine(text, e) }, hint);
  }
  return parseOrThrow(schema, raw, what, { file });
}

/** Line of a JSON.parse error, from the "position N" in V8's message, when there is one. */
function jsonErrorLine(text: string, error: unknown): { line?: number } {
  const match = /position (\d+)/.exec(String((error as Error)?.message ?? ''));
  if (!match) return {};
  return { line: text.slice(0, Number(match[1])).split('\n').length };
}
