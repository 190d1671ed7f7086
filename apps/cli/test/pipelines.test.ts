import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { handlerDescriptors } from '../src/handlers';

// The shipped pipelines, end to end through the built `cbnn` binary, on real data: the
// embedded MNIST digits (smoke.yaml) and a CIFAR-10 binary-format fixture (cifar10.yaml).
const ROOT = path.join(__dirname, '..', '..', '..');
const CLI = path.join(ROOT, 'apps', 'cli', 'dist', 'main.js');

function cbnn(args: string[], cwd = ROOT): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', timeout: 600_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A copy of a shipped pipeline in a temp folder, so its lock file is written there, not in the repo. */
function pipelineCopy(name: string, dir: string): string {
  const file = path.join(dir, name);
  fs.copyFileSync(path.join(ROOT, 'pipelines', name), file);
  return file;
}

function readJson(file: string): any {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

/** CIFAR-10 binary records: 1 label byte + 1024 R + 1024 G + 1024 B. Class c is brighter in channel c % 3. */
function writeCifarFixture(dir: string, perBatch: number): void {
  fs.mkdirSync(dir, { recursive: true });
  let seed = 12345;
  const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 24;
  const batch = (n: number) => {
    const buf = Buffer.alloc(n * 3073);
    for (let i = 0; i < n; i++) {
      const label = i % 10;
      buf[i * 3073] = label;
      for (let p = 0; p < 3072; p++) {
        const channel = Math.floor(p / 1024);
        buf[i * 3073 + 1 + p] = (channel === label % 3 ? 128 : 0) + (rand() & 127);
      }
    }
    return buf;
  };
  for (let b = 1; b <= 5; b++) fs.writeFileSync(path.join(dir, `data_batch_${b}.bin`), batch(perBatch));
  fs.writeFileSync(path.join(dir, 'test_batch.bin'), batch(perBatch * 2));
}

/** The first smoke test's store and last complete run, kept for later tests (saves them a run each). */
let smokeLock: string | undefined;
let smokeRun: { store: string; file: string; runId: string } | undefined;

describe('shipped pipelines through the real CLI', () => {
  it('smoke.yaml runs the whole method end to end, then a rerun is fully cached', () => {
    const store = fs.mkdtempSync(path.join(os.tmpdir(), 'cbnn-smoke-'));
    const smoke = pipelineCopy('smoke.yaml', store);
    const first = cbnn(['run', smoke, '--store', store, '--jobs', '2', '--json']);
    smokeLock = path.join(store, 'smoke.lock');
    expect(first.stderr).toMatch(/report\s+ran/);
    expect(first.code).toBe(0);
    const summary = JSON.parse(first.stdout);
    expect(summary).toMatchObject({ ok: true, cached: 0 });
    expect(summary.executed).toBe(11);

    const out = path.join(store, 'out');
    const search = readJson(path.join(out, 'select', 'search.json'));
    expect(search.format).toBe('cbnn.search');
    expect(search.candidates.length).toBe(2);
    // The evidence protocol: decisions on validation, the all-plane control beside the candidates.
    expect(search.selection).toBe('validation');
    expect(search.controls.map((c: { name: string; planeCount: number }) => c.planeCount)).toEqual([8]);
    expect(search.ablation.length).toBe(search.candidates.length);
    expect(readJson(path.join(out, 'sensitivity', 'sensitivity.json')).split).toBe('validation');
    expect(readJson(path.join(out, 'plan', 'plan.json')).split).toBe('validation');
    const bench = readJson(path.join(out, 'bench', 'bench.json'));
    expect(bench.rows.some((r: { model: string }) => r.model === 'compact')).toBe(true);
    expect(bench.rows.some((r: { runtime: string }) => /onnxruntime/.test(r.runtime))).toBe(true);
    const html = fs.readFileSync(path.join(out, 'report', 'report.html'), 'utf8');
    expect(html).toContain('Baseline BNN');
    expect(fs.readFileSync(path.join(out, 'report', 'summary.md'), 'utf8')).toMatch(/\| Compact BNN \|/);
    // The results table is printed at the end of the run.
    expect(first.stderr + first.stdout).toMatch(/\| Compact BNN \|/);

    const second = cbnn(['run', smoke, '--store', store, '--json']);
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ executed: 0, cached: 11 });
    smokeRun = { store, file: smoke, runId: JSON.parse(second.stdout).runId };
    expect(cbnn(['verify', '--store', store]).code).toBe(0);

    // The summary reads at a glance: the headline against the fastest float runtime measured
    // (single thread, largest batch), a comparison x batch matrix; one ratio per line only with --verbose.
    const shown = first.stderr + first.stdout;
    const fpRows = bench.rows.filter((r: { model: string; threads: number }) => r.model === 'fp' && r.threads === 1);
    const largest = Math.max(...fpRows.map((r: { batch: number }) => r.batch));
    const fastest = fpRows
      .filter((r: { batch: number }) => r.batch === largest)
      .sort((a: { latencyMs: { median: number } }, b: { latencyMs: { median: number } }) => a.latencyMs.median - b.latencyMs.median)[0];
    const compactRuntime = bench.rows.find((r: { model: string; threads: number }) => r.model === 'compact' && r.threads === 1).runtime;
    expect(shown).toContain(
      `**Speedup of the compact BNN (w 0.125, ${compactRuntime}, 1 thread) over full precision (w 0.125, ${fastest.runtime}, 1 thread), the fastest float runtime measured: `,
    );
    const comparisons = new Set(bench.ratios.map((r: { label: string }) => r.label.replace(/ \(batch \d+\)$/, '')));
    expect(shown.split('\n').filter((l: string) => /^\| (compact|baseline) BNN \(w /.test(l))).toHaveLength(comparisons.size);
    expect(shown).toContain('| comparison (× = how many times faster the first side ran) | batch 1 | batch 16 |');
    expect(shown).not.toContain('Every speed ratio');

    // `cbnn report` rebuilds the report from the latest results, with the pipeline graph.
    const reportFile = path.join(store, 'again.html');
    const report = cbnn(['report', smoke, '--store', store, '--out', reportFile, '--verbose']);
    expect(report.code).toBe(0);
    expect(report.stdout).toMatch(/\| Compact BNN \|/);
    const list = report.stdout.slice(report.stdout.indexOf('Every speed ratio (same run, median latencies):'));
    expect(list.split('\n').filter((l: string) => /^- .* vs .*, batch \d+: [\d.]+×( \(by CPU time [\d.]+×\))?$/.test(l))).toHaveLength(bench.ratios.length);
    expect(fs.readFileSync(reportFile, 'utf8')).toContain('search-d1');
    expect(fs.existsSync(path.join(store, 'again.md'))).toBe(true);
    // It links the run its results come from: the second (cached) run shows the same outputs.
    const secondId = JSON.parse(second.stdout).runId;
    expect(fs.readFileSync(reportFile, 'utf8')).toContain(`id="report-run">${secondId}<`);

    // Both runs are recorded; `report --run` rebuilds the report of either from its record.
    const recorded = JSON.parse(cbnn(['exp', 'list', '--store', store, '--json']).stdout).runs;
    expect(recorded.map((r: { id: string; counts: { executed: number } }) => [r.id, r.counts.executed])).toEqual([
      [secondId, 0],
      [summary.runId, summary.executed],
    ]);
    const byRun = cbnn(['report', '--run', summary.runId, '--store', store, '--out', path.join(store, 'first.html')]);
    expect(byRun.code).toBe(0);
    expect(fs.readFileSync(path.join(store, 'first.html'), 'utf8')).toContain(`id="report-run">${summary.runId}<`);
    // The experiments page: size vs accuracy and the baseline's curve; no param differs.
    const plot = cbnn(['exp', 'plot', '--store', store, '--out', path.join(store, 'exp.html')]);
    expect(plot.code).toBe(0);
    expect(plot.stdout).toContain('2 charts of 2 runs');
    expect(plot.stderr).toContain('not shown: Params vs metric');

    // `cbnn bench runtime` on the same models, outside the pipeline.
    const benchDir = path.join(store, 'bench-cli');
    const benchCli = cbnn([
      'bench',
      'runtime',
      '--dataset',
      path.join(out, 'data'),
      '--compact',
      path.join(out, 'select'),
      '--baseline',
      path.join(out, 'baseline'),
      '--fp',
      path.join(out, 'fp'),
      '--runs',
      '1',
      '--out',
      benchDir,
    ]);
    expect(benchCli.code).toBe(0);
    expect(readJson(path.join(benchDir, 'bench.json')).ratios.length).toBeGreaterThan(0);
  }, 600_000);

  it('same key, same bytes: smoke.yaml in two stores gives every non-measurement stage the same output hash', () => {
    const run = (): string => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbnn-repro-'));
      const r = cbnn(['run', pipelineCopy('smoke.yaml', dir), '--store', path.join(dir, 'store'), '--jobs', '2', '--json']);
      expect(r.code).toBe(0);
      return path.join(dir, 'smoke.lock');
    };
    const a = readJson(smokeLock ?? run()).stages;
    const b = readJson(run()).stages;
    const measurements = new Set(
      handlerDescriptors()
        .filter((d) => d.measurement)
        .map((d) => d.name),
    );
    expect([...measurements]).toEqual(['bench.runtime']);
    // A stage downstream of a measurement gets other inputs (other timings), hence another key.
    const tainted = new Set<string>();
    let compared = 0;
    for (const [id, entry] of Object.entries<{ handler?: string; key: string; output: string; inputs: Record<string, string> }>(a)) {
      const fromMeasurement = Object.entries(a).some(
        ([up, e]) =>
          (tainted.has(up) || measurements.has((e as { handler?: string }).handler ?? '')) &&
          Object.values(entry.inputs).includes((e as { output: string }).output),
      );
      if (measurements.has(entry.handler ?? '') || fromMeasurement) {
        tainted.add(id);
        continue;
      }
      expect({ id, key: b[id].key }).toEqual({ id, key: entry.key });
      expect({ id, output: b[id].output }).toEqual({ id, output: entry.output });
      compared++;
    }
    expect(compared).toBe(Object.keys(a).length - tainted.size);
    expect(compared).toBeGreaterThanOrEqual(8);
    expect([...tainted].sort()).toEqual(['bench', 'report']);
  }, 600_000);

  it("report after a partial run: the latest complete run, never the partial run's stages mixed in; --run picks one", () => {
    if (!smokeRun) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbnn-partial-'));
      const file = pipelineCopy('smoke.yaml', dir);
      const r = cbnn(['run', file, '--store', path.join(dir, 'store'), '--jobs', '2', '--json']);
      expect(r.code).toBe(0);
      smokeRun = { store: path.join(dir, 'store'), file, runId: JSON.parse(r.stdout).runId };
    }
    const { store, file, runId } = smokeRun;
    const trainCount = (dir: string) => readJson(path.join(dir, 'dataset.json')).splits.train.count;
    const complete = readJson(path.join(store, 'records', `${runId}.json`));
    expect(complete.complete).toBe(true);
    const outputOf = (record: { stages: Array<{ id: string; output?: string }> }, id: string) => record.stages.find((s) => s.id === id)!.output!;
    const completeCount = trainCount(path.join(store, 'views', outputOf(complete, 'data')));

    // A partial run with another dataset size repoints out/data only.
    const partial = cbnn(['run', file, '--store', store, '--stage', 'data', '--set', 'perClass=30', '--json']);
    expect(partial.code).toBe(0);
    const partialId = JSON.parse(partial.stdout).runId;
    expect(readJson(path.join(store, 'records', `${partialId}.json`)).stages.map((s: { id: string }) => s.id)).toEqual(['data']);
    expect(trainCount(path.join(store, 'out', 'data'))).toBeLessThan(completeCount);

    const report = cbnn(['report', file, '--store', store, '--out', path.join(store, 'r.html')]);
    expect(report.code).toBe(0);
    expect(report.stdout).toContain(`report of run ${runId} (complete`);
    expect(report.stdout).toContain(`Dataset: mnist (${completeCount} train`);
    expect(report.stdout).toMatch(/\| Compact BNN \|/);

    const onlyPartial = cbnn(['report', file, '--store', store, '--run', partialId, '--out', path.join(store, 'p.html')]);
    expect(onlyPartial.code).toBe(0);
    expect(onlyPartial.stdout).toContain(`report of run ${partialId} (partial`);
    expect(onlyPartial.stdout).not.toContain(`Dataset: mnist (${completeCount} train`);
    expect(onlyPartial.stdout).not.toMatch(/\| Compact BNN \|/);

    const unknown = cbnn(['report', file, '--store', store, '--run', 'nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(`--run 'nope': no run has this id or name`);
    expect(unknown.stderr).toContain(partialId); // among the nearest
  }, 600_000);

  it('cifar10.yaml runs on a CIFAR-10 binary fixture: 24 planes, per-colour sensitivity and plan', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbnn-cifar-'));
    const data = path.join(dir, 'cifar-10-batches-bin');
    writeCifarFixture(data, 20);
    const store = path.join(dir, 'store');
    const r = cbnn([
      'run',
      pipelineCopy('cifar10.yaml', dir),
      '--store',
      store,
      '--jobs',
      '2',
      '--json',
      '--set',
      `cifarDir=${data}`,
      '--set',
      'epochs=1',
      '--set',
      'searchEpochs=1',
      '--set',
      'width=0.125',
      '--set',
      'searchWidths=[0.125]',
      '--set',
      'repeats=1',
      '--set',
      'benchRuns=1',
      '--set',
      'batchSize=16',
    ]);
    expect(r.stderr).toMatch(/report\s+ran/);
    expect(r.code).toBe(0);
    const out = path.join(store, 'out');
    const manifest = readJson(path.join(out, 'data', 'dataset.json'));
    expect(manifest.channelNames).toEqual(['r', 'g', 'b']);
    expect(manifest.splits.test.count).toBe(40);
    const info = readJson(path.join(out, 'baseline', 'model-info.json'));
    const planes = info.planes.selection ?? info.planes;
    expect(Object.values(planes).flat()).toHaveLength(24);
    const sensitivity = readJson(path.join(out, 'sensitivity', 'sensitivity.json'));
    const channels = new Set(sensitivity.rows.map((row: { channel: string }) => row.channel));
    expect([...channels].sort()).toEqual(['b', 'g', 'r']);
    const plan = readJson(path.join(out, 'plan', 'plan.json'));
    expect(Object.keys(plan.keptPlanes).sort()).toEqual(['b', 'g', 'r']);
  }, 600_000);

  it('a truncated IDX file fails its stage with a message naming the file, without a stack trace, exit 3', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbnn-idx-'));
    const images = path.join(dir, 'train-images-idx3-ubyte');
    const labels = path.join(dir, 'train-labels-idx1-ubyte');
    const header = (magic: number, dims: number[]) =>
      Buffer.from(new Uint32Array([magic, ...dims]).map((v) => ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)).buffer);
    fs.writeFileSync(images, Buffer.concat([header(0x803, [10, 28, 28]), Buffer.alloc(28 * 28 * 5)]));
    fs.writeFileSync(labels, Buffer.concat([header(0x801, [10]), Buffer.alloc(10)]));
    const file = path.join(dir, 'p.yaml');
    fs.writeFileSync(
      file,
      `name: idx\nstages:\n  data:\n    uses: bitslice.dataset\n    with: { source: idx, paths: { trainImages: ${images}, trainLabels: ${labels} } }\n`,
    );
    const r = cbnn(['run', file, '--store', path.join(dir, 'store')]);
    expect(r.code).toBe(3); // invalid input data, not a crash
    expect(r.stderr).toContain(`${images}: header declares 10x28x28 = 7840 bytes of data but the file has 3920`);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  it('a bad --set value names the param and exits non-zero without touching the store', () => {
    const store = fs.mkdtempSync(path.join(os.tmpdir(), 'cbnn-bad-'));
    const r = cbnn(['run', pipelineCopy('smoke.yaml', store), '--store', store, '--set', 'epochs=many']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/smoke\.yaml.*epochs/);
    expect(fs.existsSync(path.join(store, 'objects')) ? fs.readdirSync(path.join(store, 'objects')).length : 0).toBe(0);
  });
});
