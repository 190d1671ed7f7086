import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { createStageRegistry } from '@cbnn/core';
import { ArtifactStore, LocalExecutor, loadPipeline, runPipeline, type RunSummary } from '../src';
import { BullmqExecutor } from '../src/bullmq';
import { testHandlers, workerScript } from './helpers';

export const registry = createStageRegistry(testHandlers);
const queueWorkerScript = path.join(__dirname, 'fixtures', 'distributed-worker.js');

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

/** A redis-server of our own on a loopback port, no persistence. */
export class TestRedis {
  private proc?: ChildProcess;
  constructor(
    readonly port: number,
    private readonly extra: string[] = [],
  ) {}
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }
  static async start(extra: string[] = []): Promise<TestRedis> {
    const r = new TestRedis(await freePort(), extra);
    await r.start();
    return r;
  }
  async start(): Promise<void> {
    this.proc = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...this.extra], {
      stdio: 'ignore',
    });
    await waitFor(() => canConnect(this.port), 5000, `redis-server on port ${this.port}`);
  }
  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await exited;
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.end();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A `startStageQueueWorker` process; its JSON events are collected. */
export class QueueWorkerProcess {
  readonly events: Array<Record<string, unknown> & { type: string }> = [];
  readonly proc: ChildProcess;
  stderr = '';
  constructor(redisUrl: string, store: string, prefix: string, eventsFile: string, concurrency = 1) {
    this.proc = spawn(process.execPath, [queueWorkerScript, redisUrl, store, prefix, String(concurrency)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, CBNN_TEST_EVENTS: eventsFile },
    });
    let buf = '';
    this.proc.stdout!.on('data', (c: Buffer) => {
      buf += c.toString();
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        this.events.push(JSON.parse(buf.slice(0, i)));
        buf = buf.slice(i + 1);
      }
    });
    this.proc.stderr!.on('data', (c: Buffer) => (this.stderr += c.toString()));
  }
  ready(): Promise<void> {
    return waitFor(() => this.events.some((e) => e.type === 'ready'), 10000, `queue worker ready (stderr: ${this.stderr})`);
  }
  started(stage: string): boolean {
    return this.events.some((e) => e.type === 'started' && e.stage === stage);
  }
  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = new Promise((r) => this.proc.once('exit', r));
    this.proc.kill('SIGTERM');
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  }
}

let prefixSeq = 0;
export function uniquePrefix(): string {
  return `cbnn-test-${process.pid}-${Date.now().toString(36)}-${++prefixSeq}`;
}

export async function runLocal(file: string, storeRoot: string): Promise<RunSummary> {
  const executor = new LocalExecutor({ workerScript });
  try {
    return await runPipeline(loadPipeline(file, { registry }), { store: new ArtifactStore(storeRoot), executor, jobs: 2 });
  } finally {
    await executor.close();
  }
}

export async function runDistributed(
  file: string,
  storeRoot: string,
  redis: string,
  prefix: string,
  extra: { signal?: AbortSignal; messages?: string[]; unavailableAfterMs?: number } = {},
): Promise<{ summary: RunSummary; executor: BullmqExecutor }> {
  const store = new ArtifactStore(storeRoot);
  const executor = await BullmqExecutor.connect({
    redis,
    store,
    prefix,
    backoffMs: 200,
    pollMs: 300,
    unavailableAfterMs: extra.unavailableAfterMs,
    onMessage: (m) => extra.messages?.push(m),
  });
  try {
    const summary = await runPipeline(loadPipeline(file, { registry }), {
      store,
      executor,
      jobs: 16,
      signal: extra.signal,
      reporter: { message: (m) => extra.messages?.push(m) },
    });
    return { summary, executor };
  } finally {
    await executor.close();
  }
}

/** instance -> output hash (a folder manifest hash: equal hashes = byte-identical folders). */
export function outputsOf(summary: RunSummary): Record<string, string | undefined> {
  return Object.fromEntries(summary.outcomes.map((o) => [o.id, o.output]));
}

export function readEvents(file: string): Array<{ stage: string; event: string; t: number }> {
  return fs.existsSync(file)
    ? fs
        .readFileSync(file, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l))
    : [];
}
