import * as fs from 'node:fs';
import * as path from 'node:path';
import { CbnnError, ExitCode, writeFileAtomicSync } from '@cbnn/core';
import { recordedRunSchema, runRecordFile, runRecordsDir, RUN_ID_PATTERN, type RecordedRun } from './run-record-format';

export interface DamagedRecord {
  file: string;
  problem: string;
}

export interface RunRecords {
  /** Newest first. */
  runs: RecordedRun[];
  /** Files under records/ that are not a readable run record: reported, never fatal. */
  damaged: DamagedRecord[];
}

/**
 * Write a new record, read-only, never over another: atomic (temp file + rename: readers see all
 * of it or nothing), then flushed to disk in the background. The flush is not waited for because
 * its latency (tens of ms on a busy disk) would be most of a cached run's cost; a record lost or
 * cut short by a power failure in that window is reported and skipped by readers, like any
 * damaged record, and no result depends on it (the lock file and the run cache are fsynced).
 */
export function writeRunRecord(storeRoot: string, run: RecordedRun): string {
  const file = runRecordFile(storeRoot, run.id);
  if (fs.existsSync(file)) throw new Error(`run record ${run.id} exists already (${file}); records are immutable`);
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true });
  const tmp = path.join(dir, `.${run.id}.${process.pid}.tmp`);
  fs.writeFileSync(tmp, JSON.stringify(run) + '\n', { mode: 0o444 });
  fs.renameSync(tmp, file);
  void flushInBackground(file, dir);
  return file;
}

async function flushInBackground(file: string, dir: string): Promise<void> {
  for (const [p, flags] of [
    [file, 'r'],
    [dir, 'r'],
  ] as const) {
    try {
      const h = await fs.promises.open(p, flags);
      try {
        await h.sync();
      } finally {
        await h.close();
      }
    } catch {
      // best effort: some filesystems refuse fsync on folders
    }
  }
}

/**
 * Every record of the store, newest first. Records are immutable, so one that passed the schema
 * once is not validated again while its file is unchanged (size, mtime, ctime, inode, kept in
 * `<store>/state/records-verified.json`): listing hundreds of runs costs their JSON parse only.
 */
export function readRunRecords(storeRoot: string): RunRecords {
  const dir = runRecordsDir(storeRoot);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return { runs: [], damaged: [] };
  }
  const cacheFile = path.join(storeRoot, 'state', 'records-verified.json');
  const verified = readVerified(cacheFile);
  const stillVerified: Record<string, string> = {};
  let changed = false;
  const runs: RecordedRun[] = [];
  const damaged: DamagedRecord[] = [];
  for (const name of names) {
    // Temp files of a write in progress start with '.'.
    if (!name.endsWith('.json') || name.startsWith('.')) continue;
    const file = `${dir}/${name}`;
    let fp: string;
    try {
      const st = fs.statSync(file);
      fp = `${st.size}:${st.mtimeMs}:${st.ctimeMs}:${st.ino}`;
    } catch {
      continue; // removed meanwhile
    }
    const r = readOne(file, verified[name] === fp);
    if ('problem' in r) {
      damaged.push(r);
      continue;
    }
    runs.push(r.run);
    stillVerified[name] = fp;
    if (verified[name] !== fp) changed = true;
  }
  if (changed || Object.keys(verified).length !== Object.keys(stillVerified).length) {
    try {
      writeFileAtomicSync(cacheFile, JSON.stringify(stillVerified));
    } catch {
      // a read-only store is read without the shortcut
    }
  }
  runs.sort((a, b) => (a.startedAt === b.startedAt ? (a.id < b.id ? 1 : -1) : a.startedAt < b.startedAt ? 1 : -1));
  return { runs, damaged };
}

function readVerified(file: string): Record<string, string> {
  try {
    const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
    return raw && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, string>) : {};
  } catch {
    return {};
  }
}

function readOne(file: string, known: boolean): { run: RecordedRun } | DamagedRecord {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    return { file, problem: `not JSON (${(e as Error).message})` };
  }
  if (known) return { run: raw as RecordedRun };
  const parsed = recordedRunSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { file, problem: `not a run record: ${issue?.path.join('.') || '(top)'}: ${issue?.message}` };
  }
  if (`${parsed.data.id}.json` !== file.slice(file.lastIndexOf('/') + 1)) return { file, problem: `its id ${parsed.data.id} does not match the file name` };
  return { run: parsed.data };
}

export function removeRunRecord(storeRoot: string, id: string): void {
  fs.rmSync(runRecordFile(storeRoot, id), { force: true });
}

/** A run id or name the user gave that matches no record (or several): exit 2, nearest named. */
export class UnknownRunError extends CbnnError {
  constructor(message: string, hint?: string) {
    super('unknown-run', message, { exitCode: ExitCode.usage, hint });
  }
}

/**
 * The record a user means by `ref`: an exact id, else the newest run with that name, else the
 * one id that starts with it. Anything else is refused with the nearest ids and names.
 */
export function resolveRun(runs: readonly RecordedRun[], ref: string, argument = 'run'): RecordedRun {
  const byId = runs.find((r) => r.id === ref);
  if (byId) return byId;
  const byName = runs.find((r) => r.name === ref); // runs are newest first
  if (byName) return byName;
  const prefixed = runs.filter((r) => r.id.startsWith(ref));
  if (prefixed.length === 1) return prefixed[0];
  if (prefixed.length > 1) {
    throw new UnknownRunError(
      `${argument} '${ref}' is ambiguous: ${prefixed.length} run ids start with it (${prefixed
        .slice(0, 5)
        .map((r) => r.id)
        .join(', ')}${prefixed.length > 5 ? ', ...' : ''})`,
    );
  }
  if (runs.length === 0)
    throw new UnknownRunError(`${argument} '${ref}': no run is recorded in this store`, 'runs are recorded by `cbnn run`; pass --store if they live elsewhere');
  const candidates = [...new Set(runs.flatMap((r) => (r.name ? [r.id, r.name] : [r.id])))];
  const near = nearestMatches(ref, candidates);
  throw new UnknownRunError(`${argument} '${ref}': no run has this id or name`, `nearest: ${near.join(', ')} (cbnn exp list shows all)`);
}

/**
 * The few `candidates` closest to `wanted`: by edit distance, a shared prefix or containment
 * counting as close. Used for every "no such X" message of the experiment commands.
 */
export function nearestMatches(wanted: string, candidates: readonly string[], count = 5): string[] {
  const w = wanted.toLowerCase();
  const scored = candidates.map((c) => {
    const l = c.toLowerCase();
    let d = editDistance(w, l);
    if (l.includes(w) || w.includes(l)) d = Math.min(d, Math.abs(l.length - w.length) * 0.25);
    return { c, d };
  });
  scored.sort((a, b) => a.d - b.d || a.c.localeCompare(b.c));
  return scored.slice(0, count).map((s) => s.c);
}

function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length];
}

/**
 * The runs of one pipeline file (and name) in `runs`, oldest first: another file of the same name
 * in the same store is another pipeline.
 */
export function runsOfPipeline(runs: readonly RecordedRun[], pipelineFile: string, name: string): RecordedRun[] {
  const file = path.resolve(pipelineFile);
  return runs.filter((r) => r.pipeline.file === file && r.pipeline.name === name).reverse();
}

/** The newest run whose outputs are one whole set of results (see `complete`). */
export function latestCompleteRun(runs: readonly RecordedRun[]): RecordedRun | undefined {
  return [...runs].sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : 0)).find((r) => r.complete);
}

/** Every output and log object the records reference (what `gc` keeps for them). */
export function recordedObjects(runs: readonly RecordedRun[]): { outputs: Set<string>; logs: Set<string> } {
  const outputs = new Set<string>();
  const logs = new Set<string>();
  for (const run of runs) {
    for (const s of run.stages) {
      if (s.output) outputs.add(s.output);
      if (s.log) logs.add(s.log);
    }
  }
  return { outputs, logs };
}

export function isRunId(text: string): boolean {
  return RUN_ID_PATTERN.test(text);
}
