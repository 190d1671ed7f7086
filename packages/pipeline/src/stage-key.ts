import * as fs from 'node:fs';
import * as path from 'node:path';
import { InvalidInputError } from '@cbnn/core';
import { canonicalJson, sha256OfText } from './canonical-json';
import { isNotCode, type FileHashes } from './file-hashes';
import { MANIFEST_FORMAT, type FolderManifest, type ObjectStore } from './object-store';
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
  /**
   * Handler stages: the code the handler executes, label (e.g. `@cbnn/train/dist`) -> hash of
   * its files. A `cmd:` stage's code is what its `deps:` list.
   */
  code?: Record<string, string>;
  seed: number;
}

export function keyMaterial(
  inst: StageInstance,
  pipelineSeed: number,
  inputs: Record<string, string>,
  deps: Record<string, string>,
  code?: Record<string, string>,
): KeyMaterial {
  return inst.kind === 'handler'
    ? {
        kind: 'handler',
        handler: inst.handler!.name,
        version: inst.handler!.version,
        params: inst.params,
        inputs,
        deps: {},
        code: code ?? {},
        seed: pipelineSeed,
      }
    : { kind: 'cmd', cmd: inst.cmd, params: inst.params, inputs, deps, seed: pipelineSeed };
}

/**
 * The fingerprint of a handler's code (`descriptor.code()`); `{}` for a handler that declares
 * none (then only its `version` marks a change). Folders skip type declarations and source maps.
 */
export function hashCode(inst: StageInstance, hashes: FileHashes): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [label, p] of Object.entries(inst.handler?.code?.() ?? {})) {
    try {
      out[label] = hashes.any(p, isNotCode);
    } catch (e) {
      throw new InvalidInputError(
        `stage '${inst.id}': cannot fingerprint the code of handler '${inst.handler!.name}' (${label} at ${p}): ${(e as Error).message}`,
        { field: `stages.${inst.stage}.uses` },
        'build the workspace first (pnpm build)',
      );
    }
  }
  return out;
}

export function stageKey(material: KeyMaterial): string {
  // outs are not part of the key: which files a command leaves is its result, not its input.
  return sha256OfText(canonicalJson({ v: 1, ...material }));
}

/** The stage's seed: a pure function of its key, so a cached result and a re-run agree. */
export function seedOfKey(key: string): number {
  return parseInt(key.slice(0, 8), 16) >>> 0;
}

/**
 * The seed a stage runs with: a function of what it is asked to do (handler, version, params,
 * inputs, pipeline seed), not of the bytes of its code. A refactor that changes no result then
 * re-runs the stage with the same seed and gives the same bytes, so what follows stays cached;
 * and seeds are those of keys without the code (the key scheme before code fingerprints).
 */
export function stageSeed(material: KeyMaterial): number {
  return seedOfKey(stageKey({ ...material, code: undefined }));
}

/** Content hashes of a cmd stage's declared deps (a folder hashes as the listing of its files). */
export function hashDeps(inst: StageInstance, pipelineDir: string, file: string, hashes: FileHashes): Record<string, string> {
  const out: Record<string, string> = {};
  inst.deps.forEach((dep, i) => {
    const p = path.resolve(pipelineDir, dep);
    let st: fs.Stats;
    try {
      st = fs.statSync(p);
    } catch {
      throw new InvalidInputError(`stage '${inst.id}': dep '${dep}' does not exist (looked for ${p})`, { file, field: `stages.${inst.stage}.deps[${i}]` });
    }
    out[dep] = st.isDirectory() ? hashes.folder(p) : hashes.file(p);
  });
  return out;
}

/**
 * The input of a `stage[*]` need: one folder with a subfolder per instance, described by a
 * manifest built from the instances' manifests (its hash is the input hash).
 */
export function combinedManifest(
  store: Pick<ObjectStore, 'readManifest'>,
  outputs: Array<[instance: string, manifestHash: string]>,
): { manifest: FolderManifest; hash: string } {
  const files: FolderManifest['files'] = {};
  for (const [inst, hash] of outputs) {
    for (const [rel, entry] of Object.entries(store.readManifest(hash).files)) files[`${inst}/${rel}`] = entry;
  }
  const manifest: FolderManifest = { format: MANIFEST_FORMAT, files };
  return { manifest, hash: sha256OfText(canonicalJson(manifest)) };
}
