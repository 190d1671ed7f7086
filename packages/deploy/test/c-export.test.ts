import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { InvalidInputError, createRng, type PlaneLayout } from '@cbnn/core';
import { randomEngineModel, vggSmallLayers, writeEngineModel, type EngineModel, type LayerSpec } from '@cbnn/kernels';
import {
  SANITIZE_FLAGS,
  STRICT_FLAGS,
  availableBuilds,
  canBuild,
  checkBuild,
  compileExample,
  enginePredictions,
  exportC,
  exportCRecordSchema,
  EXPORT_C_FILE,
} from '../src';

/**
 * Exported C libraries must predict what the engine predicts: every class and every float32
 * score, on random models that cover the shapes the emitter handles (channel counts below, at
 * and above 32, both paddings, odd sizes before a pool, pools fused into the conv or not, dense
 * on 32-aligned activations or not, several colour channels), built strictly and with sanitizers.
 */
jest.setTimeout(120_000);

let root: string;
beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'cbnn-deploy-c-'));
  if (!canBuild({ cc: 'gcc', flags: STRICT_FLAGS })) throw new Error('gcc is needed for the C export tests: apt-get install -y gcc');
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function randomImages(count: number, bytesPerImage: number, seed: number): Uint8Array {
  const rng = createRng(seed);
  const images = new Uint8Array(count * bytesPerImage);
  for (let i = 0; i < images.length; i++) images[i] = rng.int(256);
  // The extremes: all planes 0 and all planes 1.
  images.fill(0, 0, bytesPerImage);
  images.fill(255, bytesPerImage, 2 * bytesPerImage);
  return images;
}

function rgbLayout(): PlaneLayout {
  const channels = ['red', 'green', 'blue'];
  const planes = [
    { channel: 'red', channelIndex: 0, bit: 7 },
    { channel: 'green', channelIndex: 1, bit: 7 },
    { channel: 'blue', channelIndex: 2, bit: 6 },
    { channel: 'red', channelIndex: 0, bit: 0 },
    { channel: 'green', channelIndex: 1, bit: 3 },
  ];
  return { channels, planes };
}

interface Case {
  name: string;
  height: number;
  width: number;
  features: number;
  classes: number;
  layers: LayerSpec[];
  layout?: PlaneLayout;
}

const CASES: Case[] = [
  { name: 'VGG-small w=0.19 on one plane (the compact shape)', height: 28, width: 28, features: 1, classes: 10, layers: vggSmallLayers(0.19) },
  {
    name: '40 and 7 channels, valid padding, odd size before a pool',
    height: 9,
    width: 7,
    features: 5,
    classes: 4,
    layers: [{ type: 'conv', outC: 40, padding: 'same' }, { type: 'maxpool2' }, { type: 'conv', outC: 7, padding: 'valid' }, { type: 'dense', outC: 33 }],
  },
  {
    name: '32 and 64 channels (no flatten step), 8 planes',
    height: 8,
    width: 8,
    features: 8,
    classes: 3,
    layers: [{ type: 'conv', outC: 32, padding: 'same' }, { type: 'conv', outC: 64, padding: 'same' }, { type: 'maxpool2' }, { type: 'dense', outC: 5 }],
  },
  {
    name: 'MLP straight on 5 planes of 3 colour channels',
    height: 5,
    width: 6,
    features: 5,
    classes: 2,
    layers: [
      { type: 'dense', outC: 70 },
      { type: 'dense', outC: 31 },
    ],
    layout: rgbLayout(),
  },
  {
    name: 'max-pool on the input and twice in a row (not fused), 33 channels',
    height: 11,
    width: 10,
    features: 3,
    classes: 3,
    layers: [{ type: 'maxpool2' }, { type: 'conv', outC: 33, padding: 'same' }, { type: 'maxpool2' }, { type: 'maxpool2' }, { type: 'dense', outC: 9 }],
  },
  {
    name: 'conv on 3 colour channels, then dense_out on a flatten',
    height: 6,
    width: 5,
    features: 5,
    classes: 3,
    layers: [{ type: 'conv', outC: 3, padding: 'same' }, { type: 'maxpool2' }],
    layout: rgbLayout(),
  },
];

function makeModel(c: Case, seed: number): EngineModel {
  const model = randomEngineModel({ height: c.height, width: c.width, features: c.features, classes: c.classes, layers: c.layers, seed });
  if (c.layout) model.input.layout = c.layout;
  return model;
}

/** A case's model written to `name`.cbnn and exported to the folder `name`. */
function exportCase(c: Case, seed: number, name: string, measure = false) {
  const model = makeModel(c, seed);
  const file = path.join(root, `${name}.cbnn`);
  writeEngineModel(file, model);
  const out = path.join(root, name);
  return { model, file, out, record: exportC(file, out, { measure }) };
}

describe.each(CASES.map((c, i) => [c.name, c, i] as const))('%s', (_name, c, i) => {
  it('predicts every class and score the engine does (gcc strict and with address/undefined sanitizers)', () => {
    const { model, out, record } = exportCase(c, 11 + i, `case${i}`, i === 0);
    const count = 48;
    const images = randomImages(count, c.height * c.width * (c.layout?.channels.length ?? 1), 100 + i);
    const expected = enginePredictions(model, images, count);
    for (const flags of [STRICT_FLAGS, SANITIZE_FLAGS]) {
      const check = checkBuild(out, { cc: 'gcc', flags }, images, count, expected, c.classes);
      expect(check).toEqual({ build: check.build, images: count, classesEqual: count, scoresEqual: count });
    }
    expect(record.ram.totalBytes).toBeGreaterThan(0);
    if (i === 0) {
      // Measured on the compiled object: the const weights are in it.
      expect(record.flash).not.toBeNull();
      expect(record.flash!.flashBytes).toBeGreaterThan(record.constBytes);
    }
  });
});

it('agrees with the engine in every other build this machine has (clang, -m32, builtin popcount)', () => {
  const builds = availableBuilds().filter((b) => !(b.cc === 'gcc' && (b.flags === STRICT_FLAGS || b.flags === SANITIZE_FLAGS)));
  // gcc -m32 and clang are part of the project's system dependencies; report what ran.
  process.stdout.write(`extra C builds: ${builds.map((b) => `${b.cc} ${b.flags.join(' ')}`).join('; ') || 'none'}\n`);
  const c = CASES[1];
  const { model, out } = exportCase(c, 12, 'extra');
  const images = randomImages(32, c.height * c.width, 7);
  const expected = enginePredictions(model, images, 32);
  for (const b of builds) {
    const check = checkBuild(out, b, images, 32, expected, c.classes);
    expect(check.classesEqual).toBe(32);
    expect(check.scoresEqual).toBe(32);
  }
});

it("the check can fail: another model's predictions do not match", () => {
  const c = CASES[1];
  const { out } = exportCase(c, 21, 'other');
  const images = randomImages(32, c.height * c.width, 8);
  const check = checkBuild(out, { cc: 'gcc', flags: STRICT_FLAGS }, images, 32, enginePredictions(makeModel(c, 22), images, 32), c.classes);
  expect(check.scoresEqual).toBe(0);
  expect(check.firstMismatch?.image).toBe(0);
});

it('is reproducible: the same model gives the same files, and export-c.json validates', () => {
  const model = makeModel(CASES[2], 5);
  const file = path.join(root, 'repro.cbnn');
  writeEngineModel(file, model);
  exportC(file, path.join(root, 'repro-a'), { measure: false });
  exportC(file, path.join(root, 'repro-b'), { measure: false });
  for (const name of ['model.h', 'model.c', 'main.c', 'Makefile', EXPORT_C_FILE]) {
    expect(fs.readFileSync(path.join(root, 'repro-b', name), 'utf8')).toBe(fs.readFileSync(path.join(root, 'repro-a', name), 'utf8'));
  }
  const record = exportCRecordSchema.parse(JSON.parse(fs.readFileSync(path.join(root, 'repro-a', EXPORT_C_FILE), 'utf8')));
  expect(record.input.planes).toEqual(['grey:b7', 'grey:b6', 'grey:b5', 'grey:b4', 'grey:b3', 'grey:b2', 'grey:b1', 'grey:b0']);
  const header = fs.readFileSync(path.join(root, 'repro-a', 'model.h'), 'utf8');
  expect(header).toContain('int cbnn_predict(const uint8_t *pixels, float *scores);');
  expect(header).toContain('#define CBNN_INPUT_BYTES 64');
  const source = fs.readFileSync(path.join(root, 'repro-a', 'model.c'), 'utf8');
  expect(source).not.toMatch(/malloc|#include <(?!stdint\.h|string\.h)/);
});

describe('bad input', () => {
  it('refuses a layer the C exporter cannot emit, naming it', () => {
    const model = randomEngineModel({ height: 6, width: 6, features: 2, classes: 2, layers: [{ type: 'conv_real', outC: 4, padding: 'same' }], seed: 1 });
    const file = path.join(root, 'real.cbnn');
    writeEngineModel(file, model);
    const out = path.join(root, 'real-out');
    let error: unknown;
    try {
      exportC(file, out);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).message).toMatch(/layer 0 \('conv_real'\) cannot be exported to C/);
    expect((error as InvalidInputError).location).toEqual({ file, field: 'layers[0]' });
    expect(fs.existsSync(out)).toBe(false); // nothing written
  });

  it('refuses a non-empty output folder unless --force', () => {
    const model = makeModel(CASES[3], 2);
    const file = path.join(root, 'force.cbnn');
    writeEngineModel(file, model);
    const out = path.join(root, 'force-out');
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, 'notes.txt'), 'mine');
    expect(() => exportC(file, out, { measure: false })).toThrow(/the output folder exists and is not empty \(notes\.txt\)/);
    expect(fs.readdirSync(out)).toEqual(['notes.txt']);
    exportC(file, out, { measure: false, force: true });
    expect(fs.readFileSync(path.join(out, 'notes.txt'), 'utf8')).toBe('mine');
    expect(fs.existsSync(path.join(out, 'model.c'))).toBe(true);
  });

  it('main.c names the byte count that is not a whole number of images, and exits 3', () => {
    const c = CASES[3];
    const { out } = exportCase(c, 3, 'stdin-out');
    const exe = path.join(root, 'stdin-predict');
    compileExample(out, { cc: 'gcc', flags: STRICT_FLAGS }, exe);
    const imageBytes = c.height * c.width * 3;
    const r = spawnSync(exe, [], { input: new Uint8Array(2 * imageBytes + 5), encoding: 'utf8' });
    expect(r.status).toBe(3);
    expect(r.stdout.trim().split('\n')).toHaveLength(2);
    expect(r.stderr).toContain(
      `stdin holds ${2 * imageBytes + 5} bytes: not a whole number of 5x6x3 = ${imageBytes}-byte images (2 whole images, then 5 bytes left over)`,
    );
    const empty = spawnSync(exe, [], { input: new Uint8Array(0), encoding: 'utf8' });
    expect(empty.status).toBe(0);
    expect(empty.stdout).toBe('');
  });
});
