import type { StageDescriptor, StageHandler } from '@cbnn/core';
import { bitsliceDatasetDescriptor } from '@cbnn/bitslice/stage-descriptors';
import { trainBnnDescriptor, trainFpDescriptor } from '@cbnn/train/stage-descriptors';
import { sensitivityPlanesDescriptor } from '@cbnn/sensitivity/stage-descriptors';
import { pruningPlanDescriptor, pruningSelectDescriptor } from '@cbnn/pruning/stage-descriptors';
import { benchRuntimeDescriptor } from '@cbnn/bench/stage-descriptors';
import { reportHtmlDescriptor } from '@cbnn/report/stage-descriptors';
import { exportCDescriptor, exportWebDescriptor } from '@cbnn/deploy/stage-descriptors';
import { findPackageDir, workspacePackageCode } from '@cbnn/pipeline';

/**
 * Every stage handler the `cbnn` command knows, as light descriptors: the pipeline loader,
 * `status` and `dag` need only these, so they never load TensorFlow.js, onnxruntime or vega. A
 * handler's package is loaded by `loadHandler` in the stage worker that runs it. A new handler is
 * one entry here: its descriptor (from the package's `stage-descriptors` subpath), the package,
 * and how to import it.
 */
const ENTRIES: ReadonlyArray<{ descriptor: StageDescriptor<any>; pkg: string; load: () => Promise<Record<string, unknown>> }> = [
  { descriptor: bitsliceDatasetDescriptor, pkg: '@cbnn/bitslice', load: () => import('@cbnn/bitslice') },
  { descriptor: trainBnnDescriptor, pkg: '@cbnn/train', load: () => import('@cbnn/train') },
  { descriptor: trainFpDescriptor, pkg: '@cbnn/train', load: () => import('@cbnn/train') },
  { descriptor: sensitivityPlanesDescriptor, pkg: '@cbnn/sensitivity', load: () => import('@cbnn/sensitivity') },
  { descriptor: pruningPlanDescriptor, pkg: '@cbnn/pruning', load: () => import('@cbnn/pruning') },
  { descriptor: pruningSelectDescriptor, pkg: '@cbnn/pruning', load: () => import('@cbnn/pruning') },
  { descriptor: benchRuntimeDescriptor, pkg: '@cbnn/bench', load: () => import('@cbnn/bench') },
  { descriptor: reportHtmlDescriptor, pkg: '@cbnn/report', load: () => import('@cbnn/report') },
  { descriptor: exportCDescriptor, pkg: '@cbnn/deploy', load: () => import('@cbnn/deploy') },
  { descriptor: exportWebDescriptor, pkg: '@cbnn/deploy', load: () => import('@cbnn/deploy') },
];

/** The descriptors, each with the code its handler runs (fingerprinted into the cache key). */
export function handlerDescriptors(): StageDescriptor<any>[] {
  return ENTRIES.map(({ descriptor, pkg }) => ({ ...descriptor, code: () => workspacePackageCode(findPackageDir(pkg, __dirname)) }));
}

/** The handler named `name`, its package loaded now; undefined for a name this build does not know. */
export async function loadHandler(name: string): Promise<StageHandler | undefined> {
  const entry = ENTRIES.find((e) => e.descriptor.name === name);
  if (!entry) return undefined;
  const exported = Object.values(await entry.load()).find((v): v is StageHandler => isHandler(v) && v.name === name);
  if (!exported) throw new Error(`package ${entry.pkg} exports no stage handler '${name}' (its descriptor and its handler disagree: rebuild)`);
  if (exported.version !== entry.descriptor.version || exported.params !== entry.descriptor.params) {
    throw new Error(
      `package ${entry.pkg}: handler '${name}' does not match its light descriptor (version ${exported.version} vs ${entry.descriptor.version}); build it with defineStage({ ...descriptor, run })`,
    );
  }
  return exported;
}

function isHandler(v: unknown): v is StageHandler {
  return typeof v === 'object' && v !== null && typeof (v as StageHandler).run === 'function' && typeof (v as StageHandler).name === 'string';
}
