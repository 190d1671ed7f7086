import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { TestRedis, uniquePrefix, waitFor } from './distributed-helpers';

// Fault tests on real work: the `cbnn` CLI as a user runs it (its real stage handlers: a dataset of
// embedded MNIST digits and a tiny binary network trained for a few seconds), on a redis-server of
// our own (restarted in one test). Needs the CLI built: `pnpm test` builds everything first.
const CLI = path.resolve(__dirname, '../../../apps/cli/dist/main.js');
// threads: 1 pins the training to one thread on every worker, so that a model trained on any
// worker is the same bytes (the hash comparison below is the point of these tests).
const PIPELINE = `
name: real-work
seed: 7
stages:
  data:
    uses: bitslice.dataset
    with: { source: mnist, limit: { perClass: 30 }, fractions: { validation: 0.2, test: 0.2 } }
  train:
    uses: train.bnn
    needs: { dataset: data }
    threads: 1
    with: { width: 0.125, epochs: 3, batchSize: 32, backend: wasm, recalibrationSamples: 64 }
`;

interface Done {
  code: number | null;
  stdout: string;
  stderr: string;
}

class Cli {
  readonly proc: ChildProcess;
  stdout = '';
  stderr = '';
  readonly done: Promise<Done>;
  constructor(args: string[], cwd: string) {
    this.proc = spawn(process.execPath, [CLI, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    this.proc.stdout!.on('data', (c: Buffer) => (this.stdout += c.toString()));
    this.proc.stderr!.on('data', (c: Buffer) => (this.stderr += c.toString()));
    this.done = new Promise((resolve) => this.proc.once('exit', (code) => resolve({ code, stdout: this.stdout, stderr: this.stderr })));
  }
  get exited(): boolean {
    return this.proc.exitCode !== null || this.proc.signalCode !== null;
  }
  async stop(): Promise<void> {
    if (this.exited) return;
    this.proc.kill('SIGTERM');
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
    await this.done;
    clearTimeout(t);
  }
}

const running: Cli[] = [];
let redis: TestRedis;
let reference: Record<string, string>;

function project(): { dir: string; store: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbnn-real-work-'));
  fs.writeFileSync(path.join(dir, 'p.yaml'), PIPELINE);
  return { dir, store: path.join(dir, 'shared-store') };
}

function cli(args: string[], cwd: string): Cli {
  const c = new Cli(args, cwd);
  running.push(c);
  return c;
}

/** A `cbnn worker` with short locks, so that a dead worker's job is back in the queue within seconds. */
async function worker(redisUrl: string, store: string, prefix: string, cwd: string): Promise<Cli> {
  fs.mkdirSync(store, { recursive: true });
  const w = cli(['worker', '--redis', redisUrl, '--store', store, '--prefix', prefix, '--lock-duration', '2000', '--stalled-interval', '1000'], cwd);
  await waitFor(() => / ready: /.test(w.stderr) || w.exited, 20000, `worker ready (stderr: ${w.stderr})`);
  return w;
}

/**
 * What must not depend on where or how often a stage ran: the dataset's output hash, and the
 * trained model's files (engine model and TensorFlow.js weights). The train stage's whole output
 * folder also holds wall-clock figures (epochs.jsonl `seconds`, model-info.json
 * `samplesPerSecond`), so its folder hash differs between any two runs, local ones included.
 */
function outputs(stdout: string, store: string): Record<string, string> {
  const summary = JSON.parse(stdout) as { outcomes: { id: string; output?: string }[] };
  const byId = Object.fromEntries(summary.outcomes.map((o) => [o.id, o.output!]));
  const model = path.join(store, 'out', 'train');
  const files = [
    'model.cbnn',
    ...fs
      .readdirSync(path.join(model, 'tfjs'))
      .sort()
      .map((f) => `tfjs/${f}`),
  ];
  const hash = createHash('sha256');
  for (const f of files) hash.update(f).update(fs.readFileSync(path.join(model, f)));
  return { data: byId.data, model: hash.digest('hex') };
}

function runArgs(store: string, redisUrl: string, prefix: string): string[] {
  return ['run', 'p.yaml', '--store', store, '--executor', 'bullmq', '--redis', redisUrl, '--prefix', prefix, '--json'];
}

beforeAll(async () => {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: build the CLI first (npx -y pnpm@12.21.0 build)`);
  // Our own server (not CI's): one test restarts it.
  redis = await TestRedis.start();
  // The uninterrupted run every distributed result must equal, byte for byte.
  const p = project();
  const local = await cli(['run', 'p.yaml', '--store', p.store, '--json'], p.dir).done;
  expect(local.code).toBe(0);
  reference = outputs(local.stdout, p.store);
}, 120_000);

afterEach(async () => {
  await Promise.all(running.splice(0).map((c) => c.stop()));
});

afterAll(async () => {
  await redis?.stop();
});

describe('distributed runs of real training (cbnn worker + cbnn run --executor bullmq)', () => {
  it('a worker SIGKILLed mid-training: the other worker retries the stage and the model is the same bytes', async () => {
    const p = project();
    const prefix = uniquePrefix();
    const pool = [await worker(redis.url, p.store, prefix, p.dir), await worker(redis.url, p.store, prefix, p.dir)];
    const run = cli(runArgs(p.store, redis.url, prefix), p.dir);
    await waitFor(() => pool.some((w) => /start train /.test(w.stderr)), 60000, 'train to start on a worker');
    const victim = pool.find((w) => /start train /.test(w.stderr))!;
    const survivor = pool.find((w) => w !== victim)!;
    await new Promise((r) => setTimeout(r, 1500)); // in the middle of the first epochs
    expect(/done {2}train/.test(victim.stderr)).toBe(false);
    victim.proc.kill('SIGKILL');
    const result = await run.done;
    expect(result.code).toBe(0);
    expect(survivor.stderr).toMatch(/start train \(job [^)]*, attempt \d\)/);
    expect(survivor.stderr).toMatch(/done {2}train/);
    expect(outputs(result.stdout, p.store)).toEqual(reference);
    // The pipeline's threads: 1 reached the training on the worker (its own share would be 2 cores).
    const train = (JSON.parse(result.stdout) as { outcomes: { id: string; metrics?: Record<string, unknown>; threads?: unknown }[] }).outcomes.find(
      (o) => o.id === 'train',
    )!;
    expect(train.metrics?.threads).toBe(1);
    // The worker's count is what the schedule records (the runner's budget is local).
    expect(train.threads).toEqual([{ atMs: 0, threads: 1 }]);
  }, 180_000);

  it('Redis restarted during training: the run resumes or exits 7 naming Redis; the store stays intact and a rerun gives the same model', async () => {
    const p = project();
    const prefix = uniquePrefix();
    await worker(redis.url, p.store, prefix, p.dir);
    const w2 = await worker(redis.url, p.store, prefix, p.dir);
    const run = cli([...runArgs(p.store, redis.url, prefix)], p.dir);
    await waitFor(() => running.some((c) => /start train /.test(c.stderr)), 60000, 'train to start on a worker');
    await new Promise((r) => setTimeout(r, 1000));
    await redis.stop(); // no persistence: the queue and the job are gone
    await new Promise((r) => setTimeout(r, 1000));
    await redis.start();
    const result = await run.done;
    if (result.code === 0) {
      expect(outputs(result.stdout, p.store)).toEqual(reference);
    } else {
      expect(result.code).toBe(7);
      expect(result.stderr).toMatch(/Redis at redis:\/\/127\.0\.0\.1/);
    }
    expect(w2.exited).toBe(false);
    // Nothing half-written: every object in the store re-hashes to its name.
    const verify = await cli(['verify', '--store', p.store], p.dir).done;
    expect(verify.code).toBe(0);
    const again = await cli(runArgs(p.store, redis.url, prefix), p.dir).done;
    expect(again.code).toBe(0);
    expect(outputs(again.stdout, p.store)).toEqual(reference);
  }, 180_000);

  it("a worker whose --store is not the runner's is refused at start, naming both folders", async () => {
    const p = project();
    const prefix = uniquePrefix();
    // A runner announces its store when it connects; one quick real stage is enough.
    await worker(redis.url, p.store, prefix, p.dir);
    const first = await cli([...runArgs(p.store, redis.url, prefix), '--stage', 'data'], p.dir).done;
    expect(first.code).toBe(0);
    for (const wrong of [path.join(p.dir, 'empty-mount'), path.join(p.dir, 'other-store')]) {
      fs.mkdirSync(wrong, { recursive: true });
      if (wrong.endsWith('other-store')) {
        // Another runner's store (its own id in state/store-id), as when two projects' stores are mixed up.
        fs.mkdirSync(path.join(wrong, 'state'));
        fs.writeFileSync(path.join(wrong, 'state', 'store-id'), 'f'.repeat(32) + '\n');
      }
      const w = cli(['worker', '--redis', redis.url, '--store', wrong, '--prefix', prefix], p.dir);
      const refused = await w.done;
      expect(refused.code).toBe(3);
      expect(refused.stderr).toContain(`--store ${wrong} is not the runner's store: the runner uses ${p.store} on ${os.hostname()}`);
      expect(refused.stderr).toMatch(wrong.endsWith('empty-mount') ? /has no store id/ : /has store id f{32}/);
    }
  }, 120_000);
});
