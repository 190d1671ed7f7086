import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { CancelledError, CbnnError, InvalidInputError, StageFailedError } from '@cbnn/core';
import { removeTree, type ArtifactStore } from './artifact-store';
import type { Executor, StageJob } from './executor';
import { readLockFileFor, writeLockFile, LOCK_FORMAT, type LockEntry } from './lock-file';
import type { ResolvedPipeline, StageInstance } from './pipeline-loader';
import type { RunReporter, RunSummary, StageOutcome } from './run-reporter';
import { stageSeed, type KeyMaterial } from './stage-key';
import { createPlanner, oldKeySchemeNotice, type StagePlan } from './planner';
import { upstreamOf } from './dag';
import { checkpointDirOf, removeCheckpoint } from './checkpoints';
import { damagedOutputNotice, editedOutFiles, editedOutNotice } from './damaged-output-notice';
import { WorkspaceLock, type LockOwner } from './workspace-lock';
import { RunRecorder, type RunRecordOptions } from './run-records/run-recorder';
import { criticalPathPriorities, recordedStageSeconds } from './critical-path';
import { StageScheduler, type StageLease } from './stage-scheduler';
import { failureKindOf, type StageFailureKind } from './stage-failure';

export interface RunOptions {
  store: ArtifactStore;
  executor: Executor;
  /** Stage attempts running at once (default: number of cores); free slots go by the critical path. */
  jobs?: number;
  /**
   * Total CPU threads, shared by the stages running at once (default: number of cores); spare
   * threads move to the running stage the most work waits on (stage-scheduler.ts).
   */
  threads?: number;
  /** Run only these stages/instances (and what they need). */
  stages?: readonly string[];
  /** Execute these stages/instances even when cached. */
  force?: readonly string[];
  /** After a failure, keep running what does not depend on it. */
  keepGoing?: boolean;
  reporter?: RunReporter;
  signal?: AbortSignal;
  /** false: refuse at once when another run holds the store (default: wait). */
  waitForLock?: boolean;
  /** The run record (`<store>/records/<id>.json`): its name and command line; false: none. */
  record?: RunRecordOptions | false;
}

interface Resolved {
  material: KeyMaterial;
  key: string;
}

/**
 * Run a resolved pipeline: cached stages are restored, the rest executed by `executor` in
 * dependency order, at most `jobs` at a time, the stage the most work waits on first. Results
 * are committed to the store only when a stage succeeds; the lock file is rewritten at the end
 * (also after failures and cancels, for what did finish).
 */
export async function runPipeline(pipeline: ResolvedPipeline, options: RunOptions): Promise<RunSummary> {
  const { store, executor } = options;
  const reporter = options.reporter ?? {};
  const started = Date.now();
  const jobs = Math.max(1, options.jobs ?? os.availableParallelism());
  const selected = selectInstances(pipeline, options.stages);
  const forced = new Set(options.force?.length ? [...expandNames(pipeline, options.force, '--force')] : []);
  const recorder = options.record === false ? undefined : new RunRecorder(pipeline, store.root, { name: executor.name, jobs }, options.record);

  const lock = await WorkspaceLock.acquire(store.root, {
    wait: options.waitForLock ?? true,
    signal: options.signal,
    onWait: (o: LockOwner) => reporter.message?.(`waiting for the store ${store.root}: another run holds it (pid ${o.pid}, since ${o.startedAt})`),
  });
  // Under the lock nobody else is running on this store: scratch left by a killed run can go.
  removeTree(store.tmpRoot);
  const runDir = path.join(store.tmpRoot, `run-${process.pid}-${randomBytes(4).toString('hex')}`);
  fs.mkdirSync(runDir, { recursive: true });

  const cancel = new AbortController();
  const onOuterAbort = (): void => cancel.abort(options.signal?.reason ?? new Error('cancelled'));
  options.signal?.addEventListener('abort', onOuterAbort, { once: true });
  if (options.signal?.aborted) onOuterAbort();

  const planner = createPlanner(pipeline, store);
  const notice = oldKeySchemeNotice(planner.lock, selected);
  if (notice) reporter.message?.(notice);
  const scheduler = new StageScheduler({
    jobs,
    threads: Math.max(1, options.threads ?? os.availableParallelism()),
    priority: stagePriorities(pipeline, selected, store.root, reporter),
    order: new Map(pipeline.instances.map((inst, i) => [inst.id, i])),
  });
  const outcomes = new Map<string, Promise<StageOutcome>>();
  const resolvedKeys = new Map<string, Resolved>();
  const inflight = new Map<string, { owner: string; done: Promise<StageOutcome> }>();
  let stopping = false;

  const outcomeOf = (id: string): Promise<StageOutcome> => {
    let p = outcomes.get(id);
    if (!p) {
      p = settle(pipeline.byId.get(id)!);
      outcomes.set(id, p);
    }
    return p;
  };

  const settle = async (inst: StageInstance): Promise<StageOutcome> => {
    const base = { id: inst.id, stage: inst.stage, durationMs: 0, attempts: 0 };
    const ups = await Promise.all(inst.upstream.map(outcomeOf));
    const broken = ups.find((u) => u.status !== 'ran' && u.status !== 'cached');
    if (broken) return finish({ ...base, status: cancel.signal.aborted ? 'cancelled' : 'skipped', note: `upstream '${broken.id}' ${broken.status}` });
    if (cancel.signal.aborted) return finish({ ...base, status: 'cancelled', note: 'run cancelled' });
    if (stopping) return finish({ ...base, status: 'skipped', note: 'not started: the run stops after a failure (use --keep-going)' });

    const t0 = Date.now();
    const plan = planner.plan(inst, new Map(ups.map((u) => [u.id, u.output])), { force: forced.has(inst.id) });
    if (plan.error !== undefined || !plan.key || !plan.material) {
      if (!options.keepGoing) stopping = true;
      return finish({ ...base, status: 'failed', note: plan.error ?? 'no key' });
    }
    const { key, material } = plan;
    resolvedKeys.set(inst.id, { material, key });
    for (const m of plan.combined ?? []) store.objects.putManifest(m);

    if (!forced.has(inst.id)) {
      const hit = restore(inst, plan);
      if (hit) return finish({ ...base, ...hit, durationMs: Date.now() - t0 });
      const same = inflight.get(key);
      if (same) {
        const o = await same.done;
        if (o.status !== 'ran' && o.status !== 'cached') return finish({ ...base, status: 'skipped', note: `same key as '${same.owner}', which ${o.status}` });
        store.views.expose(inst.id, o.output!);
        return finish({
          ...base,
          status: 'cached',
          key,
          output: o.output,
          log: o.log,
          metrics: o.metrics,
          note: `same key as '${same.owner}' (computed once)`,
          durationMs: Date.now() - t0,
        });
      }
    }
    const done = (async (): Promise<StageOutcome> => {
      const lease = await scheduler.acquire(inst.id, inst.threads);
      try {
        if (cancel.signal.aborted) return { ...base, status: 'cancelled' as const, note: 'run cancelled' };
        if (stopping) return { ...base, status: 'skipped' as const, note: 'not started: the run stops after a failure (use --keep-going)' };
        const o = await execute(inst, key, material, lease);
        return { ...o, waitMs: lease.waitMs, threads: o.threads ?? lease.timeline() };
      } finally {
        lease.release();
      }
    })();
    inflight.set(key, { owner: inst.id, done });
    const o = await done;
    if (o.status === 'failed' && !options.keepGoing) stopping = true;
    return finish(o);
  };

  const finish = (o: StageOutcome): StageOutcome => {
    reporter.stageFinished?.(o);
    return o;
  };

  /** A cache hit whose output is intact; a corrupt one is moved aside and the stage re-runs. */
  const restore = (inst: StageInstance, plan: StagePlan): Omit<StageOutcome, 'id' | 'stage' | 'durationMs' | 'attempts'> | undefined => {
    const key = plan.key!;
    if (plan.corrupt?.length) {
      const output = store.runCache.get(key)?.output ?? key;
      reporter.message?.(damagedOutputNotice(store, inst.id, output, plan.corrupt));
      for (const b of plan.corrupt) store.objects.quarantine(b.hash);
      store.runCache.delete(key);
      return undefined;
    }
    const rec = plan.record;
    if (!rec) return undefined;
    const edited = editedOutFiles(store, inst.id, rec.output);
    if (edited.length) reporter.message?.(editedOutNotice(inst.id, edited));
    store.views.expose(inst.id, rec.output);
    if (rec.log && store.objects.objectIntact(rec.log)) {
      const lines = store.objects.readObject(rec.log).toString('utf8').split('\n').filter(Boolean);
      for (const line of lines.slice(-50)) reporter.stageLog?.(inst.id, line, true);
    }
    return { status: 'cached', key, output: rec.output, log: rec.log, metrics: rec.metrics, note: `restored from the run cache (key ${key.slice(0, 12)})` };
  };

  const execute = async (inst: StageInstance, key: string, material: KeyMaterial, lease: StageLease): Promise<StageOutcome> => {
    const inputHashes = material.inputs;
    const base = { id: inst.id, stage: inst.stage, key };
    const attempts = executor.retriesStages ? 1 : inst.retries + 1;
    const inputs: Record<string, string> = {};
    for (const [name, hash] of Object.entries(inputHashes)) inputs[name] = store.views.view(hash);
    let lastError = '';
    let lastFailure: StageFailureKind | undefined;
    const startedAt = Date.now();
    let tried = 0;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      tried = attempt;
      const dir = path.join(runDir, `${inst.id}.${attempt}`);
      const job: StageJob = {
        stage: inst.id,
        key,
        kind: inst.kind,
        handler: inst.handler?.name,
        handlerVersion: inst.handler?.version,
        cmd: inst.cmd,
        cwd: pipeline.dir,
        params: inst.params,
        inputs,
        inputHashes,
        retries: inst.retries,
        outDir: path.join(dir, 'out'),
        tmpDir: path.join(dir, 'tmp'),
        checkpointDir: checkpointDirOf(store.root, key),
        logFile: path.join(dir, 'log.jsonl'),
        seed: stageSeed(material),
        threads: lease.current(),
        threadsPinned: inst.threads !== undefined,
      };
      fs.mkdirSync(job.outDir, { recursive: true });
      fs.mkdirSync(job.tmpDir, { recursive: true });
      fs.writeFileSync(job.logFile, '');
      reporter.stageStarted?.(inst.id, { attempt, attempts, executor: executor.name });
      const attemptAbort = new AbortController();
      const relay = (): void => attemptAbort.abort(cancel.signal.reason);
      cancel.signal.addEventListener('abort', relay, { once: true });
      const timer =
        inst.timeoutMs !== undefined
          ? setTimeout(() => attemptAbort.abort(new Error(`timeout: no result after ${inst.timeoutMs! / 1000}s`)), inst.timeoutMs)
          : undefined;
      try {
        const result = await executor.run(
          job,
          {
            progress: (u) => reporter.stageProgress?.(inst.id, u),
            log: (line) => reporter.stageLog?.(inst.id, line, false),
            threadsUsable: (max) => lease.canUse(max),
            threadsAdopted: (n) => {
              // Said live, as it happens; the summary and the record keep the whole timeline.
              const was = lease.adopted(n);
              if (was !== undefined) reporter.message?.(`${inst.id}: now on ${n} thread${n === 1 ? '' : 's'} (was ${was})`);
            },
          },
          attemptAbort.signal,
          { onThreads: (listener) => lease.onChange(listener) },
        );
        // A remote worker has committed its output to the shared store already (result.output):
        // it is used only when every object it lists is intact here.
        const damaged = result.output ? store.objects.checkOutput(result.output) : [];
        if (damaged.length)
          throw new StageFailedError(inst.id, `the output the worker committed is damaged: ${damaged.map((b) => `${b.path} ${b.problem}`).join('; ')}`);
        const metrics = { ...(result.metrics ?? {}), ...checkDeclaredOutputs(inst, result.output ? store.views.view(result.output) : job.outDir) };
        const output = result.output ?? store.objects.commitFolder(job.outDir);
        const log = result.log ?? store.objects.putBytes(fs.readFileSync(job.logFile));
        const endedAt = Date.now();
        store.runCache.put({ key, stage: inst.id, output, log, metrics, durationMs: endedAt - startedAt, createdAt: new Date().toISOString() });
        removeCheckpoint(store.root, key);
        store.views.expose(inst.id, output);
        return {
          ...base,
          status: 'ran',
          attempts: attempt,
          output,
          log,
          metrics,
          durationMs: endedAt - startedAt,
          startedAt,
          endedAt,
          cpuSeconds: result.cpuSeconds,
          worker: result.worker,
          // A queue worker chose its own count; the runner's budget did not apply there.
          ...(result.threads !== undefined ? { threads: [{ atMs: 0, threads: result.threads }] } : {}),
        };
      } catch (e) {
        if (e instanceof CancelledError || cancel.signal.aborted) {
          return { ...base, status: 'cancelled', attempts: attempt, durationMs: Date.now() - startedAt, note: 'cancelled' };
        }
        lastError = e instanceof CbnnError ? e.message.replace(/^stage '[^']*' failed: /, '') : (e as Error).message;
        lastFailure = failureKindOf(e);
        // Invalid input fails the same way on every attempt: `retries:` is for crashes and flakes.
        if (lastFailure === 'invalid-input') {
          if (attempt < attempts) reporter.message?.(`${inst.id}: attempt ${attempt}/${attempts} failed on invalid input; not retried`);
          break;
        }
        if (attempt < attempts) reporter.message?.(`${inst.id}: attempt ${attempt}/${attempts} failed: ${lastError.split('\n')[0]}; retrying`);
      } finally {
        if (timer) clearTimeout(timer);
        cancel.signal.removeEventListener('abort', relay);
        removeTree(dir);
      }
    }
    return { ...base, status: 'failed', attempts: tried, durationMs: Date.now() - startedAt, note: lastError, failure: lastFailure };
  };

  let all: StageOutcome[];
  let runId: string | undefined;
  try {
    try {
      all = await Promise.all(selected.map(outcomeOf));
    } finally {
      options.signal?.removeEventListener('abort', onOuterAbort);
      removeTree(runDir);
      store.objects.saveState();
      planner.save();
    }
    writeLock(pipeline, store, all, resolvedKeys);
    // Under the store lock, so that a gc never sees outputs of a run whose record is not there yet.
    await recorder?.ready();
    const recorded = recorder?.finish(all, resolvedKeys, cancel.signal.aborted);
    if (recorded?.error) reporter.message?.(`the run record could not be written: ${recorded.error}`);
    if (recorded?.file) runId = recorded.record.id;
  } finally {
    lock.release();
  }
  const count = (s: StageOutcome['status']) => all.filter((o) => o.status === s).length;
  const summary: RunSummary = {
    pipeline: pipeline.file,
    store: store.root,
    lockFile: pipeline.lockFile,
    ok: all.every((o) => o.status === 'ran' || o.status === 'cached'),
    cancelled: cancel.signal.aborted,
    executed: count('ran'),
    cached: count('cached'),
    failed: count('failed'),
    skipped: count('skipped') + count('cancelled'),
    durationMs: Date.now() - started,
    outcomes: all,
    runId,
  };
  reporter.runFinished?.(summary);
  return summary;
}

function writeLock(pipeline: ResolvedPipeline, store: ArtifactStore, all: StageOutcome[], keys: Map<string, Resolved>): void {
  // Entries of other stages are kept only when the file was this store's: another store's keys
  // and outputs mean nothing here.
  const previous = readLockFileFor(pipeline.lockFile, store.root);
  const stages: Record<string, LockEntry> = {};
  for (const inst of pipeline.instances) {
    const prev = previous?.stages[inst.id];
    if (prev) stages[inst.id] = prev;
  }
  for (const o of all) {
    const r = keys.get(o.id);
    if ((o.status !== 'ran' && o.status !== 'cached') || !r || !o.output) continue;
    stages[o.id] = { stage: o.stage, ...r.material, key: r.key, output: o.output, log: o.log, metrics: o.metrics };
  }
  writeLockFile(pipeline.lockFile, { format: LOCK_FORMAT, pipeline: pipeline.name, store: store.root, params: pipeline.params, stages });
  store.views.registerLockFile(pipeline.lockFile);
}

/** Declared outs, metrics and plots must exist; metrics files (JSON) are read into the lock. */
function checkDeclaredOutputs(inst: StageInstance, outDir: string): Record<string, unknown> {
  for (const [what, list] of [
    ['out', inst.outs],
    ['metrics file', inst.metrics],
    ['plot', inst.plots],
  ] as const) {
    for (const rel of list) {
      if (!fs.existsSync(path.join(outDir, rel))) throw new StageFailedError(inst.id, `declared ${what} '${rel}' was not produced in its output folder`);
    }
  }
  const metrics: Record<string, unknown> = {};
  for (const rel of inst.metrics) {
    try {
      const value = JSON.parse(fs.readFileSync(path.join(outDir, rel), 'utf8')) as unknown;
      if (value && typeof value === 'object' && !Array.isArray(value)) {
        for (const [k, v] of Object.entries(value)) if (v === null || typeof v !== 'object') metrics[k] = v;
      }
    } catch (e) {
      throw new StageFailedError(inst.id, `metrics file '${rel}' is not JSON: ${(e as Error).message}`);
    }
  }
  return metrics;
}

/** `--stage` names (stage or instance names) plus everything they need, in topological order. */
export function selectInstances(pipeline: ResolvedPipeline, names: readonly string[] | undefined): string[] {
  if (!names?.length) return pipeline.instances.map((i) => i.id);
  const wanted = expandNames(pipeline, names, '--stage');
  const deps = new Map(pipeline.instances.map((i) => [i.id, i.upstream]));
  for (const id of [...wanted]) for (const u of upstreamOf(id, deps)) wanted.add(u);
  return pipeline.instances.map((i) => i.id).filter((id) => wanted.has(id));
}

export function expandNames(pipeline: ResolvedPipeline, names: readonly string[], option: string): Set<string> {
  const out = new Set<string>();
  for (const n of names) {
    const group = pipeline.groups.get(n);
    if (group) group.forEach((id) => out.add(id));
    else if (pipeline.byId.has(n)) out.add(n);
    else
      throw new InvalidInputError(`${option} ${n}: no such stage (stages: ${[...pipeline.groups.keys()].join(', ')})`, { file: pipeline.file, field: option });
  }
  return out;
}

/**
 * Priorities by the critical path over the selected instances (what is not selected does not
 * wait), costed by this pipeline's run records. Unreadable records cost only the estimate.
 */
function stagePriorities(pipeline: ResolvedPipeline, selected: readonly string[], storeRoot: string, reporter: RunReporter): Map<string, number> {
  const wanted = new Set(selected);
  let seconds = new Map<string, number>();
  try {
    seconds = recordedStageSeconds(storeRoot, pipeline);
  } catch (e) {
    reporter.message?.(`stage costs from earlier runs are unavailable (${(e as Error).message}); every stage counts the same`);
  }
  return criticalPathPriorities({ instances: pipeline.instances.filter((i) => wanted.has(i.id)) }, seconds);
}
