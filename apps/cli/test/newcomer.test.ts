import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { freePort, TestRedis, waitFor } from '../../../packages/pipeline/test/distributed-helpers';

// The CLI as a newcomer meets it: typos, arguments in the other order, the exit codes of the
// README's table, and the messages of issue 20 (cached run, damaged output, no worker, DVC deps).
const CLI = path.join(__dirname, '..', 'dist', 'main.js');

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function project(yaml: string): { dir: string; cbnn: (...args: string[]) => Result } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbnn-newcomer-'));
  fs.writeFileSync(path.join(dir, 'p.yaml'), yaml);
  return {
    dir,
    cbnn: (...args) => {
      const r = spawnSync(process.execPath, [CLI, ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, CBNN_REDIS_URL: '' } });
      return { code: r.status, stdout: r.stdout, stderr: r.stderr };
    },
  };
}

/** Two cmd stages; `report` leaves a summary.md, as the report handler does, so the run prints it. */
const PIPELINE = `
name: newcomer
stages:
  data:
    cmd: echo 12345 > \${outDir}/data.txt
    outs: [data.txt]
  report:
    cmd: "printf '| Compact BNN | 1 |\\\\n' > \${outDir}/summary.md"
    needs: { data: data }
    outs: [summary.md]
`;

const noStack = (r: Result): void => expect(r.stderr).not.toMatch(/^\s+at /m);

function cbnnAsync(args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('a newcomer walking the CLI', () => {
  it('--help of every command: exit 0, a usage line, a described [pipeline] argument; the top help names the exit codes', async () => {
    const top = await cbnnAsync(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toContain(
      'Exit codes: 0 ok, 1 unexpected error, 2 usage, 3 invalid input (file/line/field named),\n4 stage failed, 5 corrupt store, 6 store busy, 7 service unavailable (Redis), 130 cancelled.',
    );
    const names = [...top.stdout.matchAll(/^ {2}([a-z]+) /gm)].map((m) => m[1]).filter((n) => n !== 'help' && n !== 'cbnn');
    expect(names).toEqual(expect.arrayContaining(['run', 'status', 'dag', 'why', 'verify', 'gc', 'worker', 'report', 'bench']));
    const helps = await Promise.all(
      [...names.map((n) => [n]), ['bench', 'kernels'], ['bench', 'runtime']].map(async (cmd) => ({ cmd, r: await cbnnAsync([...cmd, '--help']) })),
    );
    for (const { cmd, r } of helps) {
      expect([cmd.join(' '), r.code]).toEqual([cmd.join(' '), 0]);
      expect(r.stdout).toMatch(new RegExp(`^Usage: cbnn ${cmd.join(' ')} `));
      if (r.stdout.includes('[pipeline]')) expect(r.stdout).toMatch(/^ {2}pipeline +pipeline YAML file \(default: pipelines\/mnist\.yaml\)/m);
    }
  });

  it('typos get the nearest name and the usage exit code (2); a mistyped pipeline path gets 3 and the nearest file', () => {
    const p = project(PIPELINE);
    const cmd = p.cbnn('stauts', 'p.yaml');
    expect(cmd.code).toBe(2);
    expect(cmd.stderr).toContain('(Did you mean status?)');
    const flag = p.cbnn('run', 'p.yaml', '--stagee', 'data');
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('(Did you mean --stage?)');
    const stage = p.cbnn('run', 'p.yaml', '--stage', 'dta');
    expect(stage.code).toBe(2);
    expect(stage.stderr).toContain("--stage dta: no such stage in p.yaml; did you mean 'data'? (stages: data, report)");
    expect(p.cbnn('why', 'reprot', 'p.yaml').stderr).toContain("did you mean 'report'?");
    const file = p.cbnn('status', 'p.yml');
    expect(file.code).toBe(3);
    expect(file.stderr).toBe("cbnn: no pipeline file p.yml\n  hint: did you mean 'p.yaml'?; pipelines here: p.yaml\n");
    const folder = p.cbnn('dag', '.');
    expect(folder.code).toBe(3);
    expect(folder.stderr).toContain('is a folder, not a pipeline file');

    const [jobs, worker, executor, runs] = [
      p.cbnn('run', 'p.yaml', '--jobs', '0'),
      p.cbnn('worker'),
      p.cbnn('run', 'p.yaml', '--executor', 'bulmq'),
      p.cbnn('bench', 'runtime', '--runs', 'x', '--dataset', 'd', '--compact', 'c', '--baseline', 'b', '--fp', 'f'),
    ];
    for (const r of [jobs, worker, executor, runs]) {
      expect(r.code).toBe(2);
      noStack(r);
    }
    expect(jobs.stderr).toContain("--jobs expects a positive integer, got '0'");
    expect(worker.stderr).toContain('cbnn worker needs --redis URL');
    expect(executor.stderr).toContain('Allowed choices are local, bullmq');
  });

  it('why takes <stage> [pipeline] and <pipeline> <stage>; a pipeline alone asks for the stage', () => {
    const p = project(PIPELINE);
    const a = p.cbnn('why', 'report', 'p.yaml');
    const b = p.cbnn('why', 'p.yaml', 'report');
    expect(a.code).toBe(0);
    expect(b).toEqual(a);
    expect(a.stdout).toMatch(/^report: run$/m);
    const alone = p.cbnn('why', 'p.yaml');
    expect(alone.code).toBe(2);
    expect(alone.stderr).toContain('name a stage too: cbnn why <stage> [pipeline], e.g. cbnn why select p.yaml');
  });

  it('run --dry-run says what would run and touches nothing; verify and gc refuse a store that does not exist', () => {
    const p = project(PIPELINE);
    const dry = p.cbnn('run', 'p.yaml', '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('2 of 2 stages would run');
    expect(dry.stdout).toContain("dry run: nothing was executed or written; without --dry-run the stages marked 'run' are executed here");
    expect(fs.existsSync(path.join(p.dir, '.cbnn'))).toBe(false);
    expect(fs.existsSync(path.join(p.dir, 'p.lock'))).toBe(false);
    const missing = path.join(p.dir, 'no-store');
    for (const r of [p.cbnn('verify', '--store', missing), p.cbnn('gc', '--store', missing)]) {
      expect(r.code).toBe(3);
      expect(r.stderr).toContain(`no artifact store at ${missing}`);
    }
    expect(fs.existsSync(missing)).toBe(false);
  });

  it('the end of a run: wall time when stages ran; where the results came from when all were cached', () => {
    const p = project(PIPELINE);
    const first = p.cbnn('run', 'p.yaml');
    expect(first.stdout).toContain('| Compact BNN | 1 |');
    expect(first.stdout).toMatch(/^wall time: [\d.]+ s \(2 stages ran\)$/m);
    const second = p.cbnn('run', 'p.yaml');
    expect(second.stdout).not.toContain('wall time');
    expect(second.stdout).toMatch(
      /^nothing ran: all 2 stages were restored from the cache in [\d.]+ s; these results were computed by earlier runs \(the latest on \d{4}-\d\d-\d\d \d\d:\d\d UTC\) in [\d.]+ s of stage time$/m,
    );
  });

  it('a damaged stored output or an edited out/ file: one line names it and says what happens', () => {
    const p = project(PIPELINE);
    expect(p.cbnn('run', 'p.yaml').code).toBe(0);
    const shown = path.join(p.dir, '.cbnn', 'out', 'data', 'data.txt');
    // Flip a byte of the object itself (out/ shows it through a hard link).
    fs.chmodSync(shown, 0o644);
    fs.writeFileSync(shown, '12346\n');
    const healed = p.cbnn('run', 'p.yaml');
    expect(healed.code).toBe(0);
    expect(healed.stderr.split('\n').filter((l) => l.startsWith('⚠'))).toEqual([
      `⚠ data: its stored output is damaged: data.txt (content does not match its hash); stage data runs again (the damaged copy is moved to ${path.join(fs.realpathSync(p.dir), '.cbnn', 'corrupt')})`,
    ]);
    expect(fs.readFileSync(shown, 'utf8')).toBe('12345\n');

    // Replace the file in out/ (as an editor's save does): the stored object is intact.
    fs.chmodSync(path.dirname(fs.realpathSync(shown)), 0o755);
    fs.rmSync(shown);
    fs.writeFileSync(shown, 'mine\n');
    const restored = p.cbnn('run', 'p.yaml');
    expect(restored.code).toBe(0);
    expect(restored.stderr).toContain(
      '⚠ data: out/data/data.txt was changed outside cbnn; the stored result is intact, so out/data is put back from the store and the stage does not run again',
    );
    expect(fs.readFileSync(shown, 'utf8')).toBe('12345\n');
  });

  it("a cmd stage whose deps: name another stage's outs: refused when the pipeline loads, with the fix", () => {
    const p = project(`
name: dvc-habit
stages:
  a:
    cmd: echo A > \${outDir}/a.txt
    outs: [a.txt]
  b:
    cmd: cat a.txt > \${outDir}/b.txt
    deps: [a.txt]
    outs: [b.txt]
`);
    for (const r of [p.cbnn('run', 'p.yaml'), p.cbnn('dag', 'p.yaml')]) {
      expect(r.code).toBe(3);
      expect(r.stderr).toContain(
        `p.yaml:9:12: stages.b.deps[0]: stage 'b': dep 'a.txt' is an output of stage 'a'. A stage's outputs live in the artifact store`,
      );
      expect(r.stderr).toContain(
        "hint: take it as an input instead: give stage 'b' `needs: { a: a }`, read `${inputs.a}/a.txt` in its cmd, and drop 'a.txt' from deps:",
      );
    }
    expect(fs.existsSync(path.join(p.dir, '.cbnn'))).toBe(false);
  });

  it('exit codes of the README table: 6 when another run holds the store and --no-wait, 7 when Redis is unreachable', async () => {
    const p = project(`
name: busy
stages:
  s:
    cmd: sleep 3; echo done > \${outDir}/x.txt
    outs: [x.txt]
`);
    const holder = spawn(process.execPath, [CLI, 'run', 'p.yaml'], { cwd: p.dir });
    let err = '';
    holder.stderr.on('data', (d) => (err += d));
    while (!err.includes('s: started')) await new Promise((r) => setTimeout(r, 50));
    const busy = p.cbnn('run', 'p.yaml', '--no-wait');
    expect(busy.code).toBe(6);
    noStack(busy);
    expect(await new Promise((r) => holder.on('close', r))).toBe(0);
    const port = await freePort();
    const down = p.cbnn('run', 'p.yaml', '--executor', 'bullmq', '--redis', `redis://127.0.0.1:${port}`);
    expect(down.code).toBe(7);
    expect(down.stderr).toContain(`cannot reach Redis at redis://127.0.0.1:${port}`);
  });

  it('a queued BullMQ run with no worker says so at intervals (queue, Redis URL, the worker command), then a worker takes it', async () => {
    const redis = await TestRedis.start();
    const children: ChildProcess[] = [];
    try {
      const { url, port } = redis;
      const p = project(PIPELINE);
      const storeDir = path.join(p.dir, 'store');
      const run = spawn(
        process.execPath,
        [CLI, 'run', 'p.yaml', '--executor', 'bullmq', '--redis', url, '--store', storeDir, '--queue', 'newcomer', '--worker-notice', '1'],
        { cwd: p.dir },
      );
      children.push(run);
      let err = '';
      let out = '';
      run.stderr.on('data', (d) => (err += d));
      run.stdout.on('data', (d) => (out += d));
      const notices = (): string[] => err.split('\n').filter((l) => l.startsWith('waiting for a worker'));
      await waitFor(() => notices().length >= 2, 20_000, 'two no-worker notices');
      expect(notices()[0]).toMatch(
        new RegExp(
          `^waiting for a worker: no worker has taken stage 'data' for \\d+ s \\(queue 'newcomer' on Redis at redis://127\\.0\\.0\\.1:${port}; no worker is connected to this queue\\)\\. Start one on a machine that shares the store:$`,
        ),
      );
      expect(err).toContain(`  cbnn worker --redis ${url} --store ${storeDir} --queue newcomer\n`);

      const worker = spawn(process.execPath, [CLI, 'worker', '--redis', url, '--store', storeDir, '--queue', 'newcomer'], { cwd: p.dir, stdio: 'ignore' });
      children.push(worker);
      const code = await new Promise((r) => run.on('close', r));
      expect(code).toBe(0);
      expect(out).toContain('| Compact BNN | 1 |');
      expect(fs.readFileSync(path.join(storeDir, 'out', 'data', 'data.txt'), 'utf8')).toBe('12345\n');
    } finally {
      for (const c of children.reverse()) {
        if (c.exitCode !== null || c.signalCode !== null) continue;
        const exited = new Promise((r) => c.once('exit', r));
        c.kill('SIGTERM');
        await exited;
      }
      await redis.stop();
    }
  }, 60_000);
});
