import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';

// A training stage killed with SIGKILL mid-way resumes from its last epoch's checkpoint in the
// next `cbnn run`, and its output equals an uninterrupted run's, byte for byte.
const CLI = path.join(__dirname, '..', 'dist', 'main.js');

const PIPELINE = `
name: resume
seed: 3
stages:
  data:
    uses: bitslice.dataset
    with: { source: mnist, limit: { perClass: 40 }, fractions: { validation: 0.2, test: 0.2 } }
  baseline:
    uses: train.bnn
    needs: { dataset: data }
    with: { arch: vgg-small, width: 0.125, epochs: 4, batchSize: 32, recalibrationSamples: 64, patience: 0, backend: wasm }
`;

function workspace(): { dir: string; file: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbnn-resume-'));
  const file = path.join(dir, 'p.yaml');
  fs.writeFileSync(file, PIPELINE);
  return { dir, file };
}

function run(dir: string, store: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, 'run', 'p.yaml', '--store', store, '--json'], { cwd: dir, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Every file of a folder; JSON without wall-clock fields (those belong to logs, not results). */
function contents(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, rel: string): void => {
    for (const name of fs.readdirSync(d).sort()) {
      const p = path.join(d, name);
      if (fs.statSync(p).isDirectory()) walk(p, path.join(rel, name));
      else if (/\.jsonl?$/.test(name)) out[path.join(rel, name)] = fs.readFileSync(p, 'utf8').replace(/"(seconds|samplesPerSecond)":\s*[0-9.e+-]+,?/g, '');
      else out[path.join(rel, name)] = fs.readFileSync(p).toString('base64');
    }
  };
  walk(dir, '');
  return out;
}

const checkpoints = (store: string): string[] => {
  const root = path.join(store, 'checkpoints');
  return fs.existsSync(root) ? fs.readdirSync(root).filter((k) => fs.existsSync(path.join(root, k, 'train-checkpoint.bin'))) : [];
};

describe('resumable training stages', () => {
  it('kill -9 mid-training, run again: resumed at epoch 2, same bytes as an uninterrupted run; damaged checkpoint restarts from epoch 1', async () => {
    const w = workspace();
    const reference = path.join(w.dir, 'store-ref');
    expect(run(w.dir, reference).code).toBe(0);
    expect(checkpoints(reference)).toEqual([]); // removed once the output is committed

    const store = path.join(w.dir, 'store');
    const child = spawn(process.execPath, [CLI, 'run', 'p.yaml', '--store', store], { cwd: w.dir, detached: true, stdio: 'ignore' });
    const started = Date.now();
    while (checkpoints(store).length === 0) {
      if (Date.now() - started > 120_000) throw new Error('no checkpoint appeared');
      await new Promise((r) => setTimeout(r, 25));
    }
    process.kill(-child.pid!, 'SIGKILL');
    await new Promise((r) => child.on('close', r));
    expect(fs.existsSync(path.join(store, 'out', 'baseline'))).toBe(false);

    const resumed = run(w.dir, store);
    if (resumed.code !== 0) throw new Error(resumed.stderr.slice(-3000));
    const summary = JSON.parse(resumed.stdout);
    const baseline = summary.outcomes.find((o: { id: string }) => o.id === 'baseline');
    expect(baseline.status).toBe('ran');
    expect(baseline.metrics.resumedAtEpoch).toBeGreaterThanOrEqual(2);
    expect(resumed.stderr).toMatch(/resumed at epoch \d/);
    expect(contents(path.join(store, 'out', 'baseline'))).toEqual(contents(path.join(reference, 'out', 'baseline')));
    expect(checkpoints(store)).toEqual([]);

    // A damaged checkpoint (same key) is discarded with one line, and training starts over.
    const key = baseline.key as string;
    const ckptDir = path.join(store, 'checkpoints', key);
    fs.mkdirSync(ckptDir, { recursive: true });
    fs.writeFileSync(path.join(ckptDir, 'train-checkpoint.bin'), 'CBNNCKPT truncated');
    const again = spawnSync(process.execPath, [CLI, 'run', 'p.yaml', '--store', store, '--json', '--force', 'baseline'], {
      cwd: w.dir,
      encoding: 'utf8',
      timeout: 300_000,
    });
    expect(again.status).toBe(0);
    expect(again.stderr.match(/checkpoint .* discarded: .*training starts at epoch 1/g)).toHaveLength(1);
    expect(again.stderr).not.toMatch(/resumed at epoch/);
    expect(contents(path.join(store, 'out', 'baseline'))).toEqual(contents(path.join(reference, 'out', 'baseline')));

    // gc drops checkpoints of finished stages (here: one left behind for a key with a run record).
    fs.mkdirSync(ckptDir, { recursive: true });
    fs.writeFileSync(path.join(ckptDir, 'train-checkpoint.bin'), 'left over');
    const gc = spawnSync(process.execPath, [CLI, 'gc', 'p.yaml', '--store', store, '--json'], { cwd: w.dir, encoding: 'utf8' });
    expect(JSON.parse(gc.stdout).removedCheckpoints).toBe(1);
    expect(fs.existsSync(ckptDir)).toBe(false);
  }, 300_000);
});
