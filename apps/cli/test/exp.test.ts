import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';

// The built CLI, end to end: `cbnn run --name` records runs, `cbnn exp` compares them.
const CLI = path.join(__dirname, '..', 'dist', 'main.js');

const PIPELINE = `
name: exp-cli
params:
  n: 3
  lr: 0.1
stages:
  a:
    cmd: node gen.js \${params.n}
    deps: [gen.js]
    outs: [a.txt]
    metrics: [m.json]
  b:
    cmd: cat \${inputs.a}/a.txt > \${outDir}/b.txt
    needs: { a: a }
    outs: [b.txt]
`;
const GEN = `const fs = require('fs'); const n = Number(process.argv[2]);
fs.writeFileSync(process.env.CBNN_OUT_DIR + '/a.txt', 'A'.repeat(n));
fs.writeFileSync(process.env.CBNN_OUT_DIR + '/m.json', JSON.stringify({ acc: 0.5 + n / 100, size: n * 10 }));
`;

describe('cbnn exp', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbnn-exp-'));
  const cbnn = (...args: string[]) => {
    const r = spawnSync(process.execPath, [CLI, ...args], { cwd: dir, encoding: 'utf8' });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const ids: Record<string, string> = {};
  beforeAll(() => {
    fs.writeFileSync(path.join(dir, 'p.yaml'), PIPELINE);
    fs.writeFileSync(path.join(dir, 'gen.js'), GEN);
    for (const [name, set] of [
      ['first', 'n=3'],
      ['five', 'n=5'],
      ['cached', 'n=3'],
    ]) {
      const r = cbnn('run', 'p.yaml', '--name', name, '--set', set, '--json');
      expect(r.code).toBe(0);
      ids[name] = JSON.parse(r.stdout).runId;
      expect(r.stderr).toContain(`run recorded: ${ids[name]} (${name})`);
    }
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('list (newest first), show --only-changed --json / --csv, diff with code, params and input marks', () => {
    const list = JSON.parse(cbnn('exp', 'list', '--json').stdout);
    expect(list.runs.map((r: { name: string }) => r.name)).toEqual(['cached', 'five', 'first']);
    expect(list.runs[0].counts).toMatchObject({ executed: 0, cached: 2 });
    expect(cbnn('exp', 'list').stdout).toMatch(/^id\s+name\s+pipeline/);

    const show = JSON.parse(cbnn('exp', 'show', '--only-changed', '--json').stdout);
    expect(show.columns).toEqual([
      { name: 'n', kind: 'param' },
      { name: 'a.acc', kind: 'metric' },
      { name: 'a.size', kind: 'metric' },
    ]);
    expect(show.runs.map((r: { params: { n: number }; metrics: Record<string, number> }) => [r.params.n, r.metrics['a.size']])).toEqual([
      [3, 30],
      [5, 50],
      [3, 30],
    ]);
    const csv = cbnn('exp', 'show', 'first', 'five', '--metrics', 'size', '--params', 'n', '--csv').stdout.trim().split('\n');
    expect(csv).toEqual([
      'id,name,pipeline,startedAt,status,n,a.size',
      expect.stringMatching(new RegExp(`^${ids.first},first,exp-cli,.*,ok,3,30$`)),
      expect.stringMatching(/,five,exp-cli,.*,ok,5,50$/),
    ]);

    const diff = JSON.parse(cbnn('exp', 'diff', 'first', 'five', '--json').stdout);
    expect(diff.params).toEqual([{ name: 'n', a: 3, b: 5 }]);
    expect(diff.metrics.find((m: { name: string }) => m.name === 'a.size')).toEqual({ name: 'a.size', a: 30, b: 50, change: 20, relative: 20 / 30 });
    expect(diff.stages.map((s: { id: string; changes: string[] }) => [s.id, s.changes])).toEqual([
      ['a', ['params']],
      ['b', ['input']],
    ]);
    expect(cbnn('exp', 'diff', 'first', 'five').stdout).toMatch(/stages[\s\S]*a\s+params[\s\S]*b\s+input/);
    const same = JSON.parse(cbnn('exp', 'diff', 'first', 'cached', '--json').stdout);
    expect([same.params, same.stages]).toEqual([[], []]);
  });

  it('refuses unknown runs and metrics with exit 2 and the nearest; damaged records are named and skipped', () => {
    const unknown = cbnn('exp', 'show', 'fivee');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("run 'fivee': no run has this id or name");
    expect(unknown.stderr).toMatch(/nearest: five\b/);
    const diffUnknown = cbnn('exp', 'diff', 'first', 'nope');
    expect(diffUnknown.code).toBe(2);
    expect(diffUnknown.stderr).toContain("B 'nope'");
    const metric = cbnn('exp', 'show', '--metrics', 'acc,accuracy');
    expect(metric.code).toBe(2);
    expect(metric.stderr).toContain('--metrics accuracy: no recorded run has a metric by this name');
    expect(metric.stderr).toContain('a.acc');
    expect(cbnn('run', 'p.yaml', '--name', 'bad name!').code).toBe(2);

    const records = path.join(dir, '.cbnn', 'records');
    const good = fs.readFileSync(path.join(records, `${ids.first}.json`), 'utf8');
    fs.writeFileSync(path.join(records, '20200101-000000-dead.json'), good.slice(0, 100));
    const list = cbnn('exp', 'list');
    expect(list.code).toBe(0);
    expect(list.stderr).toContain('20200101-000000-dead.json: not JSON');
    expect(list.stdout.split('\n').filter((l) => l.startsWith('2026') || /^\d{8}-/.test(l))).toHaveLength(3);
    fs.rmSync(path.join(records, '20200101-000000-dead.json'));
  });

  it('show reads a record of format 1 (before the schedule fields)', () => {
    const records = path.join(dir, '.cbnn', 'records');
    const current = JSON.parse(fs.readFileSync(path.join(records, `${ids.first}.json`), 'utf8'));
    expect(current.format).toBe('cbnn.run/2');
    expect(current.stages[0]).toHaveProperty('waitSeconds');
    const old = { ...current, format: 'cbnn.run/1', id: '20200101-000000-0001', name: 'old1' };
    old.stages = current.stages.map(({ waitSeconds: _w, threads: _t, ...s }: Record<string, unknown>) => s);
    const file = path.join(records, `${old.id}.json`);
    fs.writeFileSync(file, JSON.stringify(old));
    try {
      const r = cbnn('exp', 'show', 'old1', '--json');
      expect(r.stderr).not.toContain('not a run record');
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).runs.map((x: { id: string; params: { n: number } }) => [x.id, x.params.n])).toEqual([[old.id, 3]]);
    } finally {
      fs.rmSync(file);
    }
  });

  it('remove drops records (all names resolved first); gc then frees what only they kept', () => {
    expect(cbnn('exp', 'remove', 'five', 'nope').code).toBe(2);
    expect(JSON.parse(cbnn('exp', 'list', '--json').stdout).runs).toHaveLength(3);
    const gcBefore = JSON.parse(cbnn('gc', 'p.yaml', '--json', '--dry-run').stdout);
    expect(gcBefore).toMatchObject({ keptRecords: 3, removedObjects: 0 });
    const removed = JSON.parse(cbnn('exp', 'remove', 'five', '--json').stdout);
    expect(removed.removed.map((r: { name: string }) => r.name)).toEqual(['five']);
    // n=5's outputs were referenced by the removed record only (the lock file holds n=3).
    const gc = JSON.parse(cbnn('gc', 'p.yaml', '--json').stdout);
    expect(gc.keptRecords).toBe(2);
    expect(gc.removedObjects).toBeGreaterThan(0);
    expect(JSON.parse(cbnn('exp', 'list', '--json').stdout).runs.map((r: { name: string }) => r.name)).toEqual(['cached', 'first']);
  });
});
