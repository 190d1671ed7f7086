import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseYamlValue } from 'yaml';
import { z } from 'zod';
import { InvalidInputError, describeZodError, didYouMean, type StageDescriptor, type StageRegistry } from '@cbnn/core';
import { YamlSource, fieldOf } from './yaml-source';
import { interpolate, MissingPlaceholderError, type InterpolationScope } from './interpolate';
import { pipelineSchema, STAGE_NAME_PATTERN, durationToMs, type StageSpec } from './pipeline-schema';
import { topologicalOrder } from './dag';
import { checkDepsAreNotOutputs } from './deps-outputs-check';

/** One input of a stage instance: a single upstream instance, or all instances of a matrix stage. */
export interface StageInputRef {
  /** As written: `train`, `search-w0.5`, `search[*]`. */
  ref: string;
  /** The stage name in the pipeline. */
  stage: string;
  instances: string[];
  /** `stage[*]`: the input folder holds one subfolder per instance name. */
  all: boolean;
}

export interface StageInstance {
  /** Instance name: the stage name, or the templated name of a matrix instance. */
  id: string;
  /** Stage name in the pipeline file. */
  stage: string;
  matrix?: Record<string, unknown>;
  kind: 'handler' | 'cmd';
  /** The handler's light descriptor (its package is loaded only where the stage runs). */
  handler?: StageDescriptor;
  cmd?: string;
  deps: string[];
  outs: string[];
  /** Validated params (handler defaults applied); for cmd stages the `with:` map as written. */
  params: Record<string, unknown>;
  needs: Record<string, StageInputRef>;
  /** Instance ids this instance reads. */
  upstream: string[];
  metrics: string[];
  plots: string[];
  retries: number;
  timeoutMs?: number;
  threads?: number;
  description?: string;
}

export interface ResolvedPipeline {
  file: string;
  dir: string;
  name: string;
  seed: number;
  params: Record<string, unknown>;
  /** Topological order. */
  instances: StageInstance[];
  byId: Map<string, StageInstance>;
  /** Stage name -> instance ids (one for a plain stage). */
  groups: Map<string, string[]>;
  /** `<dir>/<basename without .yaml>.lock` */
  lockFile: string;
}

export interface LoadOptions {
  registry: StageRegistry;
  /** `key=value` overrides of top-level params; values are parsed as YAML (`3` is a number). */
  set?: readonly string[];
}

export function lockFileFor(pipelineFile: string): string {
  const abs = path.resolve(pipelineFile);
  return path.join(path.dirname(abs), `${path.basename(abs).replace(/\.ya?ml$/i, '')}.lock`);
}

export function loadPipeline(file: string, options: LoadOptions): ResolvedPipeline {
  const abs = path.resolve(file);
  let text: string;
  try {
    text = fs.readFileSync(abs, 'utf8');
  } catch (e) {
    throw new InvalidInputError(`cannot read pipeline file: ${(e as Error).message}`, { file: abs });
  }
  return resolvePipeline(abs, text, options);
}

export function resolvePipeline(file: string, text: string, options: LoadOptions): ResolvedPipeline {
  const source = YamlSource.parse(file, text);
  const raw = source.toJS();
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new InvalidInputError('a pipeline file is a YAML map with `name:` and `stages:`', { file, line: 1, column: 1 });
  }
  const doc = raw as Record<string, unknown>;
  const params = applySetOverrides(file, (doc.params ?? {}) as Record<string, unknown>, options.set ?? []);

  // Params are substituted everywhere except in the params section itself.
  const substituted: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(doc)) {
    substituted[k] = k === 'params' ? params : withPlaceholders(source, () => interpolate(v, { params }, [k]));
  }
  const parsed = pipelineSchema.safeParse(substituted);
  if (!parsed.success) throw zodFailure(source, parsed.error, [], 'pipeline');
  const spec = parsed.data;

  // Fan out matrix stages into instances.
  const groups = new Map<string, string[]>();
  const drafts: Array<{ id: string; stage: string; spec: StageSpec; matrix?: Record<string, unknown> }> = [];
  const seen = new Map<string, string>();
  for (const [stageName, stageSpec] of Object.entries(spec.stages)) {
    const ids: string[] = [];
    for (const combo of matrixCombinations(stageSpec.matrix)) {
      const scope: InterpolationScope = combo ? { matrix: combo } : {};
      const instSpec = combo ? (withPlaceholders(source, () => interpolate(stageSpec, scope, ['stages', stageName])) as StageSpec) : stageSpec;
      const id = combo ? instanceName(stageName, instSpec.name, combo) : stageName;
      if (!STAGE_NAME_PATTERN.test(id)) {
        throw new InvalidInputError(`instance name '${id}' may hold only letters, digits, _ . = -`, source.locate(['stages', stageName, 'name']));
      }
      const clash = seen.get(id);
      const repeated = clash !== undefined ? repeatedMatrixValue(stageSpec.matrix) : undefined;
      if (repeated) {
        throw new InvalidInputError(
          `duplicate stage name '${id}': matrix axis '${repeated.axis}' lists ${repeated.value} twice: each value makes one instance, so a repeated value (a repeated seed, say) would run the same stage twice`,
          source.locate(['stages', stageName, 'matrix', repeated.axis]),
          'list each value once',
        );
      }
      if (clash !== undefined) {
        throw new InvalidInputError(
          `duplicate stage name '${id}' (also made by stage '${clash}')`,
          source.locate(['stages', stageName, combo ? 'name' : []].flat(), !combo),
          combo ? 'give the matrix a `name:` template that uses every matrix key' : undefined,
        );
      }
      seen.set(id, stageName);
      ids.push(id);
      drafts.push({ id, stage: stageName, spec: instSpec, matrix: combo });
    }
    groups.set(stageName, ids);
  }

  // `${pipeline.dag}` / `${pipeline.name}` in a stage's `with:` (e.g. for the report): the whole
  // instance graph, so it is part of that stage's params and cache key like any other param.
  const pipelineScope = { name: spec.name, dag: instanceGraph(drafts, groups) };
  for (const d of drafts) {
    if (d.spec.with) d.spec = { ...d.spec, with: substitutePipelineRefs(d.spec.with, pipelineScope) as Record<string, unknown> };
  }

  const instances = drafts.map((d) => resolveInstance(source, d, groups, options.registry, spec.stages));
  checkDepsAreNotOutputs(source, instances);

  // Cycles: named at the level of stages, as the user wrote them.
  const stageDeps = new Map<string, string[]>();
  for (const inst of instances) {
    const list = stageDeps.get(inst.stage) ?? [];
    for (const n of Object.values(inst.needs)) if (!list.includes(n.stage)) list.push(n.stage);
    stageDeps.set(inst.stage, list);
  }
  const stageOrder = topologicalOrder([...groups.keys()], stageDeps);
  if (stageOrder.cycle) {
    throw new InvalidInputError(`the stages form a cycle: ${stageOrder.cycle.join(' -> ')}`, source.locate(['stages', stageOrder.cycle[0], 'needs']));
  }
  const deps = new Map(instances.map((i) => [i.id, i.upstream]));
  const order = topologicalOrder(
    instances.map((i) => i.id),
    deps,
  );
  if (order.cycle) throw new InvalidInputError(`the stage instances form a cycle: ${order.cycle.join(' -> ')}`, { file });
  const byId = new Map(instances.map((i) => [i.id, i]));
  return {
    file,
    dir: path.dirname(file),
    name: spec.name,
    seed: spec.seed,
    params,
    instances: order.order.map((id) => byId.get(id)!),
    byId,
    groups,
    lockFile: lockFileFor(file),
  };
}

interface InstanceGraph {
  stages: Array<{ name: string; handler?: string }>;
  edges: Array<{ from: string; to: string; input: string }>;
}

function instanceGraph(drafts: Array<{ id: string; spec: StageSpec }>, groups: Map<string, string[]>): InstanceGraph {
  const ids = new Set(drafts.map((d) => d.id));
  const edges: InstanceGraph['edges'] = [];
  for (const d of drafts) {
    for (const [input, ref] of Object.entries(d.spec.needs ?? {})) {
      const target = ref.replace(/\[\*\]$/, '');
      const from = groups.get(target) ?? (ids.has(target) ? [target] : []);
      for (const f of from) edges.push({ from: f, to: d.id, input });
    }
  }
  return { stages: drafts.map((d) => ({ name: d.id, handler: d.spec.uses ?? (d.spec.cmd ? 'cmd' : undefined) })), edges };
}

/** Replace whole-string `${pipeline.dag}` / `${pipeline.name}` placeholders (other strings untouched). */
function substitutePipelineRefs(value: unknown, scope: { name: string; dag: InstanceGraph }): unknown {
  if (value === '${pipeline.dag}') return scope.dag;
  if (typeof value === 'string') return value.replace(/\$\{pipeline\.name\}/g, scope.name);
  if (Array.isArray(value)) return value.map((v) => substitutePipelineRefs(v, scope));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitutePipelineRefs(v, scope)]));
  }
  return value;
}

function resolveInstance(
  source: YamlSource,
  draft: { id: string; stage: string; spec: StageSpec; matrix?: Record<string, unknown> },
  groups: Map<string, string[]>,
  registry: StageRegistry,
  allStages: Record<string, StageSpec>,
): StageInstance {
  const { spec, stage } = draft;
  const at = (...p: PropertyKey[]) => source.locate(['stages', stage, ...p]);
  const where = draft.id === stage ? `stage '${stage}'` : `stage '${stage}' (instance '${draft.id}')`;

  const needs: Record<string, StageInputRef> = {};
  for (const [input, ref] of Object.entries(spec.needs ?? {})) {
    const m = /^(.+?)(\[\*\])?$/.exec(ref)!;
    const target = m[1];
    const all = m[2] !== undefined;
    let instances: string[] | undefined;
    let targetStage = target;
    if (groups.has(target)) {
      const isMatrix = allStages[target]?.matrix !== undefined;
      if (isMatrix && !all) {
        throw new InvalidInputError(
          `${where}: input '${input}' names matrix stage '${target}'; use '${target}[*]' for all its instances, or one instance name (${groups.get(target)!.join(', ')})`,
          at('needs', input),
        );
      }
      if (!isMatrix && all) {
        throw new InvalidInputError(
          `${where}: input '${input}': '${target}' is not a matrix stage, so '[*]' does not apply; write '${target}'`,
          at('needs', input),
        );
      }
      instances = groups.get(target)!;
    } else if (!all) {
      for (const [g, ids] of groups)
        if (ids.includes(target)) {
          instances = [target];
          targetStage = g;
        }
    }
    if (!instances) {
      const near = didYouMean(target, [...groups.keys()]);
      throw new InvalidInputError(
        `${where}: input '${input}' needs stage '${target}', which the pipeline does not define${near ? `; ${near}` : ''} (stages: ${[...groups.keys()].join(', ')})`,
        at('needs', input),
      );
    }
    if (instances.includes(draft.id)) {
      throw new InvalidInputError(`the stages form a cycle: ${stage} -> ${stage}`, at('needs', input));
    }
    needs[input] = { ref, stage: targetStage, instances, all };
  }

  let params: Record<string, unknown> = spec.with ?? {};
  let handler: StageDescriptor | undefined;
  if (spec.uses !== undefined) {
    handler = registry.get(spec.uses);
    if (!handler) {
      const known = [...registry.keys()].sort();
      const near = didYouMean(spec.uses, known);
      throw new InvalidInputError(
        `${where}: unknown handler '${spec.uses}'${near ? `; ${near}` : ''}`,
        at('uses'),
        known.length ? `registered handlers: ${known.join(', ')}` : 'no handlers are registered in this build',
      );
    }
    const result = (handler.params as z.ZodType).safeParse(spec.with ?? {});
    if (!result.success) throw zodFailure(source, result.error, ['stages', stage, 'with'], `params of ${where} (handler '${handler.name}')`);
    params = result.data as Record<string, unknown>;
    for (const input of Object.keys(needs)) {
      if (!(input in handler.inputs)) {
        const near = didYouMean(input, Object.keys(handler.inputs));
        throw new InvalidInputError(
          `${where}: handler '${handler.name}' has no input '${input}'${near ? `; ${near}` : ''} (inputs: ${Object.keys(handler.inputs).join(', ') || 'none'})`,
          at('needs', input),
        );
      }
    }
    for (const [input, inSpec] of Object.entries(handler.inputs)) {
      if (!inSpec.optional && !(input in needs)) {
        throw new InvalidInputError(
          `${where}: handler '${handler.name}' requires input '${input}' (${[inSpec.kind].flat().join(' or ')}) in \`needs:\``,
          at('needs'),
        );
      }
    }
  }
  const upstream = [...new Set(Object.values(needs).flatMap((n) => n.instances))];
  return {
    id: draft.id,
    stage,
    matrix: draft.matrix,
    kind: handler ? 'handler' : 'cmd',
    handler,
    cmd: spec.cmd,
    deps: spec.deps ?? [],
    outs: spec.outs ?? [],
    params,
    needs,
    upstream,
    metrics: spec.metrics ?? [],
    plots: spec.plots ?? [],
    retries: spec.retries ?? 0,
    timeoutMs: durationToMs(spec.timeout),
    threads: spec.threads,
    description: spec.description,
  };
}

/** The first value a matrix axis lists twice (it would make the same instance twice). */
function repeatedMatrixValue(matrix: Record<string, unknown[]> | undefined): { axis: string; value: string } | undefined {
  for (const [axis, values] of Object.entries(matrix ?? {})) {
    const keys = values.map((v) => JSON.stringify(v));
    const twice = keys.findIndex((k, i) => keys.indexOf(k) !== i);
    if (twice >= 0) return { axis, value: keys[twice] };
  }
  return undefined;
}

function matrixCombinations(matrix: Record<string, unknown[]> | undefined): Array<Record<string, unknown> | undefined> {
  if (!matrix) return [undefined];
  let combos: Array<Record<string, unknown>> = [{}];
  for (const [key, values] of Object.entries(matrix)) {
    combos = combos.flatMap((c) => values.map((v) => ({ ...c, [key]: v })));
  }
  return combos;
}

function instanceName(stage: string, template: string | undefined, combo: Record<string, unknown>): string {
  // The template was interpolated with the combo already; without one, join the values.
  if (template !== undefined) return template;
  const parts = Object.values(combo).map((v) => (typeof v === 'string' ? v : JSON.stringify(v)).replace(/[^A-Za-z0-9_.=-]+/g, '_'));
  return `${stage}-${parts.join('-')}`;
}

function applySetOverrides(file: string, params: Record<string, unknown>, sets: readonly string[]): Record<string, unknown> {
  const out = { ...params };
  for (const assignment of sets) {
    const eq = assignment.indexOf('=');
    if (eq <= 0) throw new InvalidInputError(`--set '${assignment}': expected key=value (params: ${Object.keys(params).join(', ') || 'none'})`);
    const key = assignment.slice(0, eq);
    if (!(key in params)) {
      const near = didYouMean(key, Object.keys(params));
      throw new InvalidInputError(
        `--set ${key}: the pipeline has no param '${key}'${near ? `; ${near}` : ''}`,
        { file, field: `params.${key}` },
        `params: ${Object.keys(params).join(', ') || 'none'}`,
      );
    }
    try {
      out[key] = parseYamlValue(assignment.slice(eq + 1));
    } catch (e) {
      throw new InvalidInputError(`--set ${key}: cannot parse the value: ${(e as Error).message}`, { field: `params.${key}` });
    }
  }
  return out;
}

function withPlaceholders<T>(source: YamlSource, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof MissingPlaceholderError) throw new InvalidInputError(e.message, source.locate(e.path));
    throw e;
  }
}

/** A zod failure as an InvalidInputError pointing at the first offending key or value. */
export function zodFailure(source: YamlSource, error: z.ZodError, prefix: PropertyKey[], what: string): InvalidInputError {
  const issue = error.issues[0];
  let p: PropertyKey[] = [...prefix, ...issue.path];
  let isKey = false;
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') {
    const keys = (issue as { keys: string[] }).keys;
    p = [...p, keys[0]];
    isKey = true;
    message = `unknown key '${keys[0]}'`;
    const allowed = allowedKeys(p.length === 1 ? 'top' : p[0] === 'stages' && p.length === 3 ? 'stage' : undefined);
    const near = allowed ? didYouMean(keys[0], allowed.split(', ')) : undefined;
    if (near) message += `; ${near}`;
    if (allowed) message += ` (allowed: ${allowed})`;
  }
  const loc = source.locate(p, isKey);
  loc.field = fieldOf(p);
  const rest =
    error.issues.length > 1 ? ` (and ${error.issues.length - 1} more: ${describeZodError(new z.ZodError(error.issues.slice(1)), fieldOf(prefix))})` : '';
  return new InvalidInputError(`invalid ${what}: ${message}${rest}`, loc);
}

function allowedKeys(kind: 'top' | 'stage' | undefined): string | undefined {
  if (kind === 'top') return Object.keys(pipelineSchema.shape).join(', ');
  if (kind === 'stage') return 'description, uses, cmd, deps, outs, needs, with, matrix, name, metrics, plots, retries, timeout, threads';
  return undefined;
}
