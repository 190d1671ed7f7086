import * as fs from 'node:fs';
import * as path from 'node:path';
import { ExitCode } from '@cbnn/core';
import { buildRunTable, diffRuns, garbageCollect, readRunRecords, recordedRunSchema, resolveRun, runRecordFile, type RecordedRun } from '../src';
import { leftRightJoin, testHandlers, workspace } from './helpers';

const PIPELINE = (text: string, extra = '') => leftRightJoin('records-test', text, { params: '  nested: { depth: 2 }\n', extra });

const errorOf = (f: () => unknown): { exitCode?: number; message: string; hint?: string } => {
  try {
    f();
  } catch (e) {
    return e as { exitCode?: number; message: string; hint?: string };
  }
  throw new Error('expected an error');
};

describe('run records', () => {
  it('every run leaves an immutable record: params, per-stage key material, ran or cached, seconds, outputs, metrics', async () => {
    const ws = workspace(PIPELINE('L'));
    const first = await ws.run({ record: { name: 'baseline', command: 'cbnn run p.yaml --name baseline' } });
    const second = await ws.run();
    const { runs, damaged } = readRunRecords(ws.store.root);
    expect(damaged).toEqual([]);
    expect(runs.map((r) => r.id)).toEqual([second.runId, first.runId]); // newest first

    const rec = runs[1];
    expect(recordedRunSchema.parse(JSON.parse(fs.readFileSync(runRecordFile(ws.store.root, rec.id), 'utf8')))).toEqual(rec);
    expect(fs.statSync(runRecordFile(ws.store.root, rec.id)).mode & 0o222).toBe(0); // read-only
    expect(rec).toMatchObject({
      name: 'baseline',
      status: 'ok',
      exitCode: 0,
      params: { text: 'L', nested: { depth: 2 } },
      counts: { executed: 3, cached: 0, failed: 0, skipped: 0 },
      executor: { name: 'local', jobs: 2, workers: [] },
    });
    expect(rec.pipeline.name).toBe('records-test');
    expect(rec.pipeline.hash).toMatch(/^[0-9a-f]{64}$/);
    const left = rec.stages.find((s) => s.id === 'left')!;
    expect(left).toMatchObject({
      status: 'ran',
      handler: 'test.write',
      metrics: { chars: 1, length: 1 },
      material: { handler: 'test.write', version: 1, params: { text: 'L' } },
    });
    expect(left.cpuSeconds).toBeGreaterThan(0); // the worker process's own CPU time at least
    expect(left.output).toBe(first.outcomes.find((o) => o.id === 'left')!.output);
    expect(rec.stages.find((s) => s.id === 'join')!.needs).toEqual({ a: ['left'], b: ['right'] });
    expect(runs[0].stages.every((s) => s.status === 'cached' && s.cpuSeconds === undefined)).toBe(true);
    expect(runs[0].counts).toMatchObject({ executed: 0, cached: 3 });
  });

  it('a failed and a cancelled run are recorded with their status', async () => {
    const ws = workspace();
    ws.write(PIPELINE('L', `  broken:\n    uses: test.fail\n    with: { counter: "${path.join(ws.dir, 'counter')}" }\n`));
    const failed = await ws.run({ keepGoing: true });
    const ctl = new AbortController();
    ws.write(PIPELINE('slow').replace('with: { text: R }', 'with: { text: R2, sleepMs: 4000 }'));
    const cancelled = ws.run({ signal: ctl.signal });
    setTimeout(() => ctl.abort(new Error('SIGINT')), 600);
    const c = await cancelled;
    const runs = readRunRecords(ws.store.root).runs;
    const byId = new Map(runs.map((r) => [r.id, r]));
    expect(byId.get(failed.runId!)).toMatchObject({ status: 'failed', exitCode: ExitCode.stageFailed, counts: { failed: 1 } });
    expect(byId.get(failed.runId!)!.stages.find((s) => s.id === 'broken')!.note).toContain('planned failure');
    expect(byId.get(c.runId!)).toMatchObject({ status: 'cancelled', exitCode: ExitCode.cancelled });
  });

  it('a damaged record is reported by file and skipped; the others are still listed', async () => {
    const ws = workspace(PIPELINE('L'));
    const ok = await ws.run();
    const dir = path.dirname(runRecordFile(ws.store.root, ok.runId!));
    const good = fs.readFileSync(runRecordFile(ws.store.root, ok.runId!), 'utf8');
    fs.writeFileSync(path.join(dir, '20200101-000000-aaaa.json'), good.slice(0, good.length / 2)); // truncated
    fs.writeFileSync(path.join(dir, '20200101-000000-bbbb.json'), JSON.stringify({ ...JSON.parse(good), format: 'cbnn.run/0' })); // wrong schema
    fs.writeFileSync(path.join(dir, '20200101-000000-cccc.json'), good); // id does not match its name
    const { runs, damaged } = readRunRecords(ws.store.root);
    expect(runs.map((r) => r.id)).toEqual([ok.runId]);
    expect(damaged.map((d) => path.basename(d.file)).sort()).toEqual(['20200101-000000-aaaa.json', '20200101-000000-bbbb.json', '20200101-000000-cccc.json']);
    expect(damaged.find((d) => d.file.endsWith('aaaa.json'))!.problem).toMatch(/not JSON/);
    expect(damaged.find((d) => d.file.endsWith('bbbb.json'))!.problem).toMatch(/format/);
  });

  it('gc keeps what records reference unless told to drop records, then drops the records that lost outputs', async () => {
    const ws = workspace(PIPELINE('OLD'));
    const old = await ws.run({ record: { name: 'old' } });
    ws.write(PIPELINE('NEW'));
    await ws.run();
    const oldLeft = old.outcomes.find((o) => o.id === 'left')!.output!;
    // The lock file now points at NEW; only the record of the first run references OLD's outputs.
    const kept = await garbageCollect(ws.store);
    expect(kept.keptRecords).toBe(2);
    expect(ws.store.hasObject(oldLeft)).toBe(true);
    expect(ws.store.checkOutput(oldLeft)).toEqual([]);

    const dropped = await garbageCollect(ws.store, { dropRecords: true });
    expect(dropped).toMatchObject({ keptRecords: 1, removedRecords: 1 });
    expect(ws.store.hasObject(oldLeft)).toBe(false);
    expect(readRunRecords(ws.store.root).runs.map((r) => r.name)).toEqual([undefined]);
  });

  it('diff marks each stage code, params or input; show picks and narrows columns; bad names exit 2 with the nearest', async () => {
    const ws = workspace(PIPELINE('L'));
    const a = await ws.run({ record: { name: 'a' } });
    const b = await ws.run({ set: ['text=LL'], record: { name: 'b' } });
    // The handler's code changed (here: a version bump, in the runner and in its workers).
    const writer = testHandlers.find((h) => h.name === 'test.write')! as { version: number };
    process.env.CBNN_TEST_WRITE_VERSION = '2';
    writer.version = 2;
    let c;
    try {
      c = await ws.run({ record: { name: 'c' } });
    } finally {
      delete process.env.CBNN_TEST_WRITE_VERSION;
      writer.version = 1;
    }
    const runs = readRunRecords(ws.store.root).runs;
    const [ra, rb, rc] = [a, b, c].map((r) => runs.find((x) => x.id === r.runId)!);

    const ab = diffRuns(ra, rb);
    expect(ab.note).toBeUndefined();
    expect(ab.params).toEqual([{ name: 'text', a: 'L', b: 'LL' }]);
    expect(ab.metrics).toEqual([
      { name: 'left.chars', a: 1, b: 2, change: 1, relative: 1 },
      { name: 'left.length', a: 1, b: 2, change: 1, relative: 1 },
    ]);
    expect(ab.stages.map((s) => [s.id, s.changes, s.fields])).toEqual([
      ['left', ['params'], ['params.text']],
      ['join', ['input'], ['inputs.a']],
    ]);

    const ac = diffRuns(ra, rc);
    expect(ac.params).toEqual([]);
    // Same bytes out of the new code: join's inputs, hence its key, did not change.
    expect(ac.stages.map((s) => [s.id, s.changes])).toEqual([
      ['left', ['code']],
      ['right', ['code']],
    ]);

    const other: RecordedRun = { ...rb, pipeline: { ...rb.pipeline, name: 'another' } };
    expect(diffRuns(ra, other).note).toContain("different pipelines ('records-test' and 'another')");

    const all = buildRunTable([ra, rb, rc]);
    expect(all.columns.map((c) => c.name)).toEqual(['nested.depth', 'text', 'left.chars', 'left.length', 'right.chars']);
    const changed = buildRunTable([ra, rb, rc], { onlyChanged: true });
    expect(changed.columns.map((c) => c.name)).toEqual(['text', 'left.chars', 'left.length']);
    expect(changed.rows.map((r) => r.values.text)).toEqual(['L', 'LL', 'L']);
    expect(buildRunTable([ra, rb], { metrics: ['chars'], params: ['nested'] }).columns.map((c) => c.name)).toEqual([
      'nested.depth',
      'left.chars',
      'right.chars',
    ]);
    expect(
      buildRunTable([ra, rb], { metrics: ['left.*'] })
        .columns.filter((c) => c.kind === 'metric')
        .map((c) => c.name),
    ).toEqual(['left.chars', 'left.length']);

    const badMetric = errorOf(() => buildRunTable([ra, rb], { metrics: ['charz'] }));
    expect(badMetric.exitCode).toBe(ExitCode.usage);
    expect(badMetric.message).toContain('--metrics charz');
    expect(badMetric.hint).toContain('left.chars');

    expect(resolveRun(runs, 'b').id).toBe(rb.id);
    expect(resolveRun(runs, rc.id).name).toBe('c');
    expect(resolveRun(runs, rc.id.slice(0, -1)).id).toBe(rc.id);
    const unknown = errorOf(() => resolveRun(runs, 'bb'));
    expect(unknown.exitCode).toBe(ExitCode.usage);
    expect(unknown.message).toContain("'bb': no run has this id or name");
    expect(unknown.hint).toMatch(/^nearest: b, /);
    expect(errorOf(() => resolveRun(runs, ra.id.slice(0, 8))).message).toContain('ambiguous');
  });
});
