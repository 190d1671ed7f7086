import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Queue } from 'bullmq';
import { ExitCode } from '@cbnn/core';
import { ArtifactStore } from '../src';
import { BullmqExecutor, checkRedis, checkRedisInfo, UnavailableError } from '../src/bullmq';
import { freePort, outputsOf, QueueWorkerProcess, readEvents, runDistributed, runLocal, TestRedis, uniquePrefix, waitFor } from './distributed-helpers';

// Real Redis: CI's (CBNN_TEST_REDIS_URL) or our own redis-server on a free loopback port.
let ownRedis: TestRedis | undefined;
let redisUrl: string;
const workers: QueueWorkerProcess[] = [];

beforeAll(async () => {
  if (process.env.CBNN_TEST_REDIS_URL) redisUrl = process.env.CBNN_TEST_REDIS_URL;
  else {
    ownRedis = await TestRedis.start();
    redisUrl = ownRedis.url;
  }
});
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop()));
});
afterAll(async () => {
  await ownRedis?.stop();
});

function project(yaml: string): { dir: string; file: string; store: string; localStore: string; events: (n: number) => string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbnn-dist-'));
  const file = path.join(dir, 'p.yaml');
  fs.writeFileSync(file, yaml);
  return {
    dir,
    file,
    store: path.join(dir, 'shared-store'),
    localStore: path.join(dir, 'local-store'),
    events: (n) => path.join(dir, `worker${n}.events.jsonl`),
  };
}

async function startWorkers(url: string, store: string, prefix: string, events: (n: number) => string, count = 2): Promise<QueueWorkerProcess[]> {
  // The runner creates the store (and its id) on connect; workers refuse a folder that is not there.
  fs.mkdirSync(store, { recursive: true });
  const started = Array.from({ length: count }, (_, i) => new QueueWorkerProcess(url, store, prefix, events(i + 1)));
  workers.push(...started);
  await Promise.all(started.map((w) => w.ready()));
  return started;
}

const FANOUT = `
name: fanout
stages:
  m:
    uses: test.write
    matrix: { text: [a, b, c, d] }
    name: "m-\${matrix.text}"
    with: { text: "\${matrix.text}", sleepMs: 400 }
  all: { uses: test.collect, needs: { all: "m[*]" } }
  pair: { uses: test.concat, needs: { a: m-a, b: m-b } }
`;

describe('BullMQ executor on a real Redis', () => {
  it('runs a fan-out pipeline on two worker processes, byte-identical to the local executor', async () => {
    const p = project(FANOUT);
    const prefix = uniquePrefix();
    const local = await runLocal(p.file, p.localStore);
    expect(local.ok).toBe(true);

    const [w1, w2] = await startWorkers(redisUrl, p.store, prefix, p.events);
    const logs: string[] = [];
    const store = new ArtifactStore(p.store);
    const executor = await BullmqExecutor.connect({ redis: redisUrl, store, prefix, pollMs: 300 });
    const { runPipeline, loadPipeline } = await import('../src');
    const { registry } = await import('./distributed-helpers');
    let progressSeen = 0;
    let summary;
    try {
      summary = await runPipeline(loadPipeline(p.file, { registry }), {
        store,
        executor,
        jobs: 16,
        reporter: { stageLog: (id, line) => logs.push(`${id} ${line}`), stageProgress: () => progressSeen++ },
      });
    } finally {
      await executor.close();
    }
    expect(summary.ok).toBe(true);
    expect(summary.executed).toBe(6);
    // Same output hashes = same bytes in every file of every stage.
    expect(outputsOf(summary)).toEqual(outputsOf(local));
    expect(fs.readFileSync(path.join(p.store, 'out', 'all', 'value.txt'), 'utf8')).toBe('m-a=a,m-b=b,m-c=c,m-d=d');
    // Both workers ran stages of the fan-out (each has concurrency 1, four 400 ms stages).
    const ranOn1 = readEvents(p.events(1)).filter((e) => e.event === 'start').length;
    const ranOn2 = readEvents(p.events(2)).filter((e) => e.event === 'start').length;
    expect(ranOn1 + ranOn2).toBe(6);
    expect(ranOn1).toBeGreaterThan(0);
    expect(ranOn2).toBeGreaterThan(0);
    // A worker's 'completed' event comes over its stdout, independently of the job's result in Redis, so
    // the last event may arrive just after the run returns: wait for it, then count exactly.
    const completed = () => w1.events.filter((e) => e.type === 'completed').length + w2.events.filter((e) => e.type === 'completed').length;
    await waitFor(() => completed() >= 6, 5000, 'six completed events from the workers');
    expect(completed()).toBe(6);
    // Log lines and progress of the workers reached the runner's display.
    expect(logs.some((l) => l.startsWith('m-c ') && l.includes('wrote c'))).toBe(true);
    expect(logs.some((l) => l.includes('running on worker'))).toBe(true);
    expect(progressSeen).toBeGreaterThan(0);
    // Timing of every job is recorded (for the benchmark's queue overhead).
    expect(executor.timings).toHaveLength(6);
    for (const t of executor.timings) expect(t.startedAt).toBeGreaterThanOrEqual(t.queuedAt);
    // The run record names the executor and the two workers, and which stage ran on which.
    const { readRunRecords } = await import('../src');
    const record = readRunRecords(p.store).runs.find((r) => r.id === summary.runId)!;
    expect(record.executor.name).toBe('bullmq');
    expect(record.executor.workers).toHaveLength(2);
    expect(record.stages.every((s) => s.worker !== undefined && record.executor.workers.includes(s.worker))).toBe(true);
    expect(record.stages.every((s) => (s.cpuSeconds ?? 0) > 0)).toBe(true);
    // A rerun is fully cached, without touching the queue.
    const again = await runDistributed(p.file, p.store, redisUrl, prefix);
    expect(again.summary.cached).toBe(6);
    expect(again.executor.timings).toHaveLength(0);
  });

  it('kill -9 of a worker mid-stage: the other worker retries it and the outputs are identical', async () => {
    const p = project(`
name: killed
stages:
  slow: { uses: test.write, with: { text: "slow", sleepMs: 2000 } }
  after: { uses: test.concat, needs: { a: slow } }
`);
    const prefix = uniquePrefix();
    const local = await runLocal(p.file, p.localStore);
    const pool = await startWorkers(redisUrl, p.store, prefix, p.events);
    const run = runDistributed(p.file, p.store, redisUrl, prefix);
    await waitFor(() => pool.some((w) => w.started('slow')), 10000, 'slow to start');
    const victim = pool.find((w) => w.started('slow'))!;
    const survivor = pool.find((w) => w !== victim)!;
    await new Promise((r) => setTimeout(r, 500)); // mid-stage
    victim.proc.kill('SIGKILL');
    const { summary } = await run;
    expect(summary.ok).toBe(true);
    expect(survivor.started('slow')).toBe(true);
    expect(survivor.events.some((e) => e.type === 'completed' && e.stage === 'slow')).toBe(true);
    expect(outputsOf(summary)).toEqual(outputsOf(local));
    // The killed worker's stage process died with it: it never finished its attempt.
    const victimEvents = readEvents(p.events(pool.indexOf(victim) + 1)).filter((e) => e.stage === 'slow');
    expect(victimEvents.map((e) => e.event)).toEqual(['start']);
  });

  it('Redis stopped and restarted during a run: the run resumes (or fails clearly), the store stays intact, a rerun completes', async () => {
    const redis = await TestRedis.start();
    try {
      const p = project(`
name: restart
stages:
  one: { uses: test.write, with: { text: "1", sleepMs: 1200 } }
  two: { uses: test.write, with: { text: "2", sleepMs: 1200 } }
  both: { uses: test.concat, needs: { a: one, b: two } }
`);
      const prefix = uniquePrefix();
      const local = await runLocal(p.file, p.localStore);
      const pool = await startWorkers(redis.url, p.store, prefix, p.events);
      const messages: string[] = [];
      const run = runDistributed(p.file, p.store, redis.url, prefix, { messages, unavailableAfterMs: 15000 });
      await waitFor(() => pool.some((w) => w.started('one') || w.started('two')), 10000, 'a stage to start');
      await redis.stop(); // no persistence: the queue is gone
      await new Promise((r) => setTimeout(r, 700));
      await redis.start();
      const { summary } = await run;
      if (process.env.CBNN_TEST_VERBOSE)
        console.log(
          summary.ok,
          messages,
          summary.outcomes.map((o) => `${o.id} ${o.status} ${o.note ?? ''}`),
        );
      if (summary.ok) {
        expect(outputsOf(summary)).toEqual(outputsOf(local));
      } else {
        // Failing is allowed, but clearly, naming Redis.
        expect(summary.outcomes.some((o) => /Redis at redis:\/\/127\.0\.0\.1/.test(o.note ?? ''))).toBe(true);
      }
      // Whatever happened, the store is intact and a rerun completes with the local outputs.
      const store = new ArtifactStore(p.store);
      for (const run of store.listRuns()) expect(store.checkOutput(run.output)).toEqual([]);
      const again = await runDistributed(p.file, p.store, redis.url, prefix);
      expect(again.summary.ok).toBe(true);
      expect(outputsOf(again.summary)).toEqual(outputsOf(local));
      expect(new ArtifactStore(p.store).verifyAll().corrupt).toEqual([]);
    } finally {
      await Promise.all(workers.splice(0).map((w) => w.stop()));
      await redis.stop();
    }
  });

  it('cancelling the run removes its queued jobs and stops the running one', async () => {
    const p = project(`
name: cancel
stages:
  long: { uses: test.write, with: { text: "L", sleepMs: 8000 } }
  q1: { uses: test.write, with: { text: "q1", sleepMs: 8000 } }
  q2: { uses: test.write, with: { text: "q2", sleepMs: 8000 } }
`);
    const prefix = uniquePrefix();
    const [w] = await startWorkers(redisUrl, p.store, prefix, p.events, 1);
    const abort = new AbortController();
    const t0 = Date.now();
    const run = runDistributed(p.file, p.store, redisUrl, prefix, { signal: abort.signal });
    await waitFor(() => w.events.some((e) => e.type === 'started'), 10000, 'a stage to start');
    abort.abort(new Error('SIGINT'));
    const { summary } = await run;
    expect(summary.cancelled).toBe(true);
    expect(summary.executed).toBe(0);
    await waitFor(() => w.events.some((e) => e.type === 'failed' && /cancelled/.test(String(e.message))), 5000, 'the running stage to stop');
    expect(Date.now() - t0).toBeLessThan(8000);
    const queue = new Queue('cbnn-stages', { connection: { url: redisUrl }, prefix });
    try {
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'completed');
      expect(counts).toMatchObject({ waiting: 0, active: 0, delayed: 0, completed: 0 });
    } finally {
      await queue.close();
    }
    expect(readEvents(p.events(1)).filter((e) => e.event === 'end')).toEqual([]);
  });

  it('a worker stopped with SIGTERM hands its running stage back to the queue at once', async () => {
    const p = project(`
name: handback
stages:
  slow: { uses: test.write, with: { text: "slow", sleepMs: 1500 } }
`);
    const prefix = uniquePrefix();
    const pool = await startWorkers(redisUrl, p.store, prefix, p.events);
    const run = runDistributed(p.file, p.store, redisUrl, prefix);
    await waitFor(() => pool.some((w) => w.started('slow')), 10000, 'slow to start');
    const leaving = pool.find((w) => w.started('slow'))!;
    const staying = pool.find((w) => w !== leaving)!;
    const t0 = Date.now();
    await leaving.stop();
    await waitFor(() => staying.started('slow'), 5000, 'the other worker to take the stage');
    // Well before a stall check could have noticed (lock 2 s + check every 1 s).
    expect(Date.now() - t0).toBeLessThan(1500);
    const { summary } = await run;
    expect(summary.ok).toBe(true);
    expect(leaving.events.some((e) => e.type === 'failed')).toBe(false);
  });

  it('retries a failing stage through the queue, with backoff', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbnn-dist-'));
    const counter = path.join(dir, 'counter');
    const p = project(`
name: flaky
stages:
  flaky: { uses: test.fail, retries: 2, with: { counter: "${counter}" } }
`);
    const prefix = uniquePrefix();
    await startWorkers(redisUrl, p.store, prefix, p.events);
    const messages: string[] = [];
    const logs: string[] = [];
    const store = new ArtifactStore(p.store);
    const executor = await BullmqExecutor.connect({ redis: redisUrl, store, prefix, backoffMs: 200, pollMs: 300 });
    const { runPipeline, loadPipeline } = await import('../src');
    const { registry } = await import('./distributed-helpers');
    try {
      const summary = await runPipeline(loadPipeline(p.file, { registry }), {
        store,
        executor,
        reporter: { message: (m) => messages.push(m), stageLog: (_id, l) => logs.push(l) },
      });
      expect(summary.ok).toBe(true);
      expect(fs.readFileSync(counter, 'utf8')).toBe('3');
      expect(fs.readFileSync(path.join(p.store, 'out', 'flaky', 'value.txt'), 'utf8')).toBe('ok after 3');
      expect(logs.filter((l) => /attempt \d\/3 failed: planned failure/.test(l))).toHaveLength(2);
    } finally {
      await executor.close();
    }
  });

  it('invalid input raised on a queue worker reaches the runner as an invalid-input failure, message kept, not retried', async () => {
    const counter = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cbnn-dist-bad-')), 'attempts');
    const p = project(`
name: bad-data
stages:
  data: { uses: test.bad-data, retries: 2, with: { file: photos/dog/7.png, counter: "${counter}" } }
`);
    const prefix = uniquePrefix();
    await startWorkers(redisUrl, p.store, prefix, p.events, 1);
    const store = new ArtifactStore(p.store);
    const executor = await BullmqExecutor.connect({ redis: redisUrl, store, prefix, backoffMs: 200, pollMs: 300 });
    const { runPipeline, loadPipeline, failedRunExitCode } = await import('../src');
    const { registry } = await import('./distributed-helpers');
    try {
      const summary = await runPipeline(loadPipeline(p.file, { registry }), { store, executor });
      const data = summary.outcomes[0];
      expect(data.status).toBe('failed');
      expect(data.failure).toBe('invalid-input');
      expect(data.note).toContain('photos/dog/7.png: not a PNG or JPEG image');
      expect(data.note).not.toContain('[invalid-input]');
      expect(failedRunExitCode(summary.outcomes)).toBe(3);
      expect(fs.existsSync(path.join(p.store, 'out', 'data'))).toBe(false);
      // The queue gave up at once (UnrecoverableError) although the stage allows 2 retries.
      expect(fs.readFileSync(counter, 'utf8')).toBe('1');
    } finally {
      await executor.close();
    }
  });
});

describe('Redis that cannot carry the queue', () => {
  it('unreachable: a clear error naming the URL, exit code unavailable, nothing written', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    const root = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cbnn-dist-')), 'store');
    const err = await BullmqExecutor.connect({ redis: url, store: new ArtifactStore(root) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as UnavailableError).exitCode).toBe(ExitCode.unavailable);
    expect((err as Error).message).toBe(`cannot reach Redis at ${url}: connection refused`);
    expect(fs.existsSync(root)).toBe(false);
  });

  it('authentication refused: says so, with the password hidden', async () => {
    const redis = await TestRedis.start.call(TestRedis, ['--requirepass', 's3cret']);
    try {
      await expect(checkRedis(redis.url)).rejects.toThrow(new RegExp(`^Redis at redis://127.0.0.1:${redis.port} refused authentication: NOAUTH`));
      const wrong = `redis://:nope@127.0.0.1:${redis.port}`;
      const err = (await checkRedis(wrong).catch((e: unknown) => e)) as UnavailableError;
      expect(err.exitCode).toBe(ExitCode.unavailable);
      expect(err.message).toMatch(/refused authentication: WRONGPASS/);
      expect(err.message).toContain(`redis://:***@127.0.0.1:${redis.port}`);
      expect(err.message).not.toContain('nope');
      await expect(checkRedis(`redis://:s3cret@127.0.0.1:${redis.port}`)).resolves.toEqual({ version: expect.stringMatching(/^\d+\.\d+/) });
    } finally {
      await redis.stop();
    }
  });

  it('a version below 5.0 is refused (INFO server)', () => {
    expect(() => checkRedisInfo('# Server\r\nredis_version:4.0.14\r\n', 'redis://h:1')).toThrow(
      'Redis at redis://h:1 is version 4.0.14; BullMQ needs Redis >= 5.0.0',
    );
    expect(checkRedisInfo('# Server\r\nredis_version:7.0.15\r\n', 'redis://h:1')).toEqual({ version: '7.0.15' });
  });
});
