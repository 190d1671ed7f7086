import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createLogger, InvalidInputError, standaloneStageContext } from '@cbnn/core';
import { buildReport, loadReportInput, reportHtmlStage, renderDag, type ReportInput } from '../src';
import {
  SYNTHETIC_DAG,
  syntheticBench,
  syntheticRgbSensitivity,
  syntheticSearch,
  syntheticSensitivity,
  writeSyntheticFolders,
  writeTinyDataset,
} from './synthetic-results';

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'cbnn-report-'));
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

const PROVENANCE = { gitCommit: 'abc123def', packageVersions: { '@cbnn/report': '0.1.0' }, command: 'cbnn run pipelines/mnist.yaml' };

function fullInput(): ReportInput {
  return loadReportInput(writeSyntheticFolders(root), { dag: SYNTHETIC_DAG, provenance: PROVENANCE, generatedAt: '2026-11-26T12:00:00Z' });
}

/** The text of each <td> of the results-table row for `model`. */
function resultCells(html: string, model: string): string[] {
  const row = new RegExp(`<tr data-model="${model}">(.*?)</tr>`).exec(html);
  if (!row) throw new Error(`no results row for ${model}`);
  return [...row[1].matchAll(/<td>(.*?)<\/td>/g)].map((m) => m[1]);
}

describe('buildReport on a full synthetic run', () => {
  it('fills the paper-shaped results table from search.json and bench.json', () => {
    const { html, markdown } = buildReport(fullInput());
    const search = syntheticSearch();
    const chosen = search.candidates.find((c) => c.name === search.chosen)!;
    const baseline = resultCells(html, 'baseline');
    const compact = resultCells(html, 'compact');
    const fp = resultCells(html, 'fp');
    expect(baseline[0]).toBe('Baseline BNN');
    expect(baseline[3]).toBe('98.12%');
    expect(compact[3]).toBe('97.48%');
    expect(compact[4]).toBe('-0.64 pts');
    expect(compact[1]).toBe('grey b7–b4 (4 planes)');
    expect(compact[5]).toContain(chosen.packedBytes.toLocaleString('en-US'));
    expect(baseline[6]).toBe(`${(search.baseline.packedBytes / chosen.packedBytes).toFixed(2)}×`);
    expect(search.compression.vsFullPrecisionFloat32).toBeCloseTo(22.657, 2);
    expect(fp[6]).toBe('22.7×');
    // Speedups come from bench.json's ratios, with the slower side's own latency row; full
    // precision on its strongest runtime (onnxruntime here, 9.1 ms), not the slowest (tfjs, 9.79×).
    expect(baseline[8]).toBe('2.00×');
    expect(fp[8]).toBe('4.79×');
    expect(fp[7]).toBe('9.10 ms');
    expect(fp[9]).toBe('onnxruntime cpu, 1 thr, batch 64');
    expect(compact[7]).toBe('1.90 ms');
    expect(compact[9]).toBe('cbnn wasm-simd, 1 thr, batch 64');

    const tableLines = markdown.split('\n').filter((l) => l.startsWith('|'));
    expect(tableLines).toHaveLength(5 + 2 + 3); // results: header, rule, three models; ratios: header, rule, three comparisons
    expect(tableLines[2]).toMatch(/^\| Baseline BNN \|.*\| 3\.80 ms \| 2\.00× \| cbnn wasm-simd, 1 thr, batch 64 \|$/);
    expect(tableLines[3]).toMatch(/^\| Compact BNN \| grey b7–b4 \(4 planes\) \|/);
    expect(tableLines[4]).toMatch(/^\| Full precision \|.*\| 4\.79× \| onnxruntime cpu, 1 thr, batch 64 \|$/);
    expect(markdown).toContain('Chosen compact model: `b7b6b5b4-w0.5`');
    // Evidence: the split of every decision, the seed count, the ablation at the chosen width.
    expect(markdown).toContain('- Sensitivity measured on the validation split (2000 images).');
    expect(markdown).toContain('- Planes chosen (pruning.plan) on the validation split (2000 images).');
    expect(markdown).toContain('One seed per configuration');
    expect(markdown).toMatch(/- Ablation at w=0\.5: the kept planes \(4\) vs all 8 planes: -0\.09 ± 0\.00 validation points, -0\.04 ± 0\.00 test points/);
    // The headline is against the strongest float runtime; the ratios are a matrix, not a wall of sentences.
    expect(markdown).toContain(
      '**Speedup of the compact BNN (cbnn wasm-simd, 1 thread) over full precision (onnxruntime cpu, 1 thread), the fastest float runtime measured: 4.79× at batch 64.',
    );
    expect(tableLines[5]).toBe('| comparison (× = how many times faster the first side ran) | batch 64 |');
    expect(tableLines[9]).toBe('| compact BNN (cbnn wasm-simd, 1 thread) vs full precision (onnxruntime cpu, 1 thread) | 4.79× |');
    expect(markdown).not.toContain(' faster than ');
    expect(html).toMatch(/<table id="ratios-table"><thead><tr><th scope="col">Comparison<\/th><th scope="col">Batch 64<\/th><\/tr>/);
  });

  it('lists every candidate the search stopped early, with its epoch', () => {
    const input = fullInput();
    const search = structuredClone(input.search!);
    search.candidates[2].seeds[0] = { ...search.candidates[2].seeds[0], stoppedEarly: true, epochs: 3, stopReason: 'rung 25%' };
    search.epochsSaved = 7;
    const { markdown } = buildReport({ ...input, search });
    expect(markdown).toContain('- Stopped early (7 training epochs saved): search-b7b6b5b4-w0.25-s1 (b7b6b5b4-w0.25) after epoch 3 of 10 — rung 25%.');
    const { markdown: unstopped } = buildReport(input);
    expect(unstopped).toMatch(/- Early stop: nothing was stopped \(0 of \d+ trainings\), so every candidate ran its planned epochs/);
  });

  it("labels the authors' variant: sensitivity measured on the test split", () => {
    const input = fullInput();
    input.sensitivity = { ...input.sensitivity!, split: 'test' };
    const { html, markdown } = buildReport(input);
    expect(markdown).toMatch(/Sensitivity measured on the \*\*test\*\* split \(2000 images\): the authors' variant/);
    expect(html).toContain('<strong>test</strong> split (2000 images): the authors&#39;');
  });

  it('has one container per chart with a Vega-Lite spec, the DAG and provenance, and is self-contained', () => {
    const { html } = buildReport(fullInput());
    const ids = [...html.matchAll(/<div class="chart" id="([^"]+)"/g)].map((m) => m[1]);
    expect(ids).toEqual(['chart-per-plane', 'chart-cumulative', 'chart-search', 'chart-ablation', 'chart-runtime']);
    const specs = JSON.parse(/<script type="application\/json" id="cbnn-chart-specs">(.*?)<\/script>/s.exec(html)![1]);
    expect(specs.map((s: { id: string }) => s.id)).toEqual(ids);
    // 8 planes x 2 modes on the per-plane chart; 6 candidates + baseline on the search chart.
    expect(specs[0].spec.layer[0].data.values).toHaveLength(16);
    expect(specs[2].spec.data.values.filter((v: { status: string }) => v.status === 'chosen')).toEqual([expect.objectContaining({ name: 'b7b6b5b4-w0.5' })]);
    // The ablation chart: 6 candidates + 3 controls, validation and test each.
    expect(specs[3].spec.data.values).toHaveLength(18);
    expect(html).toContain('<table id="ablation-table">');
    expect(html).toContain('<table id="attribution-table">');
    expect((html.match(/<g class="dag-stage">/g) ?? []).length).toBe(8);
    expect(html).toContain('abc123def');
    expect(html).toContain('train baseline: 11'); // seed from model-info.json
    expect(html).toMatch(/<section id="missing-parts"[^>]*>.*dataset \(dataset\.json\)/s); // only the dataset was not given
    expect(html).not.toMatch(/sensitivity analysis \(sensitivity\.json\)/);
    // Offline: no external script, stylesheet or source map; Vega, Vega-Lite and vega-embed inlined.
    expect(html).not.toMatch(/<script[^>]+src=/);
    expect(html).not.toMatch(/<link /);
    expect(html).not.toContain('sourceMappingURL');
    expect(html).toContain('.vegaLite=');
    expect(html).toContain('vegaEmbed');
  });
});

describe('colour datasets', () => {
  it('reads the dataset manifest and draws one cumulative series per channel and mode', () => {
    writeTinyDataset(path.join(root, 'data'));
    const input = loadReportInput({ dataset: path.join(root, 'data') });
    input.sensitivity = syntheticRgbSensitivity();
    const { html, markdown } = buildReport(input);
    expect(html).toContain('dataset <strong>cifar10-fixture</strong> 4×4×3 (red, green, blue), 10 classes, 6 train / 2 validation / 2 test');
    expect(markdown).toContain('Dataset: cifar10-fixture (6 train / 2 validation / 2 test).');
    expect(html).not.toContain('<tr data-model='); // no result for any model: no row at all
    const specs = JSON.parse(/<script type="application\/json" id="cbnn-chart-specs">(.*?)<\/script>/s.exec(html)![1]);
    const cumulative = specs.find((s: { id: string }) => s.id === 'chart-cumulative').spec.layer[0];
    expect(new Set(cumulative.data.values.map((v: { series: string }) => v.series))).toEqual(
      new Set(['red', 'green', 'blue'].flatMap((c) => [`${c} · randomize`, `${c} · zero`])),
    );
    const perPlane = specs.find((s: { id: string }) => s.id === 'chart-per-plane').spec;
    expect(perPlane.layer[0].encoding.x.sort.slice(0, 3)).toEqual(['red:b7', 'red:b6', 'red:b5']);
    expect(perPlane.layer[0].encoding.x.sort).toHaveLength(24);
  });
});

describe('escaping', () => {
  it('escapes every text put into HTML and markdown, including chart data', () => {
    const search = syntheticSearch();
    const evil = '<img src=x onerror=alert(1)>';
    search.candidates[0].name = evil;
    const bench = syntheticBench();
    bench.rows[0].runtime = 'wasm | "simd" & <b>';
    bench.ratios = [];
    const { html, markdown } = buildReport({
      title: '<script>alert("t")</script> & co',
      search,
      bench,
      dag: 'graph LR\n  a["<b>x</b>"] --> b',
      provenance: { command: "cbnn run '</pre><script>'" },
    });
    expect(html).toContain('<title>&lt;script&gt;alert(&quot;t&quot;)&lt;/script&gt; &amp; co</title>');
    expect(html).not.toContain('<img src=x');
    expect(html).not.toContain('<script>alert');
    expect(html).not.toContain('<b>');
    expect(html).toContain('wasm | &quot;simd&quot; &amp; &lt;b&gt;');
    expect(html).toContain('<pre class="dag-text">graph LR\n  a[&quot;&lt;b&gt;x&lt;/b&gt;&quot;] --&gt; b</pre>');
    expect(html).toContain('\\u003cimg src=x onerror=alert(1)\\u003e'); // inside the JSON of the chart specs
    expect(markdown).toContain('wasm \\| "simd" & <b>');
    const compactRow = markdown.split('\n').find((l) => l.startsWith('| Compact BNN'))!;
    expect(compactRow.split(/(?<!\\)\|/).length).toBe(12); // 10 cells: the pipe did not split one
  });
});

describe('missing parts', () => {
  it('says plainly what an empty input lacks and draws nothing', () => {
    const { html, markdown } = buildReport({});
    expect(html).toContain('Missing from this report');
    for (const part of ['sensitivity.json', 'plan.json', 'search.json', 'bench.json', 'pipeline DAG']) expect(html).toContain(part);
    expect(html).not.toContain('<div class="chart"');
    expect(html).toContain('No results table');
    expect((html.match(/Not shown: /g) ?? []).length).toBe(5); // every chart, the ablation included
    expect(markdown).toContain('No results table');
    expect(markdown).toMatch(/Missing from this report:\n- sensitivity analysis \(sensitivity\.json\): /);
  });

  it('accepts a search whose chosen model is the baseline (no candidate within budget)', () => {
    const search = { ...syntheticSearch(), chosen: 'baseline' };
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbnn-report-baseline-'));
    fs.writeFileSync(path.join(dir, 'search.json'), JSON.stringify(search));
    const { markdown } = buildReport(loadReportInput({ search: dir }));
    expect(markdown).toContain('Chosen compact model: `baseline`');
    expect(markdown).toMatch(/\| Compact BNN \| grey b7–b0 \(8 planes\)/);
  });

  it('shows what a partial input has: bench only gives latency and speedup rows', () => {
    const { html } = buildReport({ bench: syntheticBench(), sensitivity: syntheticSensitivity() });
    expect(resultCells(html, 'fp')[8]).toBe('4.79×');
    expect(resultCells(html, 'compact')[6]).toBe('1.00×'); // sizes from bench rows
    expect(html).toContain('id="chart-runtime"');
    expect(html).toContain('id="chart-per-plane"');
    expect(html).not.toContain('id="chart-search"');
    expect(html).toMatch(/compact model search \(search\.json\)/);
  });
});

describe('malformed result files', () => {
  function expectInvalid(fn: () => unknown, file: string, field?: string): InvalidInputError {
    try {
      fn();
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidInputError);
      const err = e as InvalidInputError;
      expect(err.location.file).toBe(file);
      if (field) expect(err.location.field).toBe(field);
      expect(err.userMessage()).toContain(file);
      return err;
    }
    throw new Error('expected an InvalidInputError');
  }

  it('names the file and the field of a value out of range', () => {
    const folders = writeSyntheticFolders(root);
    const file = path.join(folders.sensitivity, 'sensitivity.json');
    const value = JSON.parse(fs.readFileSync(file, 'utf8'));
    value.rows[3].accuracy = 1.7;
    fs.writeFileSync(file, JSON.stringify(value));
    const err = expectInvalid(() => loadReportInput(folders), file, 'rows[3].accuracy');
    expect(err.userMessage()).toMatch(/sensitivity\.json: rows\[3\]\.accuracy: invalid sensitivity\.json: rows\[3\]\.accuracy: /);
  });

  it('names the file and line of broken JSON, a wrong format tag, a chosen model that is not a candidate, a missing file', () => {
    const folders = writeSyntheticFolders(root);
    const benchFile = path.join(folders.bench, 'bench.json');
    fs.writeFileSync(benchFile, '{\n  "format": "cbnn.bench",\n  "version": 1,,\n}');
    expect(expectInvalid(() => loadReportInput({ bench: folders.bench }), benchFile).location.line).toBe(3);

    const planFile = path.join(folders.plan, 'plan.json');
    fs.writeFileSync(planFile, JSON.stringify({ ...JSON.parse(fs.readFileSync(planFile, 'utf8')), format: 'cbnn.search' }));
    expectInvalid(() => loadReportInput({ plan: folders.plan }), planFile, 'format');

    const searchFile = path.join(folders.search, 'search.json');
    fs.writeFileSync(searchFile, JSON.stringify({ ...syntheticSearch(), chosen: 'p9-w9' }));
    expect(expectInvalid(() => loadReportInput({ search: folders.search }), searchFile, 'chosen').message).toContain("'p9-w9'");

    const fpFile = path.join(folders.fp, 'model-info.json');
    fs.rmSync(fpFile);
    expect(expectInvalid(() => loadReportInput({ fp: folders.fp }), fpFile).message).toContain('file not found');
  });

  it('checks model-info.json of the chosen model copied by the search', () => {
    const folders = writeSyntheticFolders(root);
    const chosenFile = path.join(folders.search, 'chosen', 'model-info.json');
    fs.writeFileSync(
      chosenFile,
      JSON.stringify({ kind: 'bnn', arch: 'mlp', width: 0.5, backend: 'x', seed: 1, params: { binary: 1, float: 1 }, bytes: { float32: 4 }, metrics: {} }),
    );
    expectInvalid(() => loadReportInput({ search: folders.search }), chosenFile, 'metrics.testAccuracy');
  });
});

describe('renderDag', () => {
  it('lays stages out in columns by depth with one arrow per edge', () => {
    const svg = renderDag(SYNTHETIC_DAG);
    expect((svg.match(/class="dag-edge"/g) ?? []).length).toBe(SYNTHETIC_DAG.edges.length);
    const x = (name: string) => Number(new RegExp(`<rect x="(\\d+)" y="\\d+"[^>]*/><text[^>]*>${name}<`).exec(svg)![1]);
    expect(x('data')).toBeLessThan(x('baseline'));
    expect(x('baseline')).toBeLessThan(x('sensitivity'));
    expect(x('plan')).toBeLessThan(x('search'));
    expect(x('bench')).toBeLessThan(x('report'));
  });
});

describe('reportHtmlStage', () => {
  it('writes report.html and summary.md from its input folders and returns the summary', async () => {
    const folders = writeSyntheticFolders(path.join(root, 'in'));
    const outDir = path.join(root, 'out');
    fs.mkdirSync(outDir);
    const params = reportHtmlStage.params.parse({ title: 'MNIST run', dag: SYNTHETIC_DAG });
    const result = await reportHtmlStage.run(
      standaloneStageContext({
        stage: 'report',
        params,
        inputs: folders,
        outDir,
        tmpDir: root,
        logger: createLogger({ console: false }),
        seed: 1,
      }),
    );
    const summary = fs.readFileSync(path.join(outDir, 'summary.md'), 'utf8');
    expect(result && result.metrics?.summary).toBe(summary);
    expect(summary).toMatch(/^## MNIST run\n/);
    const html = fs.readFileSync(path.join(outDir, 'report.html'), 'utf8');
    expect(html).toContain('<tr data-model="compact">');
    expect(html).toContain('git commit'); // collected from this work tree
    expect(() => reportHtmlStage.params.parse({ titel: 'typo' })).toThrow();
  });
});
