#!/usr/bin/env node
// What the run record adds to a fully cached run (target: under 10 ms).
// Usage: node tools/bench-run-record.mjs [stages=50] [pairs=40] [--no-git]
// A generated `stages`-stage cmd pipeline (the DAG of tools/bench-cached-pipeline.mjs) in a git
// work tree (so the record's git commit and dirty state are really queried), run once to fill the
// cache, then fully cached runs in one process, interleaved: record on, record off (`record: false`),
// `pairs` times. Reported: the median of the cached run with and without the record, the median
// of the per-pair differences, and the record's own parts measured directly (the git queries,
// which overlap the run, and building + writing the record). Needs the built packages. Numbers
// are noisy on a shared machine.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { writeLayeredPipeline } from './layered-pipeline.mjs';
import { formatTimings, stat } from './bench-stats.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(root, 'packages', 'pipeline', 'package.json'));
const pipelineDist = path.join(root, 'packages', 'pipeline', 'dist', 'index.js');
if (!fs.existsSync(pipelineDist)) throw new Error(`build the packages first (${pipelineDist} is missing)`);
const { ArtifactStore, LocalExecutor, RunRecorder, loadPipeline, readRunRecords, runPipeline } = require(pipelineDist);
const { processCpuSeconds } = require(path.join(root, 'packages', 'pipeline', 'dist', 'process-cpu.js'));
const { createStageRegistry } = require('@cbnn/core');

const stages = Number(process.argv[2] ?? 50);
const pairs = Number(process.argv[3] ?? 40);
// --no-git: the pipeline outside any git work tree (the record then starts no git process).
const withGit = !process.argv.includes('--no-git');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbnn-bench-record-'));
const file = writeLayeredPipeline(dir, stages);
fs.writeFileSync(path.join(dir, '.gitignore'), '.cbnn/\n');
const git = (...args) => execFileSync('git', args, { cwd: dir, stdio: 'ignore' });
if (withGit) {
  git('init', '-q');
  git('-c', 'user.email=bench@example.invalid', '-c', 'user.name=bench', 'add', '.');
  git('-c', 'user.email=bench@example.invalid', '-c', 'user.name=bench', 'commit', '-qm', 'bench pipeline');
}

const pipeline = loadPipeline(file, { registry: createStageRegistry([]) });
const storeRoot = path.join(dir, '.cbnn');
const executor = new LocalExecutor({ workerScript: path.join(root, 'apps', 'cli', 'dist', 'stage-worker.js') });
const run = async (record) => {
  const t0 = process.hrtime.bigint();
  const c0 = processCpuSeconds();
  const summary = await runPipeline(pipeline, { store: new ArtifactStore(storeRoot), executor, jobs: 2, record });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpuMs = (processCpuSeconds() - c0) * 1000;
  if (!summary.ok) throw new Error('the run failed');
  return { ms, cpuMs, summary };
};

try {
  const first = await run(false);
  console.log(`first run: ${first.summary.executed} stages executed in ${(first.ms / 1000).toFixed(2)} s`);
  const on = [];
  const off = [];
  const diffs = [];
  const cpuOn = [];
  const cpuOff = [];
  const cpuDiffs = [];
  for (let i = 0; i < pairs; i++) {
    // Alternate which goes first, so a trend in the machine's load favours neither side.
    const order = i % 2 ? [true, false] : [false, true];
    const got = {};
    for (const withRecord of order) {
      const { ms, cpuMs, summary } = await run(withRecord ? { name: `bench-${i}` } : false);
      if (summary.executed !== 0 || summary.cached !== stages) throw new Error(`run was not fully cached: ${summary.executed} executed`);
      if (withRecord !== (summary.runId !== undefined)) throw new Error('record option not honoured');
      got[withRecord] = ms;
      got[`cpu${withRecord}`] = cpuMs;
    }
    cpuOn.push(got.cputrue);
    cpuOff.push(got.cpufalse);
    cpuDiffs.push(got.cputrue - got.cpufalse);
    on.push(got.true);
    off.push(got.false);
    diffs.push(got.true - got.false);
  }
  const recorded = readRunRecords(storeRoot).runs;
  if (recorded.length !== pairs) throw new Error(`expected ${pairs} records, found ${recorded.length}`);

  // The record's parts alone: constructor (starts git), git's latency, building + writing the record.
  const outcomes = recorded[0].stages.map((s) => ({
    id: s.id,
    stage: s.stage,
    status: s.status,
    durationMs: 1,
    attempts: 0,
    key: s.key,
    output: s.output,
    log: s.log,
    metrics: s.metrics,
  }));
  const keys = new Map(recorded[0].stages.map((s) => [s.id, { material: s.material }]));
  const gitMs = [];
  const writeMs = [];
  for (let i = 0; i < pairs; i++) {
    const t0 = performance.now();
    const rec = new RunRecorder(pipeline, storeRoot, { name: 'local', jobs: 2 });
    await rec.ready();
    const t1 = performance.now();
    rec.finish(outcomes, keys, false);
    writeMs.push(performance.now() - t1);
    gitMs.push(t1 - t0);
  }

  const fmt = (label, xs) => formatTimings(label, xs, 1);
  console.log(`fully cached run of ${stages} stages, ${withGit ? 'in a git work tree' : 'outside git'}, in one process, interleaved:`);
  console.log('  ' + fmt('with the run record   ', on));
  console.log('  ' + fmt('without (record: false)', off));
  console.log('  ' + fmt('per-pair difference    ', diffs) + ` — target < 10 ms: ${stat(diffs).median < 10 ? 'met' : 'NOT met'}`);
  console.log(`CPU time (user + system, this process and its waited-for children: git) of the same runs, ${os.cpus().length} cores:`);
  console.log('  ' + fmt('with the run record   ', cpuOn));
  console.log('  ' + fmt('without (record: false)', cpuOff));
  console.log('  ' + fmt('per-pair difference    ', cpuDiffs) + ` — target < 10 ms: ${stat(cpuDiffs).median < 10 ? 'met' : 'NOT met'}`);
  console.log('the record alone:');
  console.log('  ' + fmt('git status (one process, started with the run, awaited at its end)', gitMs));
  console.log('  ' + fmt('build + write the record (temp file + rename; flushed in the background)', writeMs));
  console.log(`record size: ${fs.statSync(path.join(storeRoot, 'records', `${recorded[0].id}.json`)).size} bytes`);
} finally {
  await executor.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
