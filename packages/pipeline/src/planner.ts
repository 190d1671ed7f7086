import * as path from 'node:path';
import { CbnnError } from '@cbnn/core';
import type { ArtifactStore, CorruptObject, FolderManifest, RunRecord } from './artifact-store';
import { canonicalJson } from './canonical-json';
import { FileHashes } from './file-hashes';
import { readLockFileFor, type LockEntry, type LockFile } from './lock-file';
import type { ResolvedPipeline, StageInstance } from './pipeline-loader';
import { combinedManifest, hashCode, hashDeps, keyMaterial, stageKey, type KeyMaterial } from './stage-key';

export type StageAction = 'up-to-date' | 'restore' | 'run';

/** What a run does with one stage instance, and why: the one decision `run`, `status` and `why` share. */
export interface StagePlan {
  id: string;
  stage: string;
  /** up-to-date: nothing to do; restore: from the run cache, no execution; run: will execute. */
  action: StageAction;
  reasons: string[];
  key?: string;
  /** Known when the result is (or will be restored) from the store. */
  output?: string;
  material?: KeyMaterial;
  locked?: LockEntry;
  /** The cache hit (when intact). */
  record?: RunRecord;
  /** Objects of a cache hit that are missing or damaged (the runner quarantines them). */
  corrupt?: CorruptObject[];
  /** Manifests of `stage[*]` inputs, for the runner to store before it executes the stage. */
  combined?: FolderManifest[];
  /** Planning failed (a missing dep, unbuilt code): the stage cannot run. */
  error?: string;
  /** The previous key was made by a scheme without the code fingerprint. */
  oldKeyScheme?: boolean;
}

/** What every plan of one run (or one status) shares: the store, the lock file, the file hashes. */
export interface Planner {
  readonly pipeline: ResolvedPipeline;
  readonly store: ArtifactStore;
  readonly lock?: LockFile;
  /**
   * Plan one instance, given its upstream instances' outputs (undefined: that upstream will run,
   * so this instance's inputs, and key, are not known yet). `force`: run even when cached.
   */
  plan(inst: StageInstance, upstreamOutputs: ReadonlyMap<string, string | undefined>, options?: { force?: boolean }): StagePlan;
  /** Persist the file-hash memory (call once at the end). */
  save(): void;
}

export function createPlanner(pipeline: ResolvedPipeline, store: ArtifactStore): Planner {
  const lock = readLockFileFor(pipeline.lockFile, store.root);
  const hashes = new FileHashes(path.join(store.root, 'state', 'file-hashes.json'));
  // The code fingerprint depends only on the handler: hashed once per run.
  const codeByHandler = new Map<string, Record<string, string>>();
  const codeOf = (inst: StageInstance): Record<string, string> | undefined => {
    if (inst.kind !== 'handler') return undefined;
    let code = codeByHandler.get(inst.handler!.name);
    if (!code) {
      code = hashCode(inst, hashes);
      codeByHandler.set(inst.handler!.name, code);
    }
    return code;
  };

  const plan = (inst: StageInstance, ups: ReadonlyMap<string, string | undefined>, options: { force?: boolean } = {}): StagePlan => {
    const prev = lock?.stages[inst.id];
    const p: StagePlan = { id: inst.id, stage: inst.stage, action: 'run', reasons: [], locked: prev };
    p.oldKeyScheme = prev !== undefined && isOldKeyScheme(prev);
    const unknown = inst.upstream.filter((u) => ups.get(u) === undefined);
    if (unknown.length) {
      p.reasons.push(...unknown.map((u) => `upstream '${u}' will run, so its output (an input here) is not known yet`));
      if (prev) {
        try {
          p.reasons.push(...describeChanges(prev, keyMaterial(inst, pipeline.seed, {}, {}, codeOf(inst))));
        } catch {
          // reported when the stage's turn comes
        }
      }
      return p;
    }
    try {
      const inputs: Record<string, string> = {};
      const combined: FolderManifest[] = [];
      for (const [name, need] of Object.entries(inst.needs)) {
        const outs = need.instances.map((i) => [i, ups.get(i)!] as [string, string]);
        if (need.all) {
          const c = combinedManifest(store.objects, outs);
          combined.push(c.manifest);
          inputs[name] = c.hash;
        } else inputs[name] = outs[0][1];
      }
      if (combined.length) p.combined = combined;
      p.material = keyMaterial(inst, pipeline.seed, inputs, hashDeps(inst, pipeline.dir, pipeline.file, hashes), codeOf(inst));
      p.key = stageKey(p.material);
    } catch (e) {
      p.error = e instanceof CbnnError ? e.userMessage() : (e as Error).message;
      p.reasons.push(p.error);
      return p;
    }
    if (!prev) p.reasons.push('never run (not in the lock file)');
    else if (prev.key !== p.key) p.reasons.push(...describeChanges(prev, p.material));
    if (options.force) {
      p.reasons.push('forced (--force)');
      return p;
    }
    const rec = store.runCache.get(p.key);
    if (!rec) {
      if (prev && prev.key === p.key) p.reasons.push('missing output: its result is not in the store (gc, or a new store)');
      else if (!p.reasons.length) p.reasons.push('not in the run cache');
      return p;
    }
    const bad = store.objects.checkOutput(rec.output);
    if (bad.length) {
      p.corrupt = bad;
      p.reasons.push(...bad.map((b) => `missing output: stored object ${b.hash.slice(0, 12)} is ${b.problem}`));
      return p;
    }
    p.output = rec.output;
    p.record = rec;
    if (prev?.key === p.key && store.views.exposed(inst.id) === rec.output) {
      p.action = 'up-to-date';
    } else {
      p.action = 'restore';
      if (prev?.key === p.key) p.reasons.push(`out/${inst.id} does not show the result`);
      p.reasons.push('the result for these inputs is in the run cache: restored without executing');
    }
    return p;
  };
  return { pipeline, store, lock, plan, save: () => hashes.save() };
}

/** Plan every instance in order, as a run would (read-only: takes no lock, executes nothing). */
export function planPipeline(pipeline: ResolvedPipeline, store: ArtifactStore): StagePlan[] {
  const planner = createPlanner(pipeline, store);
  const outputs = new Map<string, string | undefined>();
  const plans = pipeline.instances.map((inst) => {
    const p = planner.plan(inst, outputs);
    outputs.set(inst.id, p.output);
    return p;
  });
  planner.save();
  return plans;
}

/** A lock entry of a handler stage written before keys covered the handler's code. */
export function isOldKeyScheme(entry: LockEntry): boolean {
  return entry.kind === 'handler' && entry.code === undefined;
}

/**
 * The one line a run or status prints when the lock file's keys predate the code fingerprint:
 * those results are not reused under the new keys (their stages re-run), and the user is told so.
 */
export function oldKeySchemeNotice(lock: LockFile | undefined, ids: Iterable<string>): string | undefined {
  let n = 0;
  for (const id of ids) {
    const entry = lock?.stages[id];
    if (entry && isOldKeyScheme(entry)) n++;
  }
  return n ? `cache keys now include the code; ${n} stage${n === 1 ? '' : 's'} will re-run` : undefined;
}

/** Human reasons for a key change: changed param, changed input, new handler version, changed code ... */
export function describeChanges(prev: LockEntry, now: KeyMaterial): string[] {
  const out: string[] = [];
  if (prev.kind !== now.kind) out.push(`stage kind changed: ${prev.kind} -> ${now.kind}`);
  if (prev.handler !== now.handler && now.handler) out.push(`handler changed: ${prev.handler ?? '(cmd)'} -> ${now.handler}`);
  else if (prev.version !== now.version && now.version !== undefined) out.push(`new handler version: ${prev.version} -> ${now.version}`);
  if (prev.cmd !== now.cmd && now.cmd !== undefined) out.push('command text changed');
  if (now.kind === 'handler' && prev.kind === 'handler' && prev.handler === now.handler) {
    if (prev.code === undefined) out.push('cache keys now include the code: this result was stored under the previous key scheme');
    else {
      const code = now.code ?? {};
      for (const label of [...new Set([...Object.keys(prev.code), ...Object.keys(code)])].sort()) {
        if (prev.code[label] === code[label]) continue;
        out.push(
          code[label] === undefined
            ? `handler code: ${label} no longer part of it`
            : prev.code[label] === undefined
              ? `handler code: ${label} is new`
              : `handler code changed: ${label} (${prev.code[label].slice(0, 12)} -> ${code[label].slice(0, 12)})`,
        );
      }
    }
  }
  const keys = new Set([...Object.keys(prev.params), ...Object.keys(now.params)]);
  for (const k of [...keys].sort()) {
    const a = prev.params[k];
    const b = now.params[k];
    if (canonicalJson(a ?? null) !== canonicalJson(b ?? null)) out.push(`changed param with.${k}: ${show(a)} -> ${show(b)}`);
  }
  if (prev.seed !== now.seed) out.push(`pipeline seed changed: ${prev.seed} -> ${now.seed}`);
  if (Object.keys(now.inputs).length || Object.keys(now.deps).length || now.kind === 'handler') {
    for (const name of new Set([...Object.keys(prev.inputs), ...Object.keys(now.inputs)])) {
      if (!(name in now.inputs)) {
        if (Object.keys(now.inputs).length) out.push(`input '${name}' removed`);
      } else if (prev.inputs[name] !== now.inputs[name]) {
        out.push(
          prev.inputs[name]
            ? `changed input '${name}': upstream output ${prev.inputs[name].slice(0, 12)} -> ${now.inputs[name].slice(0, 12)}`
            : `new input '${name}'`,
        );
      }
    }
    for (const dep of new Set([...Object.keys(prev.deps), ...Object.keys(now.deps)])) {
      if (prev.deps[dep] !== now.deps[dep] && now.deps[dep] !== undefined) out.push(`changed dep '${dep}' (file content)`);
    }
  }
  return out;
}

function show(v: unknown): string {
  return v === undefined ? '(unset)' : JSON.stringify(v);
}
