import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { writeFileAtomicSync } from '@cbnn/core';
import { HASH } from './object-store';
import { safeReaddir } from './store-files';

/**
 * The run cache (DVC's StageCache): stage key -> the output (manifest hash) and log object it
 * produced, `<root>/runs/ab/<key>.json`. Only the runner writes it, after it has checked every
 * object the record lists; a record whose objects are damaged is deleted, never used.
 */
export const runRecordSchema = z.object({
  key: z.string().regex(HASH),
  stage: z.string(),
  output: z.string().regex(HASH),
  log: z.string().regex(HASH).optional(),
  metrics: z.record(z.string(), z.unknown()).optional(),
  durationMs: z.number().min(0),
  createdAt: z.string(),
});
export type RunRecord = z.infer<typeof runRecordSchema>;

export class RunCache {
  readonly dir: string;

  constructor(root: string) {
    this.dir = path.join(path.resolve(root), 'runs');
  }

  get(key: string): RunRecord | undefined {
    let raw: unknown;
    try {
      raw = JSON.parse(fs.readFileSync(this.pathOf(key), 'utf8'));
    } catch {
      return undefined;
    }
    const parsed = runRecordSchema.safeParse(raw);
    return parsed.success && parsed.data.key === key ? parsed.data : undefined;
  }

  put(record: RunRecord): void {
    writeFileAtomicSync(this.pathOf(record.key), JSON.stringify(record, null, 2) + '\n');
  }

  delete(key: string): void {
    fs.rmSync(this.pathOf(key), { force: true });
  }

  list(): RunRecord[] {
    const out: RunRecord[] = [];
    for (const sub of safeReaddir(this.dir)) {
      for (const f of safeReaddir(path.join(this.dir, sub))) {
        if (!f.endsWith('.json')) continue;
        const rec = this.get(f.slice(0, -5));
        if (rec) out.push(rec);
      }
    }
    return out;
  }

  private pathOf(key: string): string {
    return path.join(this.dir, key.slice(0, 2), `${key}.json`);
  }
}
