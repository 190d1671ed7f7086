import * as fs from 'node:fs';
import * as path from 'node:path';
import { criticalPathPriorities, readRunRecords, recordedRunSchema, StageScheduler, summaryTable, writeRunRecord } from '../src';
import { workspace } from './helpers';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
const chain = (ids: Array<[string, string[]]>) => ({ instances: ids.map(([id, upstream]) => ({ id, upstream })) });

describe('critical-path priorities', () => {
  it('is the own cost plus the most work downstream', () => {
    const p = chain([
      ['data', []],
      ['fp', ['data']],
      ['baseline', ['data']],
      ['sens', ['baseline']],
      ['select', ['fp', 'sens']],
    ]);
    const unit = criticalPathPriorities(p);
    expect(Object.fromEntries(unit)).toEqual({ data: 4, fp: 2, baseline: 3, sens: 2, select: 1 });
    const timed = criticalPathPriorities(p, new Map([['fp', 100]]));
    expect(timed.get('fp')).toBe(101);
    expect(timed.get('baseline')).toBe(3);
    expect(timed.get('data')).toBe(102);
  });
});

describe('StageScheduler', () => {
  const order = (ids: string[]) => new Map(ids.map((id, i) => [id, i]));

  it('gives a free slot to the highest priority, ties in pipeline order, not to who asked first', async () => {
    const s = new StageScheduler({
      jobs: 1,
      threads: 1,
      priority: new Map([
        ['a', 1],
        ['b', 5],
        ['c', 5],
      ]),
      order: order(['a', 'b', 'c']),
    });
    const started: string[] = [];
    const run = (id: string) => s.acquire(id).then((l) => (started.push(id), l));
    const leases = [run('a'), run('c'), run('b')];
    let first = await Promise.race(leases);
    expect(first.id).toBe('b');
    first.release();
    await tick();
    expect(started).toEqual(['b', 'c']);
    first = await leases[1];
    first.release();
    await tick();
    expect(started).toEqual(['b', 'c', 'a']);
  });

  it('deals spare threads by priority, up to what a stage can use; pinned and non-adapting stages keep theirs', async () => {
    const s = new StageScheduler({
      jobs: 3,
      threads: 4,
      priority: new Map([
        ['a', 10],
        ['b', 5],
        ['c', 1],
        ['p', 20],
      ]),
      order: order(['a', 'b', 'c', 'p']),
    });
    const [a, b] = await Promise.all([s.acquire('a'), s.acquire('b')]);
    expect([a.threads, b.threads]).toEqual([3, 1]); // a is new: it may use what is spare
    const seen: Record<string, number[]> = { a: [], b: [] };
    a.onChange((n) => seen.a.push(n));
    b.onChange((n) => seen.b.push(n));
    a.canUse(2);
    await tick();
    expect(seen.a).toEqual([2]); // the one it cannot use is spare; b never said it adapts
    expect(s.assignment().get('b')).toBe(1);
    b.canUse(8);
    await tick();
    expect(Object.fromEntries(s.assignment())).toEqual({ a: 2, b: 2 });
    const p = await s.acquire('p', 3); // pinned: its pin, whatever the budget
    expect(p.threads).toBe(3);
    expect(Object.fromEntries(s.assignment())).toEqual({ a: 1, b: 1, p: 3 });
    expect(seen.a.at(-1)).toBe(1);
    p.release();
    a.release();
    await tick();
    expect(Object.fromEntries(s.assignment())).toEqual({ b: 4 }); // the freed threads go to what runs
    expect(seen.b.at(-1)).toBe(4);
  });

  it('a new stage gets its thread at once and the holder is told to shrink; a finishing stage gives its threads back', async () => {
    const s = new StageScheduler({
      jobs: 2,
      threads: 2,
      priority: new Map([
        ['long', 9],
        ['short', 2],
      ]),
      order: order(['long', 'short']),
    });
    const long = await s.acquire('long');
    long.canUse(2);
    long.adopted(2);
    await tick();
    const told: number[] = [];
    long.onChange((n) => told.push(n));
    const short = await s.acquire('short');
    expect(short.threads).toBe(1);
    expect(told).toEqual([1]);
    expect(long.adopted(1)).toBe(2);
    expect(long.adopted(1)).toBeUndefined(); // no change: nothing to say
    short.release();
    await tick();
    expect(told).toEqual([1, 2]);
    long.adopted(2);
    expect(long.timeline().map((c) => c.threads)).toEqual([2, 1, 2]);
  });
});

describe('the runner schedules by the critical path', () => {
  const order = (dir: string): string[] => fs.readFileSync(path.join(dir, 'order.txt'), 'utf8').trim().split('\n');

  it('--jobs 1: the stage the most work waits on starts first, though declared last; wait and threads are recorded', async () => {
    const ws = workspace(`
name: critical
stages:
  short: { cmd: "echo short >> order.txt; touch \${outDir}/x" }
  long: { cmd: "echo long >> order.txt; touch \${outDir}/x" }
  after: { cmd: "echo after >> order.txt; touch \${outDir}/x", needs: { in: long } }
`);
    const summary = await ws.run({ jobs: 1, threads: 2 });
    expect(summary.ok).toBe(true);
    expect(order(ws.dir)).toEqual(['long', 'short', 'after']); // FIFO would start 'short'
    const o = Object.fromEntries(summary.outcomes.map((x) => [x.id, x]));
    // short asked for the slot with long and waited for all of it.
    expect(o.short.waitMs!).toBeGreaterThanOrEqual(o.long.durationMs);
    expect(o.long.threads).toEqual([{ atMs: 0, threads: 2 }]); // alone: the whole budget
    const record = readRunRecords(ws.store.root).runs[0];
    expect(record.format).toBe('cbnn.run/2');
    const short = record.stages.find((st) => st.id === 'short')!;
    expect(short.waitSeconds).toBeCloseTo(o.short.waitMs! / 1000, 6);
    expect(short.threads).toEqual([{ atSeconds: 0, threads: 2 }]);
    expect(summaryTable(summary)).toMatch(/short\s+ran\s+\S+\s+\S+\s+2\b/);
  });

  it('costs come from the last run that executed each stage: a slow stage outranks a longer chain of quick ones', async () => {
    const ws = workspace(`
name: costed
stages:
  slow: { cmd: "echo slow >> order.txt; sleep 1.5; touch \${outDir}/x" }
  quick: { cmd: "echo quick >> order.txt; touch \${outDir}/x" }
  next: { cmd: "echo next >> order.txt; touch \${outDir}/x", needs: { in: quick } }
`);
    await ws.run({ jobs: 1 });
    expect(order(ws.dir)).toEqual(['quick', 'slow', 'next']); // no record: the longer chain first
    fs.rmSync(path.join(ws.dir, 'order.txt'));
    await ws.run({ jobs: 1, force: ['slow', 'quick', 'next'] });
    expect(order(ws.dir)).toEqual(['slow', 'quick', 'next']);
  });

  it('a record of format 1 (no schedule) still reads', async () => {
    const ws = workspace(`
name: old
stages:
  a: { cmd: "touch \${outDir}/x" }
`);
    await ws.run({ jobs: 1 });
    const current = readRunRecords(ws.store.root).runs[0];
    const old = JSON.parse(JSON.stringify(current));
    old.format = 'cbnn.run/1';
    old.id = current.id.replace(/-[0-9a-f]+$/, '-0000');
    for (const st of old.stages) {
      delete st.waitSeconds;
      delete st.threads;
    }
    expect(recordedRunSchema.safeParse(old).success).toBe(true);
    writeRunRecord(ws.store.root, old);
    const read = readRunRecords(ws.store.root);
    expect(read.damaged).toEqual([]);
    expect(read.runs.map((r) => r.format).sort()).toEqual(['cbnn.run/1', 'cbnn.run/2']);
  });
});
