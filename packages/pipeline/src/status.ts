import { CbnnError } from '@cbnn/core';
import type { ArtifactStore } from './artifact-store';
import { canonicalJson } from './canonical-json';
import { readLockFile, type LockEntry } from './lock-file';
import type { ResolvedPipeline, StageInstance } from './pipeline-loader';
import { combinedManifest, hashDeps, keyMaterial, stageKey, type KeyMaterial } from './stage-key';

export type StageAction = 'up-to-date' | 'restore' | 'run';

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
}

/** What `run` would do for each stage instance and exactly why (read-only: takes no lock). */
export function planStatus(pipeline: ResolvedPipeline, store: ArtifactStore): StagePlan[] {
  const lock = readLockFile(pipeline.lockFile);
  const plans = new Map<string, StagePlan>();
  for (const inst of pipeline.instances) {
    const prev = lock?.stages[inst.id];
    const plan: StagePlan = { id: inst.id, stage: inst.stage, action: 'run', reasons: [], locked: prev };
    plans.set(inst.id, plan);
    const running = inst.upstream.filter((u) => plans.get(u)!.output === undefined);
    if (running.length) {
      plan.reasons.push(...running.map((u) => `upstream '${u}' will run, so its output (an input here) is not known yet`));
      if (prev) plan.reasons.push(...describeChanges(prev, partialMaterial(inst, pipeline.seed)));
      continue;
    }
    try {
      const inputs: Record<string, string> = {};
      for (const [name, need] of Object.entries(inst.needs)) {
        const outs = need.instances.map((i) => [i, plans.get(i)!.output!] as [string, string]);
        inputs[name] = need.all ? combinedManifest(store, outs).hash : outs[0][1];
      }
      plan.material = keyMaterial(inst, pipeline.seed, inputs, hashDeps(inst, pipeline.dir, pipeline.file));
      plan.key = stageKey(plan.material);
    } catch (e) {
      plan.reasons.push(e instanceof CbnnError ? e.userMessage() : (e as Error).message);
      continue;
    }
    if (!prev) plan.reasons.push('never run (not in the lock file)');
    else if (prev.key !== plan.key) plan.reasons.push(...describeChanges(prev, plan.material));
    const rec = store.getRun(plan.key);
    if (!rec) {
      if (prev && prev.key === plan.key) plan.reasons.push('missing output: its result is not in the store (gc, or a new store)');
      else if (!plan.reasons.length) plan.reasons.push('not in the run cache');
      continue;
    }
    const bad = store.checkOutput(rec.output);
    if (bad.length) {
      plan.reasons.push(...bad.map((b) => `missing output: stored object ${b.hash.slice(0, 12)} is ${b.problem}`));
      continue;
    }
    plan.output = rec.output;
    if (prev?.key === plan.key && store.exposed(inst.id) === rec.output) {
      plan.action = 'up-to-date';
    } else {
      plan.action = 'restore';
      if (prev?.key === plan.key) plan.reasons.push(`out/${inst.id} does not show the result`);
      plan.reasons.push('the result for these inputs is in the run cache: restored without executing');
    }
  }
  return [...plans.values()];
}

function partialMaterial(inst: StageInstance, seed: number): KeyMaterial {
  return keyMaterial(inst, seed, {}, {});
}

/** Human reasons for a key change: changed param, changed input, new handler version, ... */
export function describeChanges(prev: LockEntry, now: KeyMaterial): string[] {
  const out: string[] = [];
  if (prev.kind !== now.kind) out.push(`stage kind changed: ${prev.kind} -> ${now.kind}`);
  if (prev.handler !== now.handler && now.handler) out.push(`handler changed: ${prev.handler ?? '(cmd)'} -> ${now.handler}`);
  else if (prev.version !== now.version && now.version !== undefined) out.push(`new handler version: ${prev.version} -> ${now.version}`);
  if (prev.cmd !== now.cmd && now.cmd !== undefined) out.push('command text changed');
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
        out.push(prev.inputs[name] ? `changed input '${name}': upstream output ${prev.inputs[name].slice(0, 12)} -> ${now.inputs[name].slice(0, 12)}` : `new input '${name}'`);
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
