import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { ArtifactStore, listFiles } from '../src';
import { readOut, runnerScript, workspace, type Workspace } from './helpers';

function startRunner(ws: Workspace): { child: ReturnType<typeof spawn>; done: Promise<{ code: number | null; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, [runnerScript, ws.file, ws.store.root, '2'], { env: { ...process.env, CBNN_TEST_EVENTS: ws.events } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr })),
  );
  return { child, done };
}

async function waitFor(cond: () => boolean, ms = 10000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 25));
  }
}

const SLOW = `
name: crash
stages:
  fast: { uses: test.write, with: { text: F } }
  slow: { uses: test.write, with: { text: S, sleepMs: 1500, partial: true }, needs: {} }
  after: { uses: test.concat, needs: { a: fast, b: slow } }
`;

describe('crash safety and corruption', () => {
  it('SIGKILL of the runner mid-stage: nothing partial is visible, the next run completes, verify is clean', async () => {
    const ws = workspace(SLOW);
    const { child, done } = startRunner(ws);
    // The slow stage has written its PARTIAL file into its temp outDir when it starts.
    await waitFor(() => ws.eventsOf().some((e) => e.stage === 'slow' && e.event === 'start'));
    await new Promise((r) => setTimeout(r, 200));
    child.kill('SIGKILL');
    await done;
    expect(fs.existsSync(path.join(ws.store.root, 'out', 'slow'))).toBe(false);
    expect(fs.existsSync(path.join(ws.store.root, 'run.lock'))).toBe(true); // left behind by the killed runner
    // No object anywhere in the store holds the partial content.
    const store = new ArtifactStore(ws.store.root);
    for (const h of store.listObjects()) expect(store.readObject(h).toString()).not.toBe('PARTIAL');

    const rerun = await ws.run();
    expect(rerun.ok).toBe(true);
    expect(readOut(ws, 'slow')).toBe('S');
    expect(readOut(ws, 'after')).toBe('F+S');
    expect(store.verifyAll().corrupt).toEqual([]);
    expect(fs.readdirSync(store.tmpRoot).filter((n) => !n.startsWith('.'))).toEqual([]);
  });

  it('a flipped byte in a stored object: verify names it, run never uses it and re-runs the stage', async () => {
    const ws = workspace(SLOW.replace('sleepMs: 1500, partial: true', 'sleepMs: 0'));
    await ws.run();
    const store = new ArtifactStore(ws.store.root);
    const view = fs.realpathSync(path.join(store.root, 'out', 'slow'));
    const target = path.join(view, 'value.txt');
    const hash = store.listObjects().find((h) => fs.statSync(store.objectPath(h)).ino === fs.statSync(target).ino)!;
    fs.chmodSync(store.objectPath(hash), 0o644);
    fs.writeFileSync(store.objectPath(hash), 'X'); // same length, one byte flipped: S -> X
    const report = store.verifyAll();
    expect(report.corrupt.map((c) => c.hash)).toEqual([hash]);

    const messages: string[] = [];
    const again = await ws.run({ reporter: { message: (m) => messages.push(m) } });
    expect(ws.executed()).toContain('slow');
    expect(again.outcomes.find((o) => o.id === 'slow')!.status).toBe('ran');
    // One line names the stage, the damaged file and what happens now.
    expect(messages).toEqual([
      `⚠ slow: its stored output is damaged: value.txt (content does not match its hash); stage slow runs again (the damaged copy is moved to ${path.join(store.root, 'corrupt')})`,
    ]);
    expect(readOut(ws, 'slow')).toBe('S');
    expect(readOut(ws, 'after')).toBe('F+S');
    expect(new ArtifactStore(ws.store.root).verifyAll().corrupt).toEqual([]);
  });

  it('a file in out/ replaced by hand (an editor saving a copy): one line says so, out/ is put back, nothing re-runs', async () => {
    const ws = workspace(SLOW.replace('sleepMs: 1500, partial: true', 'sleepMs: 0'));
    await ws.run();
    const file = path.join(ws.store.root, 'out', 'slow', 'value.txt');
    const dir = path.dirname(fs.realpathSync(file));
    fs.chmodSync(dir, 0o755);
    fs.rmSync(file);
    fs.writeFileSync(file, 'edited');
    const messages: string[] = [];
    const again = await ws.run({ reporter: { message: (m) => messages.push(m) } });
    expect(again.executed).toBe(0);
    expect(messages).toEqual([
      expect.stringMatching(
        /^⚠ slow: out\/slow\/value\.txt was changed outside cbnn; the stored result is intact, so out\/slow is put back from the store and the stage does not run again/,
      ),
    ]);
    expect(readOut(ws, 'slow')).toBe('S');
    const quiet: string[] = [];
    await ws.run({ reporter: { message: (m) => quiet.push(m) } });
    expect(quiet).toEqual([]);
  });

  it('two runners on one store: both end correctly (the second waits) and the store stays intact', async () => {
    const ws = workspace(SLOW.replace('partial: true', 'partial: false'));
    const a = startRunner(ws);
    await waitFor(() => fs.existsSync(path.join(ws.store.root, 'run.lock')));
    const b = startRunner(ws);
    const [ra, rb] = await Promise.all([a.done, b.done]);
    expect(ra.code).toBe(0);
    expect(rb.code).toBe(0);
    expect(rb.stderr).toMatch(/waiting for the store/);
    const sa = JSON.parse(ra.stdout);
    const sb = JSON.parse(rb.stdout);
    expect(sa.executed).toBe(3);
    expect(sb.executed).toBe(0); // everything was cached by the first by the time it got the lock
    expect(readOut(ws, 'after')).toBe('F+S');
    expect(new ArtifactStore(ws.store.root).verifyAll().corrupt).toEqual([]);
    expect(listFiles(path.join(ws.store.root, 'objects')).length).toBeGreaterThan(0);
  });
});
