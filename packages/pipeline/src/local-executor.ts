import * as path from 'node:path';
import { fork, type ChildProcess } from 'node:child_process';
import { CancelledError, StageFailedError } from '@cbnn/core';
import { stageFailedError } from './stage-failure';
import type { Executor, ParentMessage, StageJob, StageJobControl, StageJobEvents, StageJobResult, WorkerMessage } from './executor';

export interface LocalExecutorOptions {
  /** Worker entry script for handler stages (it calls runStageWorker with its handlers). */
  workerScript: string;
  /** Worker for cmd stages (default: this package's light cmd-worker). */
  cmdWorkerScript?: string;
  execArgv?: string[];
  /** After a cancel, how long a worker gets before SIGKILL. */
  killGraceMs?: number;
}

/** Runs every stage attempt in its own child process (`child_process.fork`). */
export class LocalExecutor implements Executor {
  readonly name = 'local';
  private readonly children = new Set<ChildProcess>();

  constructor(private readonly options: LocalExecutorOptions) {}

  run(job: StageJob, events: StageJobEvents, signal: AbortSignal, control?: StageJobControl): Promise<StageJobResult> {
    const script = job.kind === 'cmd' ? (this.options.cmdWorkerScript ?? path.join(__dirname, 'cmd-worker.js')) : this.options.workerScript;
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(new CancelledError(`stage '${job.stage}' cancelled`));
      const child = fork(script, [], {
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
        execArgv: this.options.execArgv ?? [],
        env: { ...process.env, CBNN_STAGE: job.stage },
        serialization: 'json',
      });
      this.children.add(child);
      const stderrTail: string[] = [];
      const collect = (chunk: Buffer): void => {
        for (const line of chunk.toString('utf8').split('\n')) {
          if (!line.trim()) continue;
          stderrTail.push(line);
          if (stderrTail.length > 20) stderrTail.shift();
          events.log(JSON.stringify({ level: 40, time: Date.now(), stage: job.stage, stream: 'worker', msg: line }));
        }
      };
      child.stdout!.on('data', collect);
      child.stderr!.on('data', collect);
      let outcome: { ok: true; result: StageJobResult } | { ok: false; message: string; tail?: string[]; code?: string } | undefined;
      let cancelled = false;
      child.on('message', (m: WorkerMessage) => {
        if (m.type === 'progress') events.progress(m.update);
        else if (m.type === 'log') events.log(m.line);
        else if (m.type === 'threads-usable') events.threadsUsable?.(m.max);
        else if (m.type === 'threads-adopted') events.threadsAdopted?.(m.threads);
        else if (m.type === 'done') outcome = { ok: true, result: m.result };
        else if (m.type === 'error') outcome = { ok: false, message: m.message, tail: m.stderrTail, code: m.code };
      });
      const onAbort = (): void => {
        cancelled = true;
        if (child.connected) child.send({ type: 'cancel' } satisfies ParentMessage);
        child.kill('SIGTERM');
        setTimeout(() => child.exitCode === null && child.kill('SIGKILL'), this.options.killGraceMs ?? 2000).unref();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      child.on('error', (e) => {
        outcome ??= { ok: false, message: `cannot start worker ${script}: ${e.message}` };
      });
      child.on('exit', (code, sig) => {
        this.children.delete(child);
        signal.removeEventListener('abort', onAbort);
        if (cancelled) {
          const reason = signal.reason instanceof Error ? signal.reason.message : 'cancelled';
          return reject(reason.startsWith('timeout') ? new StageFailedError(job.stage, reason) : new CancelledError(`stage '${job.stage}' cancelled`));
        }
        if (outcome?.ok) return resolve(outcome.result);
        const message = outcome ? outcome.message : `worker exited with ${sig ? `signal ${sig}` : `code ${code}`} before finishing`;
        const tail = outcome && !outcome.ok && outcome.tail?.length ? outcome.tail : stderrTail;
        reject(
          stageFailedError(
            job.stage,
            tail.length ? `${message}\n  stderr (last ${tail.length} lines):\n${tail.map((l) => `    ${l}`).join('\n')}` : message,
            outcome && !outcome.ok ? outcome.code : undefined,
          ),
        );
      });
      child.send({ type: 'run', job } satisfies ParentMessage);
      // The stage adopts a new count when it can (ctx.threadBudget); a finished one ignores it.
      control?.onThreads((threads) => {
        if (child.connected && child.exitCode === null) child.send({ type: 'threads', threads } satisfies ParentMessage);
      });
    });
  }

  async close(): Promise<void> {
    for (const c of this.children) c.kill('SIGKILL');
    this.children.clear();
  }
}
