import * as fs from 'node:fs';
import * as path from 'node:path';
import { InvalidInputError, sha256FileSync } from '@cbnn/core';
import { canonicalJson, sha256OfText } from './canonical-json';
import { MANIFEST_FORMAT, type ArtifactStore, type FolderManifest } from './artifact-store';
import type { StageInstance } from './pipeline-loader';

/** Everything a stage's result depends on; its canonical JSON's SHA-256 is the cache key. */
export interface KeyMaterial {
  kind: 'handler' | 'cmd';
  handler?: string;
  version?: number;
  cmd?: string;
  params: Record<string, unknown>;
  /** input name -> output (manifest) hash */
  inputs: Record<string, string>;
  /** cmd deps: file (relative to the pipeline folder) -> content hash */
  deps: Record<string, string>;
  seed: number;
}

export function keyMaterial(inst: StageInstance, pipelineSeed: number, inputs: Record<string, string>, deps: Record<string, string>): KeyMaterial {
  return inst.kind === 'handler'
    ? { kind: 'handler', handler: inst.handler!.name, version: inst.handler!.version, params: inst.params, inputs, deps: {}, seed: pipelineSeed }
    : { kind: 'cmd', cmd: inst.cmd, params: inst.params, inputs, deps, seed: pipelineSeed };
}

export function stageKey(material: KeyMaterial): string {
  // outs are not part of the key: which files a command leaves is its result, not its input.
  return sha256OfText(canonicalJson({ v: 1, ...material }));
}

/** The stage's seed: a pure function of its key, so a cached result and a re-run agree. */
export function seedOfKey(key: string): number {
  return parseInt(key.slice(0, 8), 16) >>> 0;
}

/** Content hashes of a cmd stage's declared deps (a folder hashes as the listing of its files). */
export function hashDeps(inst: StageInstance, pipelineDir: string, file: string): Record<string, string> {
  const out: Record<string, string> = {};
  inst.deps.forEach((dep, i) => {
    const p = path.resolve(pipelineDir, dep);
    let st: fs.Stats;
    try {
      st = fs.statSync(p);
    } catch {
      throw new InvalidInputError(`stage '${inst.id}': dep '${dep}' does not exist (looked for ${p})`, { file, field: `stages.${inst.stage}.deps[${i}]` });
    }
    out[dep] = st.isDirectory() ? hashFolder(p) : sha256FileSync(p);
  });
  return out;
}

function hashFolder(dir: string): string {
  const listing: Record<string, string> = {};
  const walk = (rel: string): void => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else listing[r] = sha256FileSync(path.join(dir, r));
    }
  };
  walk('');
  return sha256OfText(canonicalJson(listing));
}

/**
 * The input of a `stage[*]` need: one folder with a subfolder per instance, described by a
 * manifest built from the instances' manifests (its hash is the input hash).
 */
export function combinedManifest(store: ArtifactStore, outputs: Array<[instance: string, manifestHash: string]>): { manifest: FolderManifest; hash: string } {
  const files: FolderManifest['files'] = {};
  for (const [inst, hash] of outputs) {
    for (const [rel, entry] of Object.entries(store.readManifest(hash).files)) files[`${inst}/${rel}`] = entry;
  }
  const manifest: FolderManifest = { format: MANIFEST_FORMAT, files };
  return { manifest, hash: sha256OfText(canonicalJson(manifest)) };
}
