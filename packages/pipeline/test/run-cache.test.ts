import * as fs from 'node:fs';
import * as path from 'node:path';
import { readLockFile, planStatus, loadPipeline } from '../src';
import { leftRightJoin, readOut, registry, workspace } from './helpers';

const PIPELINE = (text: string) => leftRightJoin('cache-test', text);

describe('run cache', () => {
  it('second run executes nothing and restores outputs; a param change re-runs only it and downstream; reverting restores', async () => {
    const ws = workspace(PIPELINE('L'));
    const first = await ws.run();
    expect(first.ok).toBe(true);
    expect(ws.executed()).toEqual(['join', 'left', 'right']);
    expect(readOut(ws, 'join')).toBe('L+R');

    // Outputs removed from out/: the cached run restores them without executing.
    fs.rmSync(path.join(ws.store.root, 'out'), { recursive: true });
    const second = await ws.run();
    expect(second.executed).toBe(0);
    expect(second.cached).toBe(3);
    expect(ws.executed()).toEqual([]);
    expect(readOut(ws, 'join')).toBe('L+R');

    ws.write(PIPELINE('L2'));
    const plans = planStatus(loadPipeline(ws.file, { registry }), ws.store);
    expect(plans.find((p) => p.id === 'left')!.reasons.join()).toContain('changed param with.text: "L" -> "L2"');
    expect(plans.find((p) => p.id === 'right')!.action).toBe('up-to-date');
    const third = await ws.run();
    expect(ws.executed()).toEqual(['join', 'left']);
    expect(third.executed).toBe(2);
    expect(readOut(ws, 'join')).toBe('L2+R');

    ws.write(PIPELINE('L'));
    expect(planStatus(loadPipeline(ws.file, { registry }), ws.store).find((p) => p.id === 'left')!.action).toBe('restore');
    const fourth = await ws.run();
    expect(fourth.executed).toBe(0);
    expect(ws.executed()).toEqual([]);
    expect(readOut(ws, 'join')).toBe('L+R');

    const lock = readLockFile(path.join(ws.dir, 'p.lock'))!;
    expect(Object.keys(lock.stages).sort()).toEqual(['join', 'left', 'right']);
    expect(lock.stages.left.metrics).toEqual({ chars: 1, length: 1 });
    expect(lock.stages.join.inputs.a).toBe(lock.stages.left.output);
  });

  it('--set overrides a param with its YAML type and changes the key', async () => {
    const ws = workspace(PIPELINE('L'));
    await ws.run();
    const s = await ws.run({ set: ['text=XY'] });
    expect(s.executed).toBe(2);
    expect(readOut(ws, 'join')).toBe('XY+R');
  });

  it('a new handler version re-runs the stage and status says why', async () => {
    const ws = workspace(PIPELINE('L'));
    await ws.run();
    process.env.CBNN_TEST_WRITE_VERSION = '2';
    jest.resetModules();
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { createStageRegistry } = require('@cbnn/core');
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const v2 = createStageRegistry(require('./fixtures/handlers.js').handlers);
      const plans = planStatus(loadPipeline(ws.file, { registry: v2 }), ws.store);
      expect(plans.find((p) => p.id === 'left')!.reasons).toContain('new handler version: 1 -> 2');
    } finally {
      delete process.env.CBNN_TEST_WRITE_VERSION;
    }
  });

  it('matrix instances with the same key are computed once; stage[*] gets one subfolder per instance', async () => {
    const ws = workspace(`
name: matrix
stages:
  gen:
    uses: test.write
    matrix: { text: [a, b, a] , extra: [1] }
    name: "gen-\${matrix.text}-x\${matrix.extra}"
    with: { text: "\${matrix.text}" }
`);
    // gen-a-x1 appears twice: a duplicate instance name is an error naming it.
    await expect(ws.run()).rejects.toThrow(/duplicate stage name 'gen-a-x1'/);
    ws.write(`
name: matrix
stages:
  gen:
    uses: test.write
    matrix: { text: [a, b], copy: [1, 2] }
    name: "gen-\${matrix.text}-\${matrix.copy}"
    with: { text: "\${matrix.text}" }
  all:
    uses: test.collect
    needs: { all: "gen[*]" }
`);
    const s = await ws.run({ jobs: 4 });
    expect(s.ok).toBe(true);
    // 4 instances, 2 distinct keys: exactly 2 executions of test.write.
    expect(ws.executed().filter((x) => x.startsWith('gen'))).toHaveLength(2);
    expect(readOut(ws, 'all')).toBe('gen-a-1=a,gen-a-2=a,gen-b-1=b,gen-b-2=b');
    expect(readOut(ws, 'gen-b-2')).toBe('b');
  });

  it('retries a failing stage', async () => {
    const ws = workspace();
    ws.write(`
name: retry
stages:
  flaky:
    uses: test.fail
    retries: 2
    with: { counter: ${JSON.stringify(path.join(ws.dir, 'counter'))} }
`);
    const s = await ws.run();
    expect(s.ok).toBe(true);
    expect(s.outcomes[0].attempts).toBe(3);
    expect(readOut(ws, 'flaky')).toBe('ok after 3');
  });
});
