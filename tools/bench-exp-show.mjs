#!/usr/bin/env node
// `cbnn exp show` over many recorded runs (target: 200 runs in under 0.5 s).
// Usage: node tools/bench-exp-show.mjs [runs=200] [repeats=7]
// Generates `runs` schema-valid run records shaped like the default MNIST pipeline's (21 stages:
// data, baseline, fp, sensitivity, plan, 12 search candidates, select, bench, report; each with
// its key material and metrics, the report's markdown summary included) into a temporary store,
// then times, side by side in this one run:
//   - the whole process `node apps/cli/dist/main.js exp show --store S` (node start-up included),
//   - `node apps/cli/dist/main.js --help` (the CLI's start-up alone, the floor of any command),
//   - the first `exp show`, which validates every record (later ones skip unchanged records),
//   - in-process: read + validate every record, build the table, render it (no start-up).
// Median of `repeats` runs with min/max. Needs the built CLI. Numbers are noisy on a shared machine.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { formatTimings, stat } from './bench-stats.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'apps', 'cli', 'dist', 'main.js');
if (!fs.existsSync(cli)) throw new Error(`build the CLI first (${cli} is missing)`);
const require = createRequire(path.join(root, 'apps', 'cli', 'package.json'));
const records = require('@cbnn/pipeline/run-records');
const { renderTable, textCell } = require(path.join(root, 'apps', 'cli', 'dist', 'commands', 'exp-output.js'));

const count = Number(process.argv[2] ?? 200);
const repeats = Number(process.argv[3] ?? 7);
const store = fs.mkdtempSync(path.join(os.tmpdir(), 'cbnn-bench-exp-'));
const hash = (s) => createHash('sha256').update(String(s)).digest('hex');

function record(i) {
  const started = new Date(Date.UTC(2026, 10, 1) + i * 600_000);
  const width = [0.5, 0.35, 0.25][i % 3];
  const lr = [0.01, 0.005, 0.02, 0.001][i % 4];
  const params = {
    source: 'mnist',
    arch: 'vgg-small',
    width,
    epochs: 12 + (i % 5),
    fpEpochs: 6,
    searchEpochs: 16,
    batchSize: 64,
    learningRate: lr,
    schedule: 'one-cycle',
    budget: 1,
    repeats: 5,
    planMode: 'zero',
    searchWidths: [0.22, 0.19],
    benchRuns: 10,
  };
  const search = [];
  for (const w of [1, 0.75, 0.5, 0.35, 0.25, 0.19]) for (const d of [0, 1]) search.push(`search-w${w}-d${d}`);
  const ids = ['data', 'baseline', 'fp', 'sensitivity', 'plan', ...search, 'select', 'bench', 'report'];
  const stages = ids.map((id, k) => {
    const cached = i % 2 === 1 && k < 10;
    const material = {
      kind: 'handler',
      handler: `h.${id.split('-')[0]}`,
      version: 1,
      params: { width, epochs: params.epochs, learningRate: lr, batchSize: 64, schedule: 'one-cycle' },
      inputs: k ? { dataset: hash(`d${i % 7}`), model: hash(`m${i}`) } : {},
      deps: {},
      seed: 1 + (i % 3),
    };
    const metrics =
      id === 'report'
        ? {
            summary: '| model | planes | width | test accuracy |\n'.repeat(40),
            htmlBytes: 877000 + i,
            inputs: 'dataset,sensitivity,plan,search,bench,baseline,fp',
          }
        : {
            validationAccuracy: 0.9 + ((i * 7 + k) % 90) / 1000,
            testAccuracy: 0.9 + ((i * 3 + k) % 90) / 1000,
            bestEpoch: 1 + (i % 12),
            backend: 'wasm',
            threads: 1,
            samplesPerSecond: 150 + (i % 50),
            binaryParams: 55424 * (k + 1),
            floatParams: 488 + k,
          };
    return {
      id,
      stage: id.split('-')[0],
      handler: material.handler,
      matrix: id.startsWith('search') ? { width, dropExtra: k % 2 } : undefined,
      needs: k ? { dataset: ['data'] } : {},
      status: cached ? 'cached' : 'ran',
      key: hash(`k${i}-${k}`),
      material,
      wallSeconds: cached ? 0.01 : 30 + k,
      cpuSeconds: cached ? undefined : 55 + k,
      attempts: cached ? 0 : 1,
      output: hash(`o${i}-${k}`),
      log: hash(`l${i}-${k}`),
      metrics,
    };
  });
  const id = `${started.toISOString().slice(0, 10).replace(/-/g, '')}-${started.toISOString().slice(11, 19).replace(/:/g, '')}-${(i & 0xffff).toString(16).padStart(4, '0')}`;
  return {
    format: records.RECORDED_RUN_FORMAT,
    id,
    name: i % 10 === 0 ? `exp-${i}` : undefined,
    pipeline: { name: 'mnist', file: '/work/project/pipelines/mnist.yaml', hash: hash(`p${i % 3}`) },
    params,
    command: `cbnn run pipelines/mnist.yaml --set width=${width}`,
    git: { commit: hash(`g${i % 9}`).slice(0, 40), dirty: i % 4 === 0 },
    startedAt: started.toISOString(),
    endedAt: new Date(started.getTime() + 1_200_000).toISOString(),
    durationMs: 1_200_000,
    status: i % 17 === 0 ? 'failed' : 'ok',
    complete: i % 17 !== 0,
    exitCode: i % 17 === 0 ? 4 : 0,
    counts: { executed: 21, cached: 0, failed: 0, skipped: 0 },
    machine: { hostname: 'bench', cpu: 'AMD EPYC', cores: 2, os: 'Linux 6 x64', node: process.version },
    executor: { name: 'local', jobs: 2, workers: [] },
    store,
    stages,
  };
}

for (let i = 0; i < count; i++) await records.writeRunRecord(store, records.recordedRunSchema.parse(record(i)));
const dir = records.runRecordsDir(store);
const bytes = fs.readdirSync(dir).reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);
console.log(`${count} run records, ${(bytes / 1e6).toFixed(1)} MB, in ${store}`);

// CPU time (user + system, from /usr/bin/time) as well as wall time: on a machine shared with other
// work the wall time mostly measures the wait for a core, the CPU time what the command costs.
const TIME = fs.existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
const cpu = { show: [], help: [] };
const timeProcess = (args, cpuInto) => {
  const t0 = process.hrtime.bigint();
  const r = TIME
    ? spawnSync(TIME, ['-f', 'CBNN_CPU %U %S', process.execPath, cli, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 })
    : spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`cbnn ${args.join(' ')} failed (${r.status}):\n${r.stderr}`);
  const m = /CBNN_CPU ([\d.]+) ([\d.]+)/.exec(r.stderr);
  if (m && cpuInto) cpuInto.push((Number(m[1]) + Number(m[2])) * 1000);
  return { ms, stdout: r.stdout };
};
const inProcess = () => {
  const t0 = process.hrtime.bigint();
  const { runs } = records.readRunRecords(store);
  const t = records.buildRunTable(runs);
  const names = t.columns.map((c) => c.name);
  const text = renderTable(
    ['id', 'name', 'started', 'status', ...names],
    t.rows.map(({ run, values }) => [run.id, run.name ?? '', run.startedAt, run.status, ...names.map((n) => textCell(values[n]))]),
  );
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, rows: t.rows.length, columns: names.length, chars: text.length };
};

// The first read validates every record against the schema and remembers them (records are immutable).
const cold = timeProcess(['exp', 'show', '--store', store]).ms;
const show = [];
const help = [];
const onlyChanged = [];
const inproc = [];
let shape;
for (let i = 0; i < repeats; i++) {
  const s = timeProcess(['exp', 'show', '--store', store], cpu.show);
  const lines = s.stdout.trim().split('\n').length;
  if (lines !== count + 2) throw new Error(`exp show printed ${lines} lines, expected ${count + 2}`);
  show.push(s.ms);
  onlyChanged.push(timeProcess(['exp', 'show', '--store', store, '--only-changed', '--metrics', 'select.*,baseline.testAccuracy']).ms);
  help.push(timeProcess(['--help'], cpu.help).ms);
  const p = inProcess();
  shape = p;
  inproc.push(p.ms);
}
const fmt = (label, xs) => formatTimings(label, xs);
console.log(`table: ${shape.rows} rows x ${shape.columns} columns`);
console.log(`cbnn exp show, whole process, ${count} runs, first read (every record validated): ${cold.toFixed(0)} ms`);
console.log(fmt(`cbnn exp show, whole process, ${count} runs`, show) + ` — target < 500 ms: ${stat(show).median < 500 ? 'met' : 'NOT met'}`);
console.log(fmt('cbnn exp show --only-changed --metrics select.*,baseline.testAccuracy, whole process', onlyChanged));
console.log(fmt('cbnn --help, whole process (CLI start-up alone)', help));
if (cpu.show.length) {
  console.log(
    fmt(`CPU time (user + system) of cbnn exp show, ${count} runs`, cpu.show) + ` — target < 500 ms: ${stat(cpu.show).median < 500 ? 'met' : 'NOT met'}`,
  );
  console.log(fmt('CPU time of cbnn --help', cpu.help));
}
console.log(fmt('in-process: read + validate records, build and render the table', inproc));
if (process.env.CBNN_BENCH_KEEP) console.log(`kept ${store}`);
else fs.rmSync(store, { recursive: true, force: true });
