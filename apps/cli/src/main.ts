#!/usr/bin/env node
import * as fs from 'node:fs';
import * as path from 'node:path';
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
import { registerExp } from './commands/exp';
import { registerExport } from './commands/export';
import { DEFAULT_PIPELINE } from './context';

function cliVersion(): string {
  return (JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;
}

/**
 * Exit codes (core's ExitCode): 0 ok, 1 unexpected failure, 2 usage, 3 invalid input (pipeline
 * file, params, or a stage's input data: a run whose failed stages all failed on invalid input),
 * 4 a stage failed (for any other reason; it wins over 3), 5 corrupt store (verify), 6 store busy
 * (run --no-wait), 7 Redis unavailable (--executor bullmq, worker), 130 cancelled.
 */
export const HELP_EPILOG = `
Start here:
  cbnn run pipelines/smoke.yaml     the whole method on a small subset (about a minute)
  cbnn run                          the default pipeline (${DEFAULT_PIPELINE}); a second run is fully cached
  cbnn status                       what a run would execute, and why
  cbnn <command> --help             the options of one command

Exit codes: 0 ok, 1 unexpected error, 2 usage, 3 invalid input (file/line/field named),
4 stage failed, 5 corrupt store, 6 store busy, 7 service unavailable (Redis), 130 cancelled.`;

export function buildProgram(): Command {
  const program = new Command('cbnn')
    .description('compact binary neural networks: declarative pipelines with a content-addressed cache')
    .version(cliVersion(), '-V, --version', 'print the cbnn version')
    .addHelpText('after', HELP_EPILOG)
    .exitOverride()
    .showHelpAfterError('(add --help for usage)');
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
  registerExp(program);
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
