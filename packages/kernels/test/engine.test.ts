import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { InvalidInputError, createRng, extractPlaneBits, packBits, readDataset, writeDataset, wordsForChannels } from '@cbnn/core';
import { createEngine, randomEngineModel, summary, formatSummary, vggSmallLayers, type EngineModel, type LayerSpec } from '../src';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cbnn-kernels-engine-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function randomInput(model: EngineModel, count: number, seed: number): Uint32Array {
  const { height, width, features } = model.input;
  const bits = new Uint8Array(count * height * width * features);
  createRng(seed).fillBytes(bits);
  for (let i = 0; i < bits.length; i++) bits[i] &= 1;
  return packBits(bits, count * height * width, features);
}

const layerSpec: fc.Arbitrary<LayerSpec> = fc.oneof(
  fc.record({ type: fc.constant('conv' as const), outC: fc.integer({ min: 1, max: 70 }), padding: fc.constantFrom('same' as const, 'valid' as const) }),
  fc.constant({ type: 'maxpool2' as const }),
);

describe('engine', () => {
  it('wasm and reference give identical scores on random whole models', () => {
    fc.assert(
      fc.property(
        fc.record({
          height: fc.integer({ min: 5, max: 11 }),
          width: fc.integer({ min: 5, max: 11 }),
          features: fc.integer({ min: 1, max: 40 }),
          classes: fc.integer({ min: 2, max: 12 }),
          realFirst: fc.boolean(),
          convs: fc.array(layerSpec, { minLength: 0, maxLength: 3 }),
          dense: fc.array(fc.integer({ min: 1, max: 80 }), { maxLength: 2 }),
          count: fc.integer({ min: 1, max: 7 }),
          seed: fc.integer({ min: 0, max: 1 << 30 }),
        }),
        ({ height, width, features, classes, realFirst, convs, dense, count, seed }) => {
          const layers: LayerSpec[] = [{ type: realFirst ? 'conv_real' : 'conv', outC: 1 + (seed % 45), padding: 'same' }];
          let h = height;
          let w = width;
          for (const l of convs) {
            if (l.type === 'maxpool2' && (h < 2 || w < 2)) continue;
            if (l.type === 'conv' && l.padding === 'valid' && (h < 3 || w < 3)) continue;
            layers.push(l);
            if (l.type === 'maxpool2') [h, w] = [h >> 1, w >> 1];
            else if (l.padding === 'valid') [h, w] = [h - 2, w - 2];
          }
          for (const outC of dense) layers.push({ type: 'dense', outC });
          const model = randomEngineModel({ height, width, features, classes, layers, seed });
          const input = randomInput(model, count, seed + 1);
          const ref = createEngine(model, { impl: 'reference', maxBatch: count }).predict(input, count);
          const wasm = createEngine(model, { impl: 'wasm', maxBatch: 7 }).predict(input, count);
          expect(wasm).toEqual(ref);
          expect(ref.length).toBe(count * classes);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('runs VGG-small (w=0.25, 28x28x8) identically in both impls and split across 2 threads', async () => {
    const model = randomEngineModel({ height: 28, width: 28, features: 8, classes: 10, seed: 9, layers: vggSmallLayers(0.25) });
    const input = randomInput(model, 5, 2);
    const ref = createEngine(model, { impl: 'reference', maxBatch: 5 }).predict(input, 5);
    const wasmEngine = createEngine(model, { maxBatch: 5 });
    const out = new Float32Array(50);
    expect(wasmEngine.predict(input, 5, out)).toBe(out);
    expect(out).toEqual(ref);
    // scores are not degenerate: images get different scores
    expect(new Set(Array.from(out.subarray(0, 10))).size).toBeGreaterThan(1);
    const cls = wasmEngine.classify(input, 5);
    for (let i = 0; i < 5; i++) {
      const row = Array.from(ref.subarray(i * 10, i * 10 + 10));
      expect(cls[i]).toBe(row.indexOf(Math.max(...row)));
    }
    if (os.availableParallelism() < 2) return;
    // 5 images on 2 threads: shares of 3 and 2; below splitFrom the calling thread runs alone
    const threaded = createEngine(model, { maxBatch: 5, threads: 2, splitFrom: 2 });
    try {
      expect(threaded.threads).toBe(2);
      expect(threaded.predict(input, 5)).toEqual(ref);
      expect(threaded.predict(input, 1)).toEqual(ref.subarray(0, 10));
      expect(Array.from(threaded.classify(input, 5))).toEqual(Array.from(cls));
    } finally {
      await threaded.close();
    }
  });

  it('runs the same scores with every conv kernel, records the kernels it chose, and refuses ones that cannot run a layer', () => {
    // the demo's compact shape at a small size: convs of 1->12, 12->12, 12->24, 24->24
    const model = randomEngineModel({ height: 12, width: 12, features: 1, classes: 10, seed: 4, layers: vggSmallLayers(0.19) });
    const input = randomInput(model, 3, 5);
    const ref = createEngine(model, { impl: 'reference', maxBatch: 3 }).predict(input, 3);
    const auto = createEngine(model, { maxBatch: 3 });
    expect(auto.predict(input, 3)).toEqual(ref);
    expect(auto.kernels[0]).toBe('b-conv3x3-lut9-2xall'); // 12 output channels: one word, two pixels per lookup
    for (const convKernels of [
      ['lut9', 'im2col', 'im2col', 'im2col'],
      ['im2col', 'taplut', 'taplut', 'taplut'],
    ] as const) {
      const forced = createEngine(model, { maxBatch: 3, convKernels: [...convKernels] });
      expect(forced.predict(input, 3)).toEqual(ref);
      expect(forced.kernels.filter((k) => k.includes('taplut')).length).toBe(convKernels.filter((k) => k === 'taplut').length);
    }
    expect(() => createEngine(model, { convKernels: ['taplut', 'taplut', 'taplut', 'taplut'] })).toThrow(
      /convKernels\[0\] 'taplut' cannot run layers\[0\] \(a conv of 1 input channels\)/,
    );
    expect(() => createEngine(model, { convKernels: ['lut9'] })).toThrow(/convKernels names 1 kernels, the model has 4 binary convs/);
  });

  it('refuses bad thread counts and batches larger than the engine was sized for', () => {
    const model = randomEngineModel({ height: 4, width: 4, features: 3, classes: 2, seed: 1, layers: [] });
    const cores = os.availableParallelism();
    for (const threads of [0, -1, 1.5, cores + 1]) {
      expect(() => createEngine(model, { threads })).toThrow(new RegExp(`threads must be an integer from 1 to ${cores} .*got ${threads}`));
    }
    const engine = createEngine(model, { maxBatch: 4 });
    const input = randomInput(model, 5, 1);
    expect(() => engine.predict(input, 5)).toThrow(/5 images exceed the engine's maxBatch of 4/);
    expect(() => engine.classify(input, 5)).toThrow(InvalidInputError);
    expect(engine.predict(input, 4)).toHaveLength(8);
  });

  it('names the layer it cannot run and what it expected', () => {
    const model = randomEngineModel({ height: 4, width: 4, features: 3, classes: 2, seed: 1, layers: [{ type: 'conv', outC: 4, padding: 'same' }] });
    const bad = { ...model, layers: [{ type: 'conv5x5', inC: 3, outC: 4 } as unknown as EngineModel['layers'][number], ...model.layers.slice(1)] };
    let error: unknown;
    try {
      createEngine(bad);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).message).toBe("unknown layer type 'conv5x5': the engine runs conv, conv_real, maxpool2, dense, dense_out");
    expect((error as InvalidInputError).location.field).toBe('layers[0].type');
  });

  it('ignores padding bits of the packed input (conv, real-valued conv or dense first)', () => {
    const firsts: LayerSpec[][] = [
      [{ type: 'conv', outC: 7, padding: 'same' }, { type: 'maxpool2' }, { type: 'dense', outC: 9 }],
      [
        { type: 'conv_real', outC: 6, padding: 'valid' },
        { type: 'dense', outC: 5 },
      ],
      [{ type: 'dense', outC: 6 }],
    ];
    for (const layers of firsts) {
      const model = randomEngineModel({ height: 4, width: 5, features: 5, classes: 3, layers, seed: 3 });
      const clean = randomInput(model, 4, 8);
      const dirty = clean.map((w) => w | 0xffffffe0);
      for (const impl of ['wasm', 'reference'] as const) {
        const engine = createEngine(model, { impl, maxBatch: 4 });
        const expected = Array.from(engine.predict(clean, 4));
        expect(Array.from(engine.predict(dirty, 4))).toEqual(expected);
      }
    }
  });

  it('rejects a short input buffer', () => {
    const model = randomEngineModel({ height: 4, width: 4, features: 3, classes: 2, seed: 1, layers: [] });
    const engine = createEngine(model);
    expect(() => engine.predict(new Uint32Array(10), 1)).toThrow(InvalidInputError);
  });

  describe('evaluate on a dataset artifact', () => {
    const dir = path.join(tmp, 'dataset');
    const height = 9;
    const width = 8;
    const channels = 2;
    const counts = { train: 4, validation: 3, test: 37 };
    const total = counts.train + counts.validation + counts.test;
    beforeAll(() => {
      const rng = createRng(42);
      const images = rng.fillBytes(new Uint8Array(total * height * width * channels));
      const labels = Uint8Array.from({ length: total }, () => rng.int(3));
      const perClass = (offset: number, count: number): number[] => [0, 1, 2].map((c) => labels.subarray(offset, offset + count).filter((l) => l === c).length);
      writeDataset(
        dir,
        {
          source: { name: 'synthetic', version: '1' },
          shape: { height, width, channels },
          channelNames: ['r', 'g'],
          classNames: ['a', 'b', 'c'],
          splits: {
            train: { offset: 0, count: counts.train, perClass: perClass(0, counts.train) },
            validation: { offset: counts.train, count: counts.validation, perClass: perClass(counts.train, counts.validation) },
            test: { offset: counts.train + counts.validation, count: counts.test, perClass: perClass(counts.train + counts.validation, counts.test) },
          },
          splitMethod: 'fixed',
          seed: 42,
          malformed: { count: 0, records: [] },
        },
        images,
        labels,
      );
    });

    function modelFor(): EngineModel {
      const m = randomEngineModel({
        height,
        width,
        features: 5,
        classes: 3,
        seed: 4,
        layers: [{ type: 'conv', outC: 33, padding: 'same' }, { type: 'maxpool2' }, { type: 'dense', outC: 20 }],
      });
      const layout = {
        channels: ['r', 'g'],
        planes: [
          { channel: 'r', channelIndex: 0, bit: 7 },
          { channel: 'r', channelIndex: 0, bit: 3 },
          { channel: 'g', channelIndex: 1, bit: 7 },
          { channel: 'g', channelIndex: 1, bit: 6 },
          { channel: 'g', channelIndex: 1, bit: 0 },
        ],
      };
      return { ...m, input: { ...m.input, layout }, classNames: ['a', 'b', 'c'] };
    }

    it('packs planes itself and agrees with predict on core-packed planes', () => {
      const model = modelFor();
      const ds = readDataset(dir);
      const test = ds.split('test');
      const bits = extractPlaneBits(test.images, height * width, channels, model.input.layout);
      const packed = packBits(bits, test.count * height * width, 5);
      const predicted = createEngine(model, { impl: 'reference' }).classify(packed, test.count);
      const expectedCorrect = Array.from(predicted).filter((p, i) => p === test.labels[i]).length;
      for (const impl of ['wasm', 'reference'] as const) {
        const result = createEngine(model, { impl, maxBatch: 16 }).evaluate(dir, 'test', { batchSize: 10 });
        expect(result.count).toBe(counts.test);
        expect(result.correct).toBe(expectedCorrect);
        expect(result.accuracy).toBeCloseTo(expectedCorrect / counts.test, 12);
        expect(result.confusion.flat().reduce((a, b) => a + b, 0)).toBe(counts.test);
      }
      const limited = createEngine(model).evaluate(ds, 'validation', { limit: 2 });
      expect(limited.count).toBe(2);
    });

    it('rejects a dataset the model was not made for', () => {
      const m = modelFor();
      const wrongSize = {
        ...m,
        ...randomEngineModel({ height: 10, width: 8, features: 5, classes: 3, seed: 1, layers: [] }),
        input: { ...m.input, height: 10 },
      };
      expect(() => createEngine(wrongSize).evaluate(dir)).toThrow(/expects 10x8 images, the dataset has 9x8/);
      const layout = { channels: ['grey'], planes: [0, 1, 2, 3, 4].map((i) => ({ channel: 'grey', channelIndex: 0, bit: i })) };
      const wrongChannels = { ...m, input: { ...m.input, layout } };
      expect(() => createEngine(wrongChannels).evaluate(dir)).toThrow(InvalidInputError);
    });
  });

  it('summarises VGG-small like Larq', () => {
    const model = randomEngineModel({ height: 28, width: 28, features: 8, classes: 10, seed: 1, layers: vggSmallLayers(1) });
    const s = summary(model);
    expect(s.layers.map((l) => l.binaryParams)).toEqual([4608, 36864, 0, 73728, 147456, 0, 3211264, 5120]);
    expect(s.layers[0].binaryMacs).toBe(28 * 28 * 4608);
    expect(s.layers[6].output).toBe('512');
    expect(s.totals.floatParams).toBe(64 + 64 + 128 + 128 + 512 + 20);
    expect(s.totals.bytes).toBe(s.layers.reduce((a, l) => a + l.bytes, 0));
    expect(s.layers[1].bytes).toBe(64 * 9 * wordsForChannels(64) * 4 + 64 * 4 + 64);
    expect(s.float32EquivalentBytes).toBe(4 * (s.totals.binaryParams + s.totals.floatParams));
    expect(s.compression).toBeGreaterThan(25);
    expect(formatSummary(s)).toMatch(/float32-equivalent size/);
  });
});
