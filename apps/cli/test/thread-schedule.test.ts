import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';

// Threads follow the critical path at run time: two training stages start on one thread each
// (--jobs 2 --threads 2); when the short one finishes, the long one grows to two threads at its
// next epoch boundary. The trained model does not depend on it: its bytes equal those of the
// same stage trained on one thread throughout.
const CLI = path.join(__dirname, '..', 'dist', 'main.js');

const PIPELINE = `
name: grow
seed: 5
stages:
  data:
    uses: bitslice.dataset
    with: { source: mnist, limit: { perClass: 40 }, fractions: { validation: 0.2, test: 0.2 } }
  short:
    uses: train.bnn
    needs: { dataset: data }
    with: { width: 0.125, epochs: 1, batchSize: 32, gradientShards: 2, recalibrationSamples: 0, patience: 0, backend: wasm }
  long:
    uses: train.bnn
    needs: { dataset: data }
    with: { width: 0.125, epochs: 6, batchSize: 32, gradientShards: 2, recalibrationSamples: 0, patience: 0, backend: wasm }
`;

interface Outcome {
  id: string;
  status: string;
  key: string;
  waitMs?: number;
  threads?: Array<{ atMs: number; threads: number }>;
}

function run(dir: string, args: string[]): { outcomes: Map<string, Outcome>; stderr: string; runId: string } {
  const r = spawnSync(process.execPath, [CLI, 'run', 'p.yaml', '--json', ...args], { cwd: dir, encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) throw new Error(`cbnn run ${args.join(' ')} exited ${r.status}:\n${r.stderr.slice(-3000)}`);
  const summary = JSON.parse(r.stdout) as { outcomes: Outcome[]; runId: string };
  return { outcomes: new Map(summary.outcomes.map((o) => [o.id, o])), stderr: r.stderr, runId: summary.runId };
}

describe('threads move to the stage that is left', () => {
  it('the long training grows from 1 to 2 threads when the short one finishes, and its model.cbnn equals a 1-thread run', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbnn-grow-'));
    fs.writeFileSync(path.join(dir, 'p.yaml'), PIPELINE);
    const moving = path.join(dir, 'store-moving');
    const a = run(dir, ['--store', moving, '--jobs', '2', '--threads', '2']);
    const long = a.outcomes.get('long')!;
    const short = a.outcomes.get('short')!;
    expect([long.status, short.status]).toEqual(['ran', 'ran']);
    expect(short.threads).toEqual([{ atMs: 0, threads: 1 }]);
    expect(long.threads![0]).toEqual({ atMs: 0, threads: 1 });
    const grown = long.threads!.find((c) => c.threads === 2);
    expect(grown).toBeDefined();
    expect(grown!.atMs).toBeGreaterThan(0);
    expect(a.stderr).toContain('long: now on 2 threads (was 1)');
    // The run record holds the same timeline, in seconds.
    const record = JSON.parse(fs.readFileSync(path.join(moving, 'records', `${a.runId}.json`), 'utf8'));
    const recorded = record.stages.find((s: { id: string }) => s.id === 'long');
    expect(recorded.threads).toEqual(long.threads!.map((c) => ({ atSeconds: c.atMs / 1000, threads: c.threads })));
    expect(recorded.waitSeconds).toBeGreaterThanOrEqual(0);

    const fixed = path.join(dir, 'store-fixed');
    const b = run(dir, ['--store', fixed, '--stage', 'long', '--jobs', '1', '--threads', '1']);
    expect(b.outcomes.get('long')!.threads).toEqual([{ atMs: 0, threads: 1 }]);
    expect(b.outcomes.get('long')!.key).toBe(long.key);
    const bytes = (store: string) => fs.readFileSync(path.join(store, 'out', 'long', 'model.cbnn'));
    expect(bytes(moving).equals(bytes(fixed))).toBe(true);
  });
});
