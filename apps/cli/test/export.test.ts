import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readDataset } from '@cbnn/core';
import { STRICT_FLAGS, checkBuild, enginePredictions, loadModel } from '@cbnn/deploy';
import { randomEngineModel, writeEngineModel } from '@cbnn/kernels';

// The built CLI end to end: `cbnn export c|web`, its output and its exit codes on bad input, and
// the export stages at the end of a pipeline that trains a small model on real MNIST digits.
const CLI = path.join(__dirname, '..', 'dist', 'main.js');

jest.setTimeout(180_000);

let dir: string;
const cbnn = (...args: string[]) => {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: dir, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbnn-cli-export-'));
  writeEngineModel(
    path.join(dir, 'model.cbnn'),
    randomEngineModel({ height: 8, width: 8, features: 3, classes: 3, layers: [{ type: 'conv', outC: 5, padding: 'same' }, { type: 'maxpool2' }], seed: 2 }),
  );
  writeEngineModel(
    path.join(dir, 'real.cbnn'),
    randomEngineModel({ height: 8, width: 8, features: 3, classes: 3, layers: [{ type: 'conv_real', outC: 5, padding: 'same' }], seed: 2 }),
  );
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

it('export c writes the library and prints flash and RAM; a second run into the same folder needs --force', () => {
  const first = cbnn('export', 'c', 'model.cbnn', '--out', 'c');
  expect(first.stderr).toBe('');
  expect(first.code).toBe(0);
  expect(first.stdout).toMatch(/flash [\d,]+ B \(text \d+ \+ data \d+; /);
  expect(first.stdout).toMatch(/RAM [\d,]+ B static/);
  expect(fs.readdirSync(path.join(dir, 'c')).sort()).toEqual(['Makefile', 'export-c.json', 'main.c', 'model.c', 'model.h']);
  const again = cbnn('export', 'c', 'model.cbnn', '--out', 'c');
  expect(again.code).toBe(3);
  expect(again.stderr).toContain('--out: the output folder exists and is not empty');
  expect(cbnn('export', 'c', 'model.cbnn', '--out', 'c', '--force').code).toBe(0);
});

it('export c names the layer it cannot emit (exit 3)', () => {
  const r = cbnn('export', 'c', 'real.cbnn', '--out', 'real');
  expect(r.code).toBe(3);
  expect(r.stderr).toContain("layers[0]: layer 0 ('conv_real') cannot be exported to C");
});

it('export web writes the static folder', () => {
  const r = cbnn('export', 'web', 'model.cbnn', '--out', 'web', '--json');
  expect(r.code).toBe(0);
  expect(JSON.parse(r.stdout).format).toBe('cbnn.export-web');
  expect(fs.readdirSync(path.join(dir, 'web')).sort()).toEqual([
    'assets.js',
    'engine.js',
    'export-web.json',
    'index.html',
    'kernels.wasm',
    'model.cbnn',
    'test-images.json',
  ]);
});

it('a pipeline ending in export.c and export.web: the C library of a trained model predicts the real MNIST test images as the engine does', () => {
  fs.writeFileSync(
    path.join(dir, 'deploy.yaml'),
    `name: deploy
seed: 1
stages:
  data:
    uses: bitslice.dataset
    with: { source: mnist, limit: { perClass: 60 }, fractions: { validation: 0.1, test: 0.25 } }
  model:
    uses: train.bnn
    needs: { dataset: data }
    with: { width: 0.125, planes: { grey: [7, 6, 5] }, epochs: 3, batchSize: 32, learningRate: 0.01, schedule: one-cycle, backend: wasm }
  export-c:
    uses: export.c
    needs: { model: model }
    with: { measure: false }
  export-web:
    uses: export.web
    needs: { model: model, dataset: data }
    with: { images: 8 }
`,
  );
  const run = cbnn('run', 'deploy.yaml', '--store', 'store');
  expect({ code: run.code, stderr: run.code === 0 ? '' : run.stderr }).toEqual({ code: 0, stderr: '' });
  const out = path.join(dir, 'store', 'out');
  const { model } = loadModel(path.join(out, 'model'));
  const test = readDataset(path.join(out, 'data')).split('test');
  expect(test.count).toBe(150);
  const expected = enginePredictions(model, test.images, test.count);
  const check = checkBuild(path.join(out, 'export-c'), { cc: 'gcc', flags: STRICT_FLAGS }, test.images, test.count, expected, 10);
  expect(check).toEqual({ build: check.build, images: 150, classesEqual: 150, scoresEqual: 150 });
  // A trained model, not noise (chance is 15 of 150; this one scores about 100).
  expect(Array.from(expected.classes).filter((c, i) => c === test.labels[i]).length).toBeGreaterThan(60);
  expect(JSON.parse(fs.readFileSync(path.join(out, 'export-web', 'export-web.json'), 'utf8')).images.count).toBe(8);
});
