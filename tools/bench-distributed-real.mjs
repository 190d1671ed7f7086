#!/usr/bin/env node
// Distributed execution on real work: the search stage of pipelines/mnist.yaml (4 train.bnn
// candidates: widths 0.22 and 0.19 x the plan's planes and one more), each pinned to 1 thread, run
// by the `cbnn` CLI four ways on this machine:
//   bullmq, 1 worker | bullmq, 2 workers | local executor --jobs 1 | local executor --jobs 2
// Reports wall time and CPU seconds (runner + workers + stage processes: the children's rusage,
// collected once they have exited; redis-server's own CPU is not in it), the cores the run got
// (CPU / wall: on a machine shared with other work, less than 2), the stages running at once (sum
// of stage durations / wall), and checks that every candidate's model is the same bytes in all
// four.
// (tools/bench-distributed.mjs, by contrast, measures queue overhead on stages that spin.)
//
//   npx -y pnpm@12.21.0 build && node tools/bench-distributed-real.mjs [--search-epochs 1] [--repeats 1] [--work DIR] [--reverse]
//
// What runs before the clock starts, once: data, baseline (1 epoch), sensitivity and plan into a
// seed store, which every configuration copies, so that each times the search alone. Needs
// redis-server on PATH. On a shared machine the numbers are contended: both sides of each ratio
// are measured in the same run, one configuration after the other.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as net from 'node:net';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(root, 'apps/cli/dist/main.js');
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const SEARCH_EPOCHS = Number(opt('search-epochs', '1'));
const REPEATS = Number(opt('repeats', '1'));
const work = opt('work', fs.mkdtempSync(path.join(os.tmpdir(), 'cbnn-bench-real-')));
fs.mkdirSync(work, { recursive: true });
const sets = ['--set', 'epochs=1', '--set', `searchEpochs=${SEARCH_EPOCHS}`, '--set', 'repeats=2'];

// mnist.yaml with `threads: 1` on the search, so that every configuration trains each candidate on
// one thread (otherwise --jobs 1 would give a stage both cores and 2 workers would each take 2).
const yaml = fs.readFileSync(path.join(root, 'pipelines/mnist.yaml'), 'utf8');
const pinned = yaml.replace(/(\n {2}search:\n)/, '$1    threads: 1\n');
if (pinned === yaml) throw new Error('could not find the search stage in pipelines/mnist.yaml');
fs.writeFileSync(path.join(work, 'mnist.yaml'), pinned);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const freePort = () =>
  new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
/** CPU seconds of this process's exited, waited-for descendants (utime + stime of children). */
const childCpu = () => {
  const fields = fs.readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  return (Number(fields[13]) + Number(fields[14])) / 100; // cutime, cstime in clock ticks (USER_HZ 100)
};
function cli(argv, { quiet = true } = {}) {
  const child = spawn(process.execPath, [CLI, ...argv], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => {
    stderr += c;
    if (!quiet) process.stderr.write(c);
  });
  const done = new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
  return { child, done, stderr: () => stderr };
}

console.log(
  `node ${process.version}, ${os.availableParallelism()} cores (${os.cpus()[0]?.model}), load average ${os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}; shared with other work, so contended`,
);
const seed = path.join(work, 'seed-store');
if (!fs.existsSync(path.join(seed, 'ready'))) {
  const t = Date.now();
  const prep = await cli(['run', 'mnist.yaml', '--store', seed, '--stage', 'plan', ...sets]).done;
  if (prep.code !== 0) throw new Error(`preparing the plan failed:\n${prep.stderr.slice(-3000)}`);
  fs.writeFileSync(path.join(seed, 'ready'), '');
  console.log(`seed store (data, baseline 1 epoch, sensitivity, plan): ${((Date.now() - t) / 1000).toFixed(0)} s`);
}

const port = await freePort();
const redisUrl = `redis://127.0.0.1:${port}`;
const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
await sleep(500);

/** Digest of each search candidate's output folder, with wall-clock fields removed from JSON files. */
function candidateDigests(store) {
  const out = path.join(store, 'out');
  const digests = {};
  for (const id of fs
    .readdirSync(out)
    .filter((d) => d.startsWith('search-'))
    .sort()) {
    const hash = createHash('sha256');
    const model = createHash('sha256');
    const walk = (rel) => {
      for (const name of fs.readdirSync(path.join(out, id, rel)).sort()) {
        const r = path.join(rel, name);
        const abs = path.join(out, id, r);
        if (fs.statSync(abs).isDirectory()) {
          walk(r);
          continue;
        }
        let bytes = fs.readFileSync(abs);
        if (/\.jsonl?$/.test(name)) bytes = Buffer.from(bytes.toString('utf8').replace(/"(seconds|samplesPerSecond)":\s*[0-9.e+-]+,?/g, ''));
        else model.update(r).update(bytes);
        hash.update(r).update(bytes);
      }
    };
    walk('');
    digests[id] = { model: model.digest('hex').slice(0, 16), outputWithoutTimes: hash.digest('hex').slice(0, 16) };
  }
  return digests;
}

let seq = 0;
async function runConfig(config) {
  const store = path.join(work, `store-${++seq}`);
  fs.rmSync(store, { recursive: true, force: true });
  fs.cpSync(seed, store, { recursive: true });
  const prefix = `bench-real-${process.pid}-${seq}`;
  const workers = [];
  if (config.kind === 'bullmq') {
    for (let i = 0; i < config.n; i++) {
      const w = cli(['worker', '--redis', redisUrl, '--store', store, '--prefix', prefix]);
      while (!/ ready: /.test(w.stderr())) {
        if (w.child.exitCode !== null) throw new Error(`worker failed: ${w.stderr()}`);
        await sleep(100);
      }
      workers.push(w);
    }
  }
  const cpu0 = childCpu();
  const t0 = Date.now();
  const extra = config.kind === 'bullmq' ? ['--executor', 'bullmq', '--redis', redisUrl, '--prefix', prefix] : ['--jobs', String(config.n)];
  const run = await cli(['run', 'mnist.yaml', '--store', store, '--stage', 'search', ...sets, ...extra, '--json']).done;
  const wallS = (Date.now() - t0) / 1000;
  for (const w of workers) {
    w.child.kill('SIGTERM');
    await w.done;
  }
  const cpuS = childCpu() - cpu0;
  if (run.code !== 0) throw new Error(`${config.label} failed (exit ${run.code}):\n${run.stderr.slice(-3000)}`);
  const summary = JSON.parse(run.stdout);
  const ran = summary.outcomes.filter((o) => o.status === 'ran').map((o) => o.id);
  // Stages running at once on average: the sum of the stages' durations over the wall time. (With
  // bullmq a stage's duration as the runner sees it includes its wait in the queue: not comparable.)
  const concurrency = summary.outcomes.filter((o) => o.status === 'ran').reduce((n, o) => n + o.durationMs, 0) / 1000 / wallS;
  const threads = [...new Set(summary.outcomes.filter((o) => o.id.startsWith('search-')).map((o) => o.metrics?.threads))];
  const digests = candidateDigests(store);
  fs.rmSync(store, { recursive: true, force: true });
  return { wallS, cpuS, concurrency, ran, threads, digests };
}

const configs = [
  { label: 'bullmq, 1 worker', kind: 'bullmq', n: 1 },
  { label: 'bullmq, 2 workers', kind: 'bullmq', n: 2 },
  { label: 'local, --jobs 1', kind: 'local', n: 1 },
  { label: 'local, --jobs 2', kind: 'local', n: 2 },
];
// --reverse runs them in the opposite order, so that a drift of the machine's load between the
// first and the last configuration shows up (run once each way and compare).
const results = (args.includes('--reverse') ? [...configs].reverse() : configs).map((c) => ({ ...c, runs: [] }));
try {
  for (let r = 0; r < REPEATS; r++) {
    for (const c of results) {
      const res = await runConfig(c);
      c.runs.push(res);
      process.stderr.write(
        `${c.label}: repeat ${r + 1}/${REPEATS}: wall ${res.wallS.toFixed(1)} s, CPU ${res.cpuS.toFixed(1)} s (${(res.cpuS / res.wallS).toFixed(2)} cores), stages at once ${c.kind === 'local' ? res.concurrency.toFixed(2) : 'n/a'}, ran ${res.ran.join(' ')}, threads ${res.threads.join(',')}\n`,
      );
    }
  }
} finally {
  redis.kill('SIGKILL');
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const cell = (xs) => (xs.length > 1 ? `${median(xs).toFixed(1)} s (${Math.min(...xs).toFixed(1)}-${Math.max(...xs).toFixed(1)})` : `${xs[0].toFixed(1)} s`);
console.log(
  `\nsearch of pipelines/mnist.yaml: 4 train.bnn candidates (vgg-small w 0.22/0.19 x plan planes / one more), ${SEARCH_EPOCHS} epoch(s), threads: 1 each; ${REPEATS > 1 ? `median (min-max) of ${REPEATS}` : '1 run each'}`,
);
console.log('\n| executor | wall | CPU seconds | cores we got (CPU / wall) | stages at once |\n| --- | --- | --- | --- | --- |');
for (const c of configs.map((k) => results.find((r) => r.label === k.label))) {
  const ratio = (f) => median(c.runs.map(f)).toFixed(2);
  const atOnce = c.kind === 'local' ? ratio((r) => r.concurrency) : 'n/a (queue wait counted)';
  console.log(`| ${c.label} | ${cell(c.runs.map((r) => r.wallS))} | ${cell(c.runs.map((r) => r.cpuS))} | ${ratio((r) => r.cpuS / r.wallS)} | ${atOnce} |`);
}
const wall = (label) => median(results.find((c) => c.label === label).runs.map((r) => r.wallS));
console.log(`\nspeedup, bullmq 2 workers vs 1 worker (median wall): ${(wall('bullmq, 1 worker') / wall('bullmq, 2 workers')).toFixed(2)}x`);
console.log(`speedup, local --jobs 2 vs --jobs 1 (median wall): ${(wall('local, --jobs 1') / wall('local, --jobs 2')).toFixed(2)}x`);
const all = results.flatMap((c) => c.runs.map((r) => JSON.stringify(r.digests)));
console.log(`candidate digests (model files; whole output without wall-clock fields): ${all[0]}`);
console.log(new Set(all).size === 1 ? `identical in all ${all.length} runs` : `DIFFERENT between runs:\n${all.join('\n')}`);
if (!opt('work', undefined)) fs.rmSync(work, { recursive: true, force: true });
