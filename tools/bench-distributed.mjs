#!/usr/bin/env node
// Queue overhead benchmark (not parallel work: tools/bench-distributed-real.mjs measures that): a
// sweep of candidate stages that spin until a wall-clock deadline, run by 1 vs 2 queue workers
// (BullMQ on a redis-server of our own), and the local executor for reference. A spinning stage
// takes --stage-ms however much CPU it gets, so its speedup is bounded by construction.
// Reports wall time and speedup (median of --repeats, with min-max), and the queue overhead per
// job: ready -> started (queued by the runner until a worker starts it), commit (worker puts the
// output into the store), and result latency (commit done -> the runner knows).
//
//   node tools/bench-distributed.mjs [--stages 6] [--stage-ms 2000] [--repeats 3] [--json]
//
// Needs: packages/pipeline built (npx tsc -b), redis-server on PATH. The stages are `cmd:` stages
// spinning the CPU for --stage-ms (real training: tools/bench-distributed-real.mjs). Numbers are
// noisy on a shared machine.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as net from 'node:net';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const p = { ...require(path.join(root, 'packages/pipeline/dist/index.js')), ...require(path.join(root, 'packages/pipeline/dist/bullmq.js')) };
const core = require(path.join(root, 'packages/core/dist/index.js'));

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const STAGES = opt('stages', 6);
const STAGE_MS = opt('stage-ms', 2000);
const REPEATS = opt('repeats', 3);
const JSON_OUT = args.includes('--json');

const freePort = () =>
  new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = s.address().port;
      s.close(() => resolve(port));
    });
  });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const stats = (xs) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs), n: xs.length });

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cbnn-bench-dist-'));
const spin = path.join(work, 'spin.js');
// Burn CPU for the given ms, then write a result that depends on the candidate only.
fs.writeFileSync(
  spin,
  `const [ms, name, out] = process.argv.slice(2);
const end = Date.now() + Number(ms); let x = 0;
while (Date.now() < end) for (let i = 0; i < 1e5; i++) x = (x * 31 + i) >>> 0;
require('fs').writeFileSync(out + '/result.txt', 'candidate ' + name + '\\n');\n`,
);
const pipelineFile = path.join(work, 'sweep.yaml');
fs.writeFileSync(
  pipelineFile,
  `name: sweep
params: { salt: 0 }
stages:
  candidate:
    matrix: { n: [${Array.from({ length: STAGES }, (_, i) => i + 1).join(', ')}] }
    name: "candidate-\${matrix.n}"
    cmd: "node ${spin} ${STAGE_MS} \${matrix.n}-\${params.salt} \${outDir}"
    deps: [spin.js]
  pick:
    cmd: "ls \${inputs.all} > \${outDir}/picked.txt"
    needs: { all: "candidate[*]" }
`,
);
const registry = core.createStageRegistry([]);

const port = await freePort();
const redisUrl = `redis://127.0.0.1:${port}`;
const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
for (let i = 0; i < 100; i++) {
  try {
    await p.checkRedis(redisUrl);
    break;
  } catch {
    await sleep(50);
  }
}

function startWorker(storeRoot, prefix) {
  const script = `const p = { ...require(${JSON.stringify(path.join(root, 'packages/pipeline/dist/index.js'))}), ...require(${JSON.stringify(path.join(root, 'packages/pipeline/dist/bullmq.js'))}) };
p.startStageQueueWorker({ redis: ${JSON.stringify(redisUrl)}, store: ${JSON.stringify(storeRoot)}, prefix: ${JSON.stringify(prefix)},
  workerScript: ${JSON.stringify(path.join(root, 'packages/pipeline/dist/cmd-worker.js'))},
  onEvent: (e) => e.type === 'ready' && process.stdout.write('ready\\n') })
  .then((w) => process.on('SIGTERM', () => w.close().then(() => process.exit(0))));`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const ready = new Promise((resolve) => child.stdout.on('data', (d) => d.toString().includes('ready') && resolve()));
  return { child, ready };
}

let seq = 0;
async function runOnce(config) {
  const storeRoot = path.join(work, `store-${++seq}`);
  fs.mkdirSync(storeRoot, { recursive: true });
  const pipeline = p.loadPipeline(pipelineFile, { registry, set: [`salt=${seq}`] });
  const store = new p.ArtifactStore(storeRoot);
  if (config.kind === 'local') {
    const executor = new p.LocalExecutor({ workerScript: path.join(root, 'packages/pipeline/dist/cmd-worker.js') });
    const t0 = Date.now();
    const s = await p.runPipeline(pipeline, { store, executor, jobs: config.n });
    await executor.close();
    if (!s.ok) throw new Error('local run failed');
    return { wallMs: Date.now() - t0, timings: [] };
  }
  const prefix = `bench-${process.pid}-${seq}`;
  const executor = await p.BullmqExecutor.connect({ redis: redisUrl, store, prefix });
  const workers = Array.from({ length: config.n }, () => startWorker(storeRoot, prefix));
  await Promise.all(workers.map((w) => w.ready));
  const t0 = Date.now();
  const s = await p.runPipeline(pipeline, { store, executor, jobs: 64 });
  const wallMs = Date.now() - t0;
  await executor.close();
  await Promise.all(
    workers.map(
      (w) =>
        new Promise((r) => {
          w.child.once('exit', r);
          w.child.kill('SIGTERM');
        }),
    ),
  );
  if (!s.ok) throw new Error(`bullmq run failed: ${JSON.stringify(s.outcomes.filter((o) => o.status !== 'ran'))}`);
  return { wallMs, timings: executor.timings };
}

// Queue overhead proper: from the moment a job could start (queued, and its worker free after
// its previous job) to the moment it started; ready->started also counts waiting for a free worker.
function dispatchLatencies(timings) {
  const out = [];
  const byRun = new Map();
  for (const t of timings) {
    const k = t.worker;
    if (!byRun.has(k)) byRun.set(k, []);
    byRun.get(k).push(t);
  }
  for (const list of byRun.values()) {
    list.sort((a, b) => a.startedAt - b.startedAt);
    let freeAt = 0;
    for (const t of list) {
      out.push(t.startedAt - Math.max(t.queuedAt, freeAt));
      freeAt = t.startedAt + t.ranMs + t.commitMs;
    }
  }
  return out;
}

const configs = [
  { label: 'bullmq, 1 worker', kind: 'bullmq', n: 1 },
  { label: 'bullmq, 2 workers', kind: 'bullmq', n: 2 },
  { label: 'local executor, --jobs 1', kind: 'local', n: 1 },
  { label: 'local executor, --jobs 2', kind: 'local', n: 2 },
];
const results = [];
try {
  for (const c of configs) {
    const walls = [];
    const timings = [];
    for (let r = 0; r < REPEATS; r++) {
      const { wallMs, timings: t } = await runOnce(c);
      walls.push(wallMs);
      timings.push(...t);
      if (!JSON_OUT) process.stderr.write(`${c.label}: run ${r + 1}/${REPEATS} ${wallMs} ms\n`);
    }
    const overhead = timings.length
      ? {
          readyToStartedMs: stats(timings.map((t) => t.startedAt - t.queuedAt)),
          dispatchMs: stats(dispatchLatencies(timings)),
          commitMs: stats(timings.map((t) => t.commitMs)),
          resultLatencyMs: stats(timings.map((t) => t.seenAt - (t.startedAt + t.ranMs + t.commitMs))),
          stageRunMs: stats(timings.map((t) => t.ranMs)),
        }
      : undefined;
    results.push({ ...c, wallMs: stats(walls), overhead });
  }
} finally {
  redis.kill('SIGKILL');
  p.removeTree(work);
}

const wall = (label) => results.find((r) => r.label === label).wallMs.median;
const speedup = wall('bullmq, 1 worker') / wall('bullmq, 2 workers');
const report = {
  machine: { cpu: os.cpus()[0]?.model, cores: os.availableParallelism(), node: process.version },
  sweep: { stages: STAGES + 1, candidates: STAGES, stageMs: STAGE_MS, repeats: REPEATS },
  results,
  speedup: { label: 'bullmq 2 workers vs 1 worker (median wall)', value: speedup },
};
if (JSON_OUT) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
else {
  const f = (s) => `${(s.median / 1000).toFixed(2)} s (${(s.min / 1000).toFixed(2)}-${(s.max / 1000).toFixed(2)})`;
  const g = (s) => `${s.median.toFixed(0)} ms (${s.min.toFixed(0)}-${s.max.toFixed(0)})`;
  console.log(
    `\nsweep: ${STAGES} CPU-bound candidates of ${STAGE_MS} ms + 1 collecting stage; ${report.machine.cores} cores (${report.machine.cpu}), node ${process.version}; median (min-max) of ${REPEATS}`,
  );
  for (const r of results) {
    console.log(`  ${r.label.padEnd(26)} wall ${f(r.wallMs)}`);
    if (r.overhead)
      console.log(
        `    per job: dispatch ${g(r.overhead.dispatchMs)}, ready->started incl. waiting for a worker ${g(r.overhead.readyToStartedMs)}, commit ${g(r.overhead.commitMs)}, result latency ${g(r.overhead.resultLatencyMs)}, stage ${g(r.overhead.stageRunMs)}`,
      );
  }
  console.log(`  speedup, 2 workers vs 1: ${speedup.toFixed(2)}x`);
}
