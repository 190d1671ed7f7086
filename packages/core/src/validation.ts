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
