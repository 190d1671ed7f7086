#!/usr/bin/env node
// Wall time of the light commands, `cbnn status` and `cbnn dag`, on a pipeline (target: < 0.3 s).
// Usage: node tools/bench-light-commands.mjs [--pipeline pipelines/mnist.yaml] [--runs 20]
//          [--cli path/to/apps/cli/dist/main.js ...]   (several: measured interleaved, same run)
// Whole process (node start-up included); `node -e 0` is measured beside them as the floor.
// Uses hyperfine when installed (apt-get install hyperfine), else a loop of its own; median, min,
// max and user CPU time of each. Numbers are noisy on a shared machine: compare within one run.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const clis = args.flatMap((a, i) => (a === '--cli' ? [path.resolve(args[i + 1])] : []));
if (!clis.length) clis.push(path.join(root, 'apps', 'cli', 'dist', 'main.js'));
const pipeline = path.resolve(option('--pipeline', path.join(root, 'pipelines', 'mnist.yaml')));
const runs = Number(option('--runs', 20));
if (!Number.isInteger(runs) || runs < 1) {
  process.stderr.write(`--runs expects a positive integer, got '${option('--runs')}'\n`);
  process.exit(2);
}
for (const cli of clis) if (!fs.existsSync(cli)) throw new Error(`build the CLI first (${cli} is missing)`);
const store = fs.mkdtempSync(path.join(os.tmpdir(), 'cbnn-light-'));

const commands = [{ name: 'node -e 0 (floor)', argv: [process.execPath, '-e', '0'] }];
for (const cli of clis) {
  const label = path.relative(process.cwd(), cli) || cli;
  commands.push({ name: `status (${label})`, argv: [process.execPath, cli, 'status', pipeline, '--store', store] });
  commands.push({ name: `dag (${label})`, argv: [process.execPath, cli, 'dag', pipeline] });
}

const hasHyperfine = spawnSync('hyperfine', ['--version']).status === 0;
const results = hasHyperfine ? viaHyperfine() : viaLoop();
console.log(
  `${path.relative(process.cwd(), pipeline)}, ${runs} runs each${hasHyperfine ? ' (hyperfine)' : ''}, load average ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
for (const r of results) {
  const verdict = r.name.startsWith('node') ? '' : ` — target < 300 ms: ${r.median < 300 ? 'met' : 'NOT met'}`;
  console.log(
    `${r.name.padEnd(60)} median ${r.median.toFixed(0)} ms (min ${r.min.toFixed(0)}, max ${r.max.toFixed(0)}), user CPU ${r.user.toFixed(0)} ms${verdict}`,
  );
}
fs.rmSync(store, { recursive: true, force: true });

function viaHyperfine() {
  const out = path.join(store, 'hyperfine.json');
  const quote = (a) => `'${a.replace(/'/g, `'\\''`)}'`;
  const r = spawnSync('hyperfine', ['-N', '-w', '2', '-r', String(runs), '--export-json', out, ...commands.map((c) => c.argv.map(quote).join(' '))], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`hyperfine failed:\n${r.stderr}`);
  return JSON.parse(fs.readFileSync(out, 'utf8')).results.map((x, i) => ({
    name: commands[i].name,
    median: x.median * 1000,
    min: x.min * 1000,
    max: x.max * 1000,
    user: x.user * 1000,
  }));
}

function viaLoop() {
  const times = commands.map(() => []);
  for (let i = 0; i < runs + 2; i++) {
    commands.forEach((c, j) => {
      const t0 = process.hrtime.bigint();
      const r = spawnSync(c.argv[0], c.argv.slice(1), { stdio: 'ignore' });
      if (r.status !== 0) throw new Error(`${c.name} exited with ${r.status}`);
      if (i >= 2) times[j].push(Number(process.hrtime.bigint() - t0) / 1e6);
    });
  }
  return commands.map((c, j) => {
    const t = times[j].sort((a, b) => a - b);
    return { name: c.name, median: t[Math.floor(t.length / 2)], min: t[0], max: t.at(-1), user: NaN };
  });
}
