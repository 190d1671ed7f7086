import * as path from 'node:path';
import { createStageRegistry, CbnnError, ExitCode } from '@cbnn/core';
import { ArtifactStore, defaultStoreRoot, loadPipeline, type ResolvedPipeline } from '@cbnn/pipeline';
import { handlerDescriptors } from './handlers';

export const DEFAULT_PIPELINE = 'pipelines/mnist.yaml';

export interface PipelineOptions {
  set?: string[];
  store?: string;
}

export function openPipeline(file: string | undefined, opts: PipelineOptions): { pipeline: ResolvedPipeline; store: ArtifactStore } {
  const pipelineFile = path.resolve(file ?? DEFAULT_PIPELINE);
  const pipeline = loadPipeline(pipelineFile, { registry: createStageRegistry(handlerDescriptors()), set: opts.set ?? [] });
  const store = new ArtifactStore(opts.store ? path.resolve(opts.store) : defaultStoreRoot(pipelineFile));
  return { pipeline, store };
}

export function workerScript(): string {
  return path.join(__dirname, 'stage-worker.js');
}

/** Commander collects repeated `--set k=v`. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

export class CommandError extends CbnnError {
  constructor(message: string, exitCode: ExitCode = ExitCode.failure) {
    super('command', message, { exitCode });
  }
}
