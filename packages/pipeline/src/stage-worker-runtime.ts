import * as fs from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import type { z } from 'zod';
import { createStageRegistry, describeZodError, isCbnnError, type StageHandler, type ThreadBudget } from '@cbnn/core';
import type { ParentMessage, StageJob, StageJobResult, WorkerMessage } from './executor';
import { processCpuSeconds } from './process-cpu';
import { failureCodeOf } from './stage-failure';

const STDERR_TAIL = 20;

/**
 * Finds the handler a job names, loading its package only then (a worker runs one stage, so it
 * loads one handler package). Undefined for a name it does not know.
 */
export type HandlerLoader = (name: string) => Promise<StageHandler | undefined>;

function registryLoader(registry: ReadonlyMap<string, StageHandler>): HandlerLoader {
  return async (name) => registry.get(name);
}

/**
 * The body of a stage worker process (forked by the local executor). A worker entry script is
 * two lines: `runStageWorker(require('./handlers').allHandlers())`. It receives one job over IPC,
 * runs the handler (or the job's command), streams progress and log lines back, and exits. When
 * the runner goes away (even by SIGKILL: the IPC channel closes) or cancels, it kills what it
 * started and exits, so nothing keeps writing into a dead run's folders.
 */
export function runStageWorker(handlers: Iterable<StageHandler<any>> | HandlerLoader): void {
  const load: HandlerLoader = typeof handlers === 'function' ? handlers : registryLoader(createStageRegistry(handlers));
  const abort = new AbortController();
  let child: ChildProcess | undefined;
  // The runner's live count for this stage (it moves threads to the critical stage).
  let threads = 0;
  const send = (m: WorkerMessage): void => {
    if (process.connected) process.send!(m);
  };
  const stop = (code: number): void => {
    abort.abort(new Error('cancelled'));
    killGroup(child);
    setTimeout(() => process.exit(code), 500).unref();
  };
  process.on('disconnect', () => stop(1));
  process.on('SIGTERM', () => stop(143));
  process.on('SIGINT', () => undefined); // the runner decides; Ctrl-C reaches the whole group
  process.on('message', (msg: ParentMessage) => {
    if (msg.type === 'cancel') return stop(130);
    if (msg.type === 'threads') return void (threads = msg.threads);
    if (msg.type !== 'run') return;
    threads = msg.job.threads;
    const budget: ThreadBudget = {
      current: () => threads,
      canUse: (max) => send({ type: 'threads-usable', max }),
      adopted: (n) => send({ type: 'threads-adopted', threads: n }),
    };
    runJob(msg.job, load, abort.signal, send, (c) => (child = c), budget).then(
      (result) => {
        send({ type: 'done', result: { ...result, cpuSeconds: processCpuSeconds() } });
        process.disconnect?.();
      },
      (e: unknown) => {
        const err = e as Error & { stderrTail?: string[] };
        // A CbnnError is the user's to fix: its message names the file, line or field (and a hint);
        // a stack is only useful for anything else, which is a bug.
        const message = isCbnnError(e) ? e.userMessage() : err.stack && !err.stderrTail ? `${err.message}\n${stackTail(err.stack)}` : err.message;
        send({ type: 'error', message, stderrTail: err.stderrTail, code: failureCodeOf(e) });
        process.disconnect?.();
      },
    );
  });
}

async function runJob(
  job: StageJob,
  load: HandlerLoader,
  signal: AbortSignal,
  send: (m: WorkerMessage) => void,
  setChild: (c: ChildProcess) => void,
  threadBudget: ThreadBudget,
): Promise<StageJobResult> {
  const logLine = (line: string): void => {
    fs.appendFileSync(job.logFile, line.endsWith('\n') ? line : line + '\n');
    send({ type: 'log', line: line.trimEnd() });
  };
  if (job.kind === 'cmd') return runCommand(job, signal, logLine, setChild);

  const handler = await load(job.handler ?? '');
  if (!handler) throw new Error(`this worker has no handler '${job.handler}'`);
  if (handler.version !== job.handlerVersion) {
    throw new Error(`handler '${handler.name}' is version ${handler.version} in the worker but ${job.handlerVersion} in the runner (rebuild?)`);
  }
  const parsed = (handler.params as z.ZodType).safeParse(job.params);
  if (!parsed.success) throw new Error(`params of '${job.stage}': ${describeZodError(parsed.error, 'with')}`);
  // pino loads in the worker only: the runner's light commands share this module.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const pino = require('pino') as typeof import('pino');
  const logger = pino({ name: job.stage, level: process.env.CBNN_LOG_LEVEL ?? 'info', base: { stage: job.stage } }, { write: (s: string) => logLine(s) });
  const result = await handler.run({
    stage: job.stage,
    params: parsed.data,
    inputs: job.inputs,
    outDir: job.outDir,
    tmpDir: job.tmpDir,
    checkpointDir: job.checkpointDir,
    logger,
    progress: { update: (update) => send({ type: 'progress', update }) },
    signal,
    seed: job.seed,
    threads: job.threads,
    // A pinned count (`threads:` in the pipeline) never changes: the stage gets no budget to follow.
    ...(job.threadsPinned ? {} : { threadBudget }),
  });
  return { metrics: result?.metrics };
}

/**
 * A cmd stage: `sh -c` in the pipeline's folder. `${outDir}`, `${tmpDir}`, `${inputs.NAME}` in
 * the command are replaced by (quoted) paths; the same paths are in CBNN_OUT_DIR, CBNN_TMP_DIR,
 * CBNN_INPUT_<NAME>, the params as JSON in CBNN_PARAMS, the seed in CBNN_SEED.
 */
function runCommand(job: StageJob, signal: AbortSignal, logLine: (l: string) => void, setChild: (c: ChildProcess) => void): Promise<StageJobResult> {
  const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  const command = (job.cmd ?? '').replace(/\$\{(outDir|tmpDir|inputs\.([A-Za-z0-9_-]+))\}/g, (m, what: string, input?: string) => {
    if (what === 'outDir') return quote(job.outDir);
    if (what === 'tmpDir') return quote(job.tmpDir);
    const p = input !== undefined ? job.inputs[input] : undefined;
    return p === undefined ? m : quote(p);
  });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CBNN_STAGE: job.stage,
    CBNN_OUT_DIR: job.outDir,
    CBNN_TMP_DIR: job.tmpDir,
    ...(job.checkpointDir ? { CBNN_CHECKPOINT_DIR: job.checkpointDir } : {}),
    CBNN_SEED: String(job.seed),
    CBNN_THREADS: String(job.threads),
    CBNN_PARAMS: JSON.stringify(job.params),
  };
  for (const [name, p] of Object.entries(job.inputs)) env[`CBNN_INPUT_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`] = p;
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', command], { cwd: job.cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    setChild(child);
    const tail: string[] = [];
    const lines = (stream: 'stdout' | 'stderr') => {
      let buf = '';
      return (chunk: Buffer) => {
        buf += chunk.toString('utf8');
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          emit(stream, buf.slice(0, i));
          buf = buf.slice(i + 1);
        }
      };
    };
    const emit = (stream: 'stdout' | 'stderr', text: string): void => {
      if (stream === 'stderr') {
        tail.push(text);
        if (tail.length > STDERR_TAIL) tail.shift();
      }
      logLine(JSON.stringify({ level: stream === 'stderr' ? 40 : 30, time: Date.now(), stage: job.stage, stream, msg: text }));
    };
    child.stdout!.on('data', lines('stdout'));
    child.stderr!.on('data', lines('stderr'));
    const onAbort = (): void => killGroup(child);
    signal.addEventListener('abort', onAbort, { once: true });
    child.on('error', (e) => reject(e));
    child.on('close', (code, sig) => {
      signal.removeEventListener('abort', onAbort);
      if (code === 0) return resolve({});
      const err = new Error(`command exited with ${sig ? `signal ${sig}` : `code ${code}`}`) as Error & { stderrTail?: string[] };
      err.stderrTail = tail;
      reject(err);
    });
  });
}

function killGroup(child: ChildProcess | undefined): void {
  if (!child?.pid || child.exitCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}

function stackTail(stack: string): string {
  return stack.split('\n').slice(1, 6).join('\n');
}
