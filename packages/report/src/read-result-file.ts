import type { z } from 'zod';
import { readJsonFile } from '@cbnn/core';

/** A result file of another stage, validated by the report's own schema (the report reads files, not packages). */
export function readResultFile<S extends z.ZodType>(file: string, schema: S, what: string): z.output<S> {
  return readJsonFile(file, schema, what, `is this folder the output of the stage that writes ${what}?`);
}
