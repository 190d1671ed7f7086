import * as path from 'node:path';
import { InvalidArgumentError } from 'commander';
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

/**
 * An option value that must be a positive integer. Commander turns InvalidArgumentError into a
 * usage error naming the option (exit 2), not an unexpected error with a stack trace.
 */
export function positiveInteger(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a positive integer, got '${v}'`);
  return n;
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
