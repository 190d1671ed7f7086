import * as fs from 'node:fs';
import * as path from 'node:path';
import { createStageRegistry } from '@cbnn/core';
import { FileHashes, garbageCollect, loadPipeline, planStatus, readLockFile, writeLockFile } from '../src';
import { readOut, testHandlers, workspace } from './helpers';

const PIPELINE = `
name: code-test
stages:
  left:
    uses: test.write
    with: { text: L }
  right:
    uses: test.write
    with: { text: R }
  join:
    uses: test.concat
    needs: { a: left, b: right }
`;

/** The fixture handlers, each declaring `code` as the handler file's own copy in the workspace. */
function registryWithCode(codeDir: string) {
  return createStageRegistry(testHandlers.map((h) => ({ ...h, code: () => ({ [`fixture/${h.name}`]: path.join(codeDir, h.name.replace('test.', '')) }) })));
}

describe('cache keys cover the code', () => {
  it('a changed handler build re-runs its stages and what follows; why names it; an unchanged tree re-runs nothing', async () => {
    const ws = workspace(PIPELINE);
    const code = path.join(ws.dir, 'code');
    fs.mkdirSync(path.join(code, 'write'), { recursive: true });
    fs.mkdirSync(path.join(code, 'concat'), { recursive: true });
    fs.writeFileSync(path.join(code, 'write', 'index.js'), 'v1');
    fs.writeFileSync(path.join(code, 'write', 'index.d.ts'), 'types');
    fs.writeFileSync(path.join(code, 'concat', 'index.js'), 'c1');
    const registry = registryWithCode(code);
    expect((await ws.run({ registry })).executed).toBe(3);

    // Unchanged tree: nothing runs, even after a rebuild that rewrote the same bytes (new mtime).
    const later = new Date(Date.now() + 5000);
    fs.utimesSync(path.join(code, 'write', 'index.js'), later, later);
    const same = await ws.run({ registry });
    expect(same.executed).toBe(0);
    expect(ws.executed()).toEqual([]);

    // Type declarations are not code that runs.
    fs.writeFileSync(path.join(code, 'write', 'index.d.ts'), 'other types');
    expect((await ws.run({ registry })).executed).toBe(0);

    // The handler's built code changes, its version does not.
    const seedOf = () => {
      const lock = readLockFile(path.join(ws.dir, 'p.lock'))!;
      return /"seed":(\d+)/.exec(ws.store.readObject(lock.stages.left.log!).toString('utf8'))![1];
    };
    const seedBefore = seedOf();
    fs.writeFileSync(path.join(code, 'write', 'index.js'), 'v2');
    const plans = planStatus(loadPipeline(ws.file, { registry }), ws.store);
    const left = plans.find((p) => p.id === 'left')!;
    expect(left.action).toBe('run');
    expect(left.reasons.join('\n')).toMatch(/handler code changed: fixture\/test\.write \([0-9a-f]{12} -> [0-9a-f]{12}\)/);
    expect(plans.find((p) => p.id === 'join')!.action).toBe('run');
    const changed = await ws.run({ registry });
    // left and right run again; their outputs are the same bytes, so join is restored.
    expect(ws.executed()).toEqual(['left', 'right']);
    expect(changed.cached).toBe(1);
    expect(readOut(ws, 'join')).toBe('L+R');
    // The seed follows what the stage is asked to do, not its code's bytes: a refactor re-runs it
    // with the same seed (and so, for a deterministic handler, the same bytes).
    expect(seedOf()).toBe(seedBefore);

    // The concat handler's code changes: only join re-runs.
    fs.writeFileSync(path.join(code, 'concat', 'index.js'), 'c2');
    await ws.run({ registry });
    expect(ws.executed()).toEqual(['join']);
    expect(readLockFile(path.join(ws.dir, 'p.lock'))!.stages.join.code).toEqual({ 'fixture/test.concat': expect.stringMatching(/^[0-9a-f]{64}$/) });
  });

  it('a cmd stage whose declared script changed re-runs; one whose script is unchanged does not', async () => {
    const ws = workspace(`
name: cmd-code
stages:
  gen:
    cmd: sh gen.sh > \${outDir}/value.txt
    deps: [gen.sh]
    outs: [value.txt]
  other:
    cmd: echo fixed > \${outDir}/value.txt
    outs: [value.txt]
`);
    fs.writeFileSync(path.join(ws.dir, 'gen.sh'), 'echo one\n');
    const first = await ws.run();
    expect(first.outcomes.map((o) => o.note ?? o.status)).toEqual(['ran', 'ran']);
    expect(readOut(ws, 'gen')).toBe('one\n');
    expect((await ws.run()).executed).toBe(0);
    fs.writeFileSync(path.join(ws.dir, 'gen.sh'), 'echo two\n');
    const plans = planStatus(loadPipeline(ws.file, { registry: createStageRegistry([]) }), ws.store);
    expect(plans.find((p) => p.id === 'gen')!.reasons).toContain("changed dep 'gen.sh' (file content)");
    const again = await ws.run();
    expect(again.executed).toBe(1);
    expect(readOut(ws, 'gen')).toBe('two\n');
  });

  it('a store whose lock file predates code keys says so in one line and re-runs those stages', async () => {
    const ws = workspace(PIPELINE);
    fs.mkdirSync(path.join(ws.dir, 'write'));
    fs.mkdirSync(path.join(ws.dir, 'concat'));
    await ws.run();
    const lockFile = path.join(ws.dir, 'p.lock');
    const lock = readLockFile(lockFile)!;
    for (const e of Object.values(lock.stages)) delete e.code;
    writeLockFile(lockFile, lock);
    const plans = planStatus(loadPipeline(ws.file, { registry: registryWithCode(ws.dir) }), ws.store);
    expect(plans.find((p) => p.id === 'left')!.reasons.join()).toContain('cache keys now include the code');
    const messages: string[] = [];
    const ran = await ws.run({ registry: registryWithCode(ws.dir), reporter: { message: (m) => messages.push(m) } });
    expect(messages).toEqual(['cache keys now include the code; 3 stages will re-run']);
    expect(ran.executed).toBe(3);
    // Rewritten under the new scheme: the next run is quiet and cached.
    messages.length = 0;
    expect((await ws.run({ registry: registryWithCode(ws.dir), reporter: { message: (m) => messages.push(m) } })).executed).toBe(0);
    expect(messages).toEqual([]);

    // A handler whose code cannot be found (an unbuilt package) fails, naming what is missing.
    fs.rmSync(path.join(ws.dir, 'concat'), { recursive: true });
    const unbuilt = await ws.run({ registry: registryWithCode(ws.dir) });
    expect(unbuilt.outcomes.find((o) => o.id === 'join')!.note).toMatch(/cannot fingerprint the code of handler 'test.concat'/);
  });

  it('a lock file last written for another store is not compared with this one, nor kept by its gc', async () => {
    const ws = workspace(PIPELINE);
    fs.mkdirSync(path.join(ws.dir, 'write'));
    fs.mkdirSync(path.join(ws.dir, 'concat'));
    await ws.run({ registry: registryWithCode(ws.dir) });
    // The same pipeline then ran against another store under the old key scheme: its lock file
    // is the one beside the pipeline now.
    const lockFile = path.join(ws.dir, 'p.lock');
    const foreign = readLockFile(lockFile)!;
    foreign.store = path.join(ws.dir, 'elsewhere');
    for (const e of Object.values(foreign.stages)) delete e.code;
    writeLockFile(lockFile, foreign);

    const plans = planStatus(loadPipeline(ws.file, { registry: registryWithCode(ws.dir) }), ws.store);
    expect(plans.flatMap((p) => p.reasons).join()).not.toContain('cache keys now include the code');
    expect(plans.map((p) => p.action)).toEqual(['restore', 'restore', 'restore']);
    expect((await garbageCollect(ws.store, { dryRun: true })).lockFiles).toEqual([]);

    const messages: string[] = [];
    const again = await ws.run({ registry: registryWithCode(ws.dir), reporter: { message: (m) => messages.push(m) } });
    expect(messages).toEqual([]);
    expect(again.executed).toBe(0);
    expect(readLockFile(lockFile)!.store).toBe(ws.store.root);
    expect(Object.values(readLockFile(lockFile)!.stages).every((e) => e.code !== undefined)).toBe(true);
  });
});

describe('FileHashes', () => {
  it('remembers hashes across processes by path, size and mtime; a change of either re-hashes', () => {
    const ws = workspace();
    const f = path.join(ws.dir, 'a.txt');
    fs.writeFileSync(f, 'abc');
    const cache = path.join(ws.dir, 'hashes.json');
    const first = new FileHashes(cache);
    const h1 = first.file(f);
    first.save();
    expect(JSON.parse(fs.readFileSync(cache, 'utf8'))[f].hash).toBe(h1);
    // The memory answers without reading the file: a planted entry shows it is used.
    fs.writeFileSync(cache, JSON.stringify({ [f]: { ...JSON.parse(fs.readFileSync(cache, 'utf8'))[f], hash: 'remembered' } }));
    expect(new FileHashes(cache).file(f)).toBe('remembered');
    fs.writeFileSync(f, 'abcd');
    expect(new FileHashes(cache).file(f)).not.toBe('remembered');
  });
});
