import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';

// The built CLI (nx runs `build` before `test`): tests exercise the real binary end to end.
const CLI = path.join(__dirname, '..', 'dist', 'main.js');

function ws(yaml: string): { dir: string; file: string; cbnn: (...args: string[]) => { code: number | null; stdout: string; stderr: string } } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbnn-cli-'));
  const file = path.join(dir, 'p.yaml');
  fs.writeFileSync(file, yaml);
  fs.writeFileSync(path.join(dir, 'gen.js'), "require('fs').writeFileSync(process.env.CBNN_OUT_DIR + '/a.txt', 'A'.repeat(Number(process.argv[2])));\n");
  return {
    dir,
    file,
    cbnn: (...args) => {
      const r = spawnSync(process.execPath, [CLI, ...args], { cwd: dir, encoding: 'utf8' });
      return { code: r.status, stdout: r.stdout, stderr: r.stderr };
    },
  };
}

const PIPELINE = `
name: cli
params:
  n: 3
stages:
  a:
    cmd: node gen.js \${params.n}
    deps: [gen.js]
    outs: [a.txt]
  b:
    cmd: cat \${inputs.a}/a.txt > \${outDir}/b.txt
    needs: { a: a }
    outs: [b.txt]
`;

describe('cbnn CLI', () => {
  it('run, run again (0 executed), status --json, dag --dot/--mermaid, why, verify, gc', () => {
    const w = ws(PIPELINE);
    const first = w.cbnn('run', 'p.yaml', '--json');
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ ok: true, executed: 2, cached: 0 });
    expect(first.stderr).toMatch(/stage\s+result\s+duration/);
    expect(fs.readFileSync(path.join(w.dir, '.cbnn', 'out', 'b', 'b.txt'), 'utf8')).toBe('AAA');
    expect(fs.existsSync(path.join(w.dir, 'p.lock'))).toBe(true);

    const second = w.cbnn('run', 'p.yaml', '--json');
    expect(JSON.parse(second.stdout)).toMatchObject({ executed: 0, cached: 2 });

    const status = JSON.parse(w.cbnn('status', 'p.yaml', '--json', '--set', 'n=4').stdout);
    expect(status.stages.map((s: { action: string }) => s.action)).toEqual(['run', 'run']);
    expect(status.stages[1].reasons.join()).toContain("upstream 'a' will run");
    expect(JSON.parse(w.cbnn('status', 'p.yaml', '--json').stdout).stages.every((s: { action: string }) => s.action === 'up-to-date')).toBe(true);

    expect(w.cbnn('dag', 'p.yaml', '--dot').stdout).toContain('"a" -> "b" [label="a"]');
    expect(w.cbnn('dag', 'p.yaml', '--mermaid').stdout).toContain('a -->|a| b');
    expect(JSON.parse(w.cbnn('dag', 'p.yaml', '--json').stdout).stages).toHaveLength(2);
    const why = w.cbnn('why', 'b', 'p.yaml', '--set', 'n=5');
    expect(why.stdout).toContain("upstream 'a' will run");

    expect(w.cbnn('verify', 'p.yaml').code).toBe(0);
    // Change n: new outputs; gc then drops the old ones that no lock file references (the run
    // records keep them too, unless --drop-records: tested in exp.test.ts).
    expect(w.cbnn('run', 'p.yaml', '--set', 'n=2').code).toBe(0);
    const gc = JSON.parse(w.cbnn('gc', 'p.yaml', '--json', '--drop-records').stdout);
    expect(gc.removedObjects).toBeGreaterThan(0);
    expect(gc.removedRuns).toBe(2);
    expect(w.cbnn('verify', 'p.yaml', '--json').code).toBe(0);
    expect(JSON.parse(w.cbnn('run', 'p.yaml', '--set', 'n=2', '--json').stdout).executed).toBe(0);
    expect(JSON.parse(w.cbnn('run', 'p.yaml', '--json').stdout).executed).toBe(2); // n=3 was collected
  });

  it('a cmd stage exiting non-zero: stderr tail shown, downstream not run, earlier outputs intact, exit 4', () => {
    const w = ws(PIPELINE);
    expect(w.cbnn('run', 'p.yaml').code).toBe(0);
    const bad = PIPELINE.replace('cat ${inputs.a}/a.txt > ${outDir}/b.txt', `echo "first problem" >&2; echo "the real reason" >&2; exit 3`).concat(`
  c:
    cmd: cp \${inputs.b}/b.txt \${outDir}/c.txt
    needs: { b: b }
`);
    fs.writeFileSync(w.file, bad);
    const r = w.cbnn('run', 'p.yaml', '--json');
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('the real reason');
    expect(r.stderr).toContain('exited with code 3');
    const summary = JSON.parse(r.stdout);
    expect(summary.outcomes.map((o: { id: string; status: string }) => `${o.id}:${o.status}`)).toEqual(['a:cached', 'b:failed', 'c:skipped']);
    // Earlier outputs intact: b's previous result is still shown and a is untouched.
    expect(fs.readFileSync(path.join(w.dir, '.cbnn', 'out', 'b', 'b.txt'), 'utf8')).toBe('AAA');
    expect(fs.existsSync(path.join(w.dir, '.cbnn', 'out', 'c'))).toBe(false);
    expect(w.cbnn('verify', 'p.yaml').code).toBe(0);
  });

  it('bad input: file:line:col and exit 3; unknown --stage is a clear error', () => {
    const w = ws('name: x\nstages:\n  a:\n    cmd: "true"\n    bogus: 1\n');
    const r = w.cbnn('run', 'p.yaml');
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`${w.file}:5:5: stages.a.bogus: invalid pipeline: unknown key 'bogus'`);
    const y = ws('name: x\nstages: [\n');
    const ry = y.cbnn('status', 'p.yaml');
    expect(ry.code).toBe(3);
    expect(ry.stderr).toMatch(/p\.yaml:\d+:\d+: YAML syntax error/);
    const ok = ws(PIPELINE);
    expect(ok.cbnn('run', 'p.yaml', '--stage', 'nope').stderr).toContain('--stage nope: no such stage');
  });

  it('a bad numeric option is a usage error naming the option (exit 2), not an unexpected error', () => {
    const w = ws(PIPELINE);
    const bench = w.cbnn('bench', 'runtime', '--dataset', 'd', '--compact', 'c', '--baseline', 'b', '--fp', 'f', '--runs', 'x');
    expect(bench.code).toBe(2);
    expect(bench.stderr).toContain("option '--runs <n>' argument 'x' is invalid. --runs expects a positive integer, got 'x'");
    expect(bench.stderr).not.toContain('unexpected error');
    const run = w.cbnn('run', 'p.yaml', '--jobs', '0');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("option '-j, --jobs <n>' argument '0' is invalid");
  });

  it('status and why name a changed cmd dep; status loads no handler package', () => {
    const w = ws(PIPELINE);
    expect(w.cbnn('run', 'p.yaml').code).toBe(0);
    fs.appendFileSync(path.join(w.dir, 'gen.js'), '// changed\n');
    const why = w.cbnn('why', 'a', 'p.yaml');
    expect(why.stdout).toContain("changed dep 'gen.js' (file content)");
    // What `status` loads: no handler package index, no TensorFlow.js, onnxruntime, vega or bullmq.
    fs.writeFileSync(
      path.join(w.dir, 'probe.js'),
      [
        `process.argv = ['node', 'cbnn', 'status', 'p.yaml'];`,
        `require(${JSON.stringify(CLI)}).main(process.argv).then(() => {`,
        `  const heavy = Object.keys(require.cache).filter((f) => /tfjs|onnxruntime|vega|bullmq|packages.(train|bench|report|sensitivity|pruning|bitslice).dist.index/.test(f));`,
        `  process.stderr.write('HEAVY ' + JSON.stringify(heavy));`,
        `});`,
      ].join('\n'),
    );
    const probe = spawnSync(process.execPath, ['probe.js'], { cwd: w.dir, encoding: 'utf8' });
    expect(probe.stdout).toContain('would run');
    expect(probe.stderr).toContain('HEAVY []');
  });

  it('a corrupt object: verify names it and exits 5; run re-runs the stage', () => {
    const w = ws(PIPELINE);
    w.cbnn('run', 'p.yaml');
    const target = fs.realpathSync(path.join(w.dir, '.cbnn', 'out', 'a', 'a.txt'));
    const objects = path.join(w.dir, '.cbnn', 'objects');
    let objectFile = '';
    for (const sub of fs.readdirSync(objects))
      for (const f of fs.readdirSync(path.join(objects, sub))) {
        if (fs.statSync(path.join(objects, sub, f)).ino === fs.statSync(target).ino) objectFile = path.join(objects, sub, f);
      }
    fs.writeFileSync(objectFile, 'AAB');
    const v = w.cbnn('verify', 'p.yaml');
    expect(v.code).toBe(5);
    expect(v.stdout).toContain(`CORRUPT ${path.basename(path.dirname(objectFile))}${path.basename(objectFile)}`);
    const r = JSON.parse(w.cbnn('run', 'p.yaml', '--json').stdout);
    expect(r.outcomes[0]).toMatchObject({ id: 'a', status: 'ran' });
    expect(w.cbnn('verify', 'p.yaml').code).toBe(0);
  });

  it('--threads 0, or above the cores without --oversubscribe, exits 2 naming the flag and touches no store', () => {
    const w = ws(PIPELINE);
    const cores = os.availableParallelism();
    for (const [args, message] of [
      [['--threads', '0'], /--threads expects a positive integer, got '0'/],
      [['--threads', String(cores + 1)], new RegExp(`--threads ${cores + 1}: more than the ${cores} cores .*--oversubscribe`)],
      [['--jobs', '0'], /--jobs expects a positive integer/],
    ] as const) {
      const r = w.cbnn('run', 'p.yaml', ...args);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect(fs.existsSync(path.join(w.dir, '.cbnn'))).toBe(false);
    expect(w.cbnn('run', 'p.yaml', '--threads', String(cores + 1), '--oversubscribe', '--json').code).toBe(0);
  });

  it('SIGINT cancels cleanly: exit 130, no temp output, store intact, the next run completes', async () => {
    const w = ws(`
name: slow
stages:
  s:
    cmd: echo partial > \${outDir}/x.txt; sleep 30; echo done > \${outDir}/x.txt
    outs: [x.txt]
`);
    const child = spawn(process.execPath, [CLI, 'run', 'p.yaml'], { cwd: w.dir });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    while (!err.includes('s: started')) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 300));
    const t0 = Date.now();
    child.kill('SIGINT');
    const code = await new Promise((r) => child.on('close', r));
    expect(code).toBe(130);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(fs.existsSync(path.join(w.dir, '.cbnn', 'out', 's'))).toBe(false);
    expect(fs.readdirSync(path.join(w.dir, '.cbnn', 'tmp')).filter((n) => n.startsWith('run-'))).toEqual([]);
    expect(fs.existsSync(path.join(w.dir, '.cbnn', 'run.lock'))).toBe(false);
    expect(w.cbnn('verify', 'p.yaml').code).toBe(0);
    fs.writeFileSync(w.file, fs.readFileSync(w.file, 'utf8').replace('sleep 30', 'true'));
    expect(w.cbnn('run', 'p.yaml').code).toBe(0);
    expect(fs.readFileSync(path.join(w.dir, '.cbnn', 'out', 's', 'x.txt'), 'utf8')).toBe('done\n');
  });
});
