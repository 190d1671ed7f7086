import * as fs from 'node:fs';
import * as path from 'node:path';
import { InvalidArgumentError } from 'commander';
import { createStageRegistry, CbnnError, didYouMean, ExitCode, InvalidInputError } from '@cbnn/core';
import { ArtifactStore, defaultStoreRoot, loadPipeline, type ResolvedPipeline } from '@cbnn/pipeline';
import { handlerDescriptors } from './handlers';

export const DEFAULT_PIPELINE = 'pipelines/mnist.yaml';

/** The help text of every command's `[pipeline]` argument. */
export const PIPELINE_ARGUMENT = `pipeline YAML file (default: ${DEFAULT_PIPELINE})`;

export interface PipelineOptions {
  set?: string[];
  store?: string;
}

export function openPipeline(file: string | undefined, opts: PipelineOptions): { pipeline: ResolvedPipeline; store: ArtifactStore } {
  const pipelineFile = resolvePipelineFile(file);
  const pipeline = loadPipeline(pipelineFile, { registry: createStageRegistry(handlerDescriptors()), set: opts.set ?? [] });
  const store = new ArtifactStore(opts.store ? path.resolve(opts.store) : defaultStoreRoot(pipelineFile));
  return { pipeline, store };
}

const YAML = /\.ya?ml$/i;

/**
 * The pipeline file's absolute path. A path that is not a file is refused here, with the nearest
 * pipeline files as a suggestion (`smoke.yaml` -> `pipelines/smoke.yaml`), before the loader
 * would say ENOENT.
 */
export function resolvePipelineFile(file: string | undefined): string {
  const abs = path.resolve(file ?? DEFAULT_PIPELINE);
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(abs);
  } catch {
    st = undefined;
  }
  if (st?.isFile()) return abs;
  const shown = (f: string): string => path.relative(process.cwd(), f) || f;
  if (st?.isDirectory()) {
    const inside = yamlFiles(abs).map(shown);
    throw new InvalidInputError(
      `${shown(abs)} is a folder, not a pipeline file`,
      {},
      inside.length ? `pipelines in it: ${inside.join(', ')}` : 'a pipeline is a YAML file with `name:` and `stages:`',
    );
  }
  const candidates = [...new Set([path.dirname(abs), process.cwd(), path.join(process.cwd(), 'pipelines')].flatMap(yamlFiles))];
  const byName = new Map(candidates.map((c) => [shown(c), c]));
  const suggestion =
    didYouMean(shown(abs), byName.keys()) ??
    didYouMean(
      path.basename(abs),
      candidates.map((c) => path.basename(c)),
      (b) =>
        candidates
          .filter((c) => path.basename(c) === b)
          .map((c) => `'${shown(c)}'`)
          .join(' or '),
    );
  const listed = candidates.length ? `pipelines here: ${candidates.map(shown).join(', ')}` : undefined;
  const byDefault =
    file === undefined ? `name a pipeline file; the default, ${DEFAULT_PIPELINE}, is looked for in the current folder (the cbnn checkout)` : undefined;
  throw new InvalidInputError(`no pipeline file ${shown(abs)}`, {}, [byDefault, suggestion, listed].filter(Boolean).join('; ') || undefined);
}

/** The YAML files of a folder that look like pipelines (a top-level `stages:`), not lock files or configs. */
function yamlFiles(dir: string): string[] {
  try {
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isFile() && YAML.test(e.name))
      .map((e) => path.join(dir, e.name))
      .filter((f) => /^stages:/m.test(fs.readFileSync(f, 'utf8').slice(0, 65536)))
      .sort();
  } catch {
    return [];
  }
}

/**
 * Stage or instance names given on the command line (`--stage`, `--force`, `why`), checked before
 * anything runs: a typo is a usage error with the nearest names.
 */
export function checkStageNames(pipeline: ResolvedPipeline, names: readonly string[] | undefined, option: string): void {
  const known = [...pipeline.groups.keys(), ...pipeline.byId.keys()];
  for (const n of names ?? []) {
    if (pipeline.groups.has(n) || pipeline.byId.has(n)) continue;
    const hint = didYouMean(n, known);
    throw new CommandError(
      `${option} ${n}: no such stage in ${path.relative(process.cwd(), pipeline.file) || pipeline.file}${hint ? `; ${hint}` : ''} (stages: ${[...pipeline.groups.keys()].join(', ')})`,
      ExitCode.usage,
    );
  }
}

/** An existing store folder, or an error naming it (verify and gc of a mistyped --store say so). */
export function existingStore(root: string): ArtifactStore {
  if (!fs.existsSync(root)) {
    throw new InvalidInputError(`no artifact store at ${root}: nothing has run with this store yet`, {}, 'check --store (or run the pipeline first)');
  }
  return new ArtifactStore(root);
}

export function workerScript(): string {
  return path.join(__dirname, 'stage-worker.js');
}

/** Commander collects repeated `--set k=v`. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** An option parser for positive integers; a bad value is a usage error (exit 2), not a crash. */
export function positiveInteger(name: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} expects a positive integer, got '${v}'.`);
    return n;
  };
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

export class CommandError extends CbnnError {
  constructor(message: string, exitCode: ExitCode = ExitCode.failure) {
    super('command', message, { exitCode });
  }
}
