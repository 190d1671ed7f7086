import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { writeFileAtomicSync } from '@cbnn/core';

/**
 * The lock file beside a pipeline (`mnist.yaml` -> `mnist.lock`, JSON): for every stage instance
 * the resolved key and everything that went into it, and the output it produced. `status`
 * compares against it to say why a stage would run; `gc` keeps what lock files reference.
 */
export const LOCK_FORMAT = 'cbnn.lock/1';

export const lockEntrySchema = z.object({
  stage: z.string(),
  kind: z.enum(['handler', 'cmd']),
  handler: z.string().optional(),
  version: z.number().optional(),
  cmd: z.string().optional(),
  params: z.record(z.string(), z.unknown()),
  inputs: z.record(z.string(), z.string()),
  deps: z.record(z.string(), z.string()),
  /** Handler stages: code label -> fingerprint. Absent in entries written before keys covered the code. */
  code: z.record(z.string(), z.string()).optional(),
  seed: z.number(),
  key: z.string(),
  output: z.string(),
  log: z.string().optional(),
  metrics: z.record(z.string(), z.unknown()).optional(),
});
export type LockEntry = z.infer<typeof lockEntrySchema>;

export const lockFileSchema = z.object({
  format: z.literal(LOCK_FORMAT),
  pipeline: z.string(),
  store: z.string(),
  params: z.record(z.string(), z.unknown()),
  stages: z.record(z.string(), lockEntrySchema),
});
export type LockFile = z.infer<typeof lockFileSchema>;

/** The lock file, or undefined when absent or unreadable (then every stage counts as new). */
export function readLockFile(file: string): LockFile | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
  const parsed = lockFileSchema.safeParse(raw);
  return parsed.success ? parsed.data : undefined;
}

/**
 * The lock file as far as `storeRoot` is concerned: one pipeline run against several stores
 * (`--store`) shares the file beside it, which holds the keys and outputs of the store it was
 * last written for. Compared with another store's run cache those entries mislead (a stale
 * "why", a wrong old-key-scheme notice) and their outputs are not that store's to keep, so they
 * count only for the store they name.
 */
export function readLockFileFor(file: string, storeRoot: string): LockFile | undefined {
  const lock = readLockFile(file);
  return lock && path.resolve(lock.store) === path.resolve(storeRoot) ? lock : undefined;
}

export function writeLockFile(file: string, lock: LockFile): void {
  const sorted = { ...lock, stages: Object.fromEntries(Object.entries(lock.stages).sort(([a], [b]) => a.localeCompare(b))) };
  writeFileAtomicSync(file, JSON.stringify(sorted, null, 2) + '\n');
}
