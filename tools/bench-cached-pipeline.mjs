#!/usr/bin/env node
// Wall time of a fully cached `cbnn run` of a generated 50-stage pipeline (target: under 1 s).
// Usage: node tools/bench-cached-pipeline.mjs [stages=50] [repeats=7] [--cli path/to/main.js ...]
// Needs the built CLI (apps/cli/dist). Measures the whole process (node start-up included),
// median of `repeats` runs with min/max. Several --cli (e.g. a build of an older commit): each
// gets a store of its own and the runs interleave, so both sides share the machine's load.
// Numbers are noisy on a shared machine.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeLayeredPipeline } from './layered-pipeline.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const clis = argv.flatMap((a, i) => (a === '--cli' ? [path.resolve(argv[i + 1])] : []));
if (!clis.length) clis.push(path.join(root, 'apps', 'cli', 'dist', 'main.js'));
const positional = argv.filter((a, i) => a !== '--cli' && argv[i - 1] !== '--cli');
const stages = Number(positional[0] ?? 50);
const repeats = Number(positional[1] ?? 7);
for (const cli of clis) if (!fs.existsSync(cli)) throw new Error(`build the CLI first (${cli} is missing)`);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbnn-bench-'));
const file = writeLayeredPipeline(dir, stages);

const run = (cli, store) => {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [cli, 'run', file, '--json', '--store', store], { cwd: dir, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`cbnn run failed (${r.status}):\n${r.stderr}`);
  return { ms, summary: JSON.parse(r.stdout) };
};

const sides = clis.map((cli, i) => ({ cli, store: path.join(dir, `store-${i}`), times: [] }));
for (const side of sides) {
  const first = run(side.cli, side.store);
  console.log(`${path.relative(process.cwd(), side.cli)}: first run: ${first.summary.executed} stages executed in ${(first.ms / 1000).toFixed(2)} s`);
}
for (let i = 0; i < repeats; i++) {
  for (const side of sides) {
    const { ms, summary } = run(side.cli, side.store);
    if (summary.executed !== 0 || summary.cached !== stages) throw new Error(`run ${i} was not fully cached: ${summary.executed} executed`);
    side.times.push(ms);
  }
}
for (const side of sides) {
  const times = side.times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)];
  console.log(
    `${path.relative(process.cwd(), side.cli)}: fully cached run of ${stages} stages: median ${median.toFixed(0)} ms (min ${times[0].toFixed(0)}, max ${times.at(-1).toFixed(0)}, n=${repeats}) — target < 1000 ms: ${median < 1000 ? 'met' : 'NOT met'}`,
  );
}
fs.rmSync(dir, { recursive: true, force: true });
