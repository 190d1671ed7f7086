#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { ExitCode, isCbnnError } from '@cbnn/core';
import { registerRun } from './commands/run';
import { registerStatus } from './commands/status';
import { registerDag } from './commands/dag';
import { registerWhy } from './commands/why';
import { registerVerify } from './commands/verify';
import { registerGc } from './commands/gc';
import { registerWorker } from './commands/worker';
import { registerReport } from './commands/report';
import { registerBench } from './commands/bench';
import { registerExport } from './commands/export';

/**
 * Exit codes (core's ExitCode): 0 ok, 1 unexpected failure, 2 usage, 3 invalid input (pipeline
 * file, params), 4 a stage failed, 5 corrupt store (verify), 6 store busy (run --no-wait),
 * 7 Redis unavailable (--executor bullmq, worker), 130 cancelled.
 */
export function buildProgram(): Command {
  const program = new Command('cbnn')
    .description('compact binary neural networks: declarative pipelines with a content-addressed cache')
    .exitOverride()
    .showHelpAfterError();
  // One file per command in commands/; register new ones (worker, report, bench) here.
  registerRun(program);
  registerStatus(program);
  registerDag(program);
  registerWhy(program);
  registerVerify(program);
  registerGc(program);
  registerWorker(program);
  registerReport(program);
  registerBench(program);
  registerExport(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.ok;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    if (isCbnnError(e)) {
      process.stderr.write(`cbnn: ${e.userMessage()}\n`);
      return e.exitCode;
    }
    process.stderr.write(`cbnn: unexpected error: ${(e as Error).stack ?? String(e)}\n`);
    return ExitCode.failure;
  }
}

if (require.main === module) {
  void main(process.argv).then((code) => {
    process.exitCode = code;
  });
}
