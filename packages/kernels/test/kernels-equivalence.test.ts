import fc from 'fast-check';
import { createRng, wordsForChannels } from '@cbnn/core';
import {
  WasmKernelInstance,
  bindDense,
  bindDenseOut,
  bindGemm,
  bindIm2colConv,
  bindBinaryConv,
  bindLut9Conv,
  bindTapLutConv,
  chooseConvKernel,
  createWasmKernels,
  im2colOutputWords,
  randomPackedWeights,
  referenceKernels,
  type ConvLayer,
  type ConvRealLayer,
  type DenseLayer,
  type DenseOutLayer,
  type WasmConvBinding,
} from '../src';

const wasm = createWasmKernels();
const ref = referenceKernels;

function randomPacked(seed: number, items: number, channels: number): Uint32Array {
  return randomPackedWeights(createRng(seed), items, channels);
}

function thresholdsFor(seed: number, outC: number, span: number): { thresholds: Int32Array; flip: Uint8Array } {
  const rng = createRng(seed);
  const thresholds = new Int32Array(outC);
  const flip = new Uint8Array(outC);
  for (let o = 0; o < outC; o++) {
    // around 0 mostly, sometimes far out (constant channels), spanning odd and even values
    thresholds[o] = rng.int(10) === 0 ? (rng.int(2) ? 2147483647 : -2147483648) : rng.int(2 * span + 1) - span;
    flip[o] = rng.int(2);
  }
  return { thresholds, flip };
}

/** A conv layer with random weights and thresholds around the middle of its dot products (seeds seed+1, seed+2). */
function randomConvLayer(seed: number, inC: number, outC: number, padding: 'same' | 'valid'): ConvLayer {
  return {
    type: 'conv',
    inC,
    outC,
    padding,
    weights: randomPacked(seed + 1, outC * 9, inC),
    ...thresholdsFor(seed + 2, outC, 3 * Math.ceil(Math.sqrt(9 * inC))),
  };
}

/** The reference conv of `batch` packed images, then the 2x2 max-pool when `pool`. */
function referenceConv(input: Uint32Array, batch: number, height: number, width: number, layer: ConvLayer, pool: boolean): Uint32Array {
  const ho = layer.padding === 'same' ? height : height - 2;
  const wo = layer.padding === 'same' ? width : width - 2;
  const conv = new Uint32Array(batch * ho * wo * wordsForChannels(layer.outC));
  ref.convBinary(input, batch, height, width, layer, conv);
  if (!pool) return conv;
  const pooled = new Uint32Array(batch * im2colOutputWords(height, width, layer, true));
  ref.maxPool2(conv, batch, ho, wo, layer.outC, pooled);
  return pooled;
}

/**
 * A wasm conv binding on `input` into an output buffer full of garbage: its result, checked not
 * to write past `outWords` (the garbage must not leak into the result either: callers compare).
 */
function runWasmConv(instance: WasmKernelInstance, input: Uint32Array, batch: number, outWords: number, bind: () => WasmConvBinding): Uint32Array {
  const mark = instance.mark();
  try {
    const inp = instance.put(input);
    const out = instance.alloc(outWords * 4 + 4);
    instance.u32(out, outWords + 1).fill(0xdeadbeef);
    bind().run(inp, batch, out);
    expect(instance.u32(out, outWords + 1)[outWords]).toBe(0xdeadbeef);
    return instance.u32(out, outWords).slice();
  } finally {
    instance.release(mark);
  }
}

describe('wasm kernels equal the reference', () => {
  it('binary conv3x3 on random shapes, both paddings', () => {
    fc.assert(
      fc.property(
        fc.record({
          batch: fc.integer({ min: 1, max: 3 }),
          height: fc.integer({ min: 3, max: 9 }),
          width: fc.integer({ min: 3, max: 9 }),
          inC: fc.oneof(fc.integer({ min: 1, max: 40 }), fc.constantFrom(32, 64, 96, 128, 129, 200)),
          outC: fc.integer({ min: 1, max: 70 }),
          padding: fc.constantFrom('same' as const, 'valid' as const),
          seed: fc.integer({ min: 0, max: 1 << 30 }),
        }),
        ({ batch, height, width, inC, outC, padding, seed }) => {
          const input = randomPacked(seed, batch * height * width, inC);
          const layer = randomConvLayer(seed, inC, outC, padding);
          const ho = padding === 'same' ? height : height - 2;
          const wo = padding === 'same' ? width : width - 2;
          const n = batch * ho * wo * wordsForChannels(outC);
          const a = new Uint32Array(n);
          const b = new Uint32Array(n);
          ref.convBinary(input, batch, height, width, layer, a);
          wasm.convBinary(input, batch, height, width, layer, b);
          expect(b).toEqual(a);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('binary conv with exact-threshold dot products hits the boundary identically', () => {
    // thresholds equal to actual dot products exercise >= vs <= at equality
    const batch = 2,
      height = 5,
      width = 4,
      inC = 37,
      outC = 9;
    const input = randomPacked(5, batch * height * width, inC);
    const weights = randomPacked(6, outC * 9, inC);
    const probe: ConvLayer = { type: 'conv', inC, outC, padding: 'same', weights, thresholds: new Int32Array(outC), flip: new Uint8Array(outC) };
    const bits0 = new Uint32Array(batch * height * width);
    ref.convBinary(input, batch, height, width, probe, bits0);
    const thresholds = Int32Array.from({ length: outC }, (_, o) => [-9 * inC, -3, -1, 1, 3, 0, 5, 7, 9 * inC][o]);
    for (const flipValue of [0, 1]) {
      const layer = { ...probe, thresholds, flip: new Uint8Array(outC).fill(flipValue) };
      const a = new Uint32Array(bits0.length);
      const b = new Uint32Array(bits0.length);
      ref.convBinary(input, batch, height, width, layer, a);
      wasm.convBinary(input, batch, height, width, layer, b);
      expect(b).toEqual(a);
    }
  });

  it('conv counts only valid taps on the zero border (1-pixel images, corners)', () => {
    // A 1x1 'same' conv sees only the centre tap: all-ones input and weights give dot = inC.
    const inC = 33;
    const ones = randomPacked(1, 1, inC).fill(0);
    ones[0] = 0xffffffff;
    ones[1] = 1;
    const layer: ConvLayer = {
      type: 'conv',
      inC,
      outC: 1,
      padding: 'same',
      weights: new Uint32Array(9 * 2),
      thresholds: Int32Array.of(inC),
      flip: Uint8Array.of(0),
    };
    for (let t = 0; t < 9; t++) {
      layer.weights[t * 2] = 0xffffffff;
      layer.weights[t * 2 + 1] = 1;
    }
    for (const k of [ref, wasm]) {
      const out = new Uint32Array(1);
      k.convBinary(ones, 1, 1, 1, layer, out);
      expect(out[0]).toBe(1);
      k.convBinary(ones, 1, 1, 1, { ...layer, thresholds: Int32Array.of(inC + 1) }, out);
      expect(out[0]).toBe(0);
    }
  });

  it('table conv (b-conv3x3-lut9) of a 1-channel input equals the reference, with and without the fused pool', () => {
    const instance = new WasmKernelInstance();
    fc.assert(
      fc.property(
        fc.record({
          batch: fc.integer({ min: 1, max: 3 }),
          height: fc.integer({ min: 1, max: 11 }),
          width: fc.integer({ min: 1, max: 11 }),
          outC: fc.oneof(fc.integer({ min: 1, max: 40 }), fc.constantFrom(12, 32, 33, 64, 70)),
          padding: fc.constantFrom('same' as const, 'valid' as const),
          pool: fc.boolean(),
          seed: fc.integer({ min: 0, max: 1 << 30 }),
        }),
        ({ batch, height, width, outC, padding, pool, seed }) => {
          const ho = padding === 'same' ? height : height - 2;
          const wo = padding === 'same' ? width : width - 2;
          if (ho < (pool ? 2 : 1) || wo < (pool ? 2 : 1)) return;
          const input = randomPacked(seed, batch * height * width, 1);
          const layer: ConvLayer = { type: 'conv', inC: 1, outC, padding, weights: randomPacked(seed + 1, outC * 9, 1), ...thresholdsFor(seed + 2, outC, 5) };
          const expected = referenceConv(input, batch, height, width, layer, pool);
          // garbage in the input's padding bits (channels >= 1) must not change the result
          const dirty = input.map((v) => v | 0xfffffffe);
          expect(runWasmConv(instance, dirty, batch, expected.length, () => bindLut9Conv(instance, layer, height, width, pool))).toEqual(expected);
        },
      ),
      { numRuns: 80 },
    );
  });

  it('tap-table conv (b-conv3x3-taplut) of 2..28 channels equals the reference: odd sizes, both paddings, with and without the fused pool', () => {
    const instance = new WasmKernelInstance();
    fc.assert(
      fc.property(
        fc.record({
          batch: fc.integer({ min: 1, max: 3 }),
          height: fc.integer({ min: 1, max: 11 }),
          width: fc.integer({ min: 1, max: 11 }),
          // 6-bit chunks: 1 to 5 per tap, the last one partial or full; 28 is the byte-sum limit
          inC: fc.oneof(fc.integer({ min: 2, max: 28 }), fc.constantFrom(6, 7, 12, 13, 18, 24, 28)),
          // one pass of 16 lanes, one of 32, several passes with a partial last word
          outC: fc.oneof(fc.integer({ min: 1, max: 70 }), fc.constantFrom(12, 16, 17, 24, 32, 33, 64)),
          padding: fc.constantFrom('same' as const, 'valid' as const),
          pool: fc.boolean(),
          seed: fc.integer({ min: 0, max: 1 << 30 }),
        }),
        ({ batch, height, width, inC, outC, padding, pool, seed }) => {
          if (padding === 'valid' && (height < 3 || width < 3)) return; // no output (the reference needs one)
          const input = randomPacked(seed, batch * height * width, inC);
          const layer = randomConvLayer(seed, inC, outC, padding);
          const expected = referenceConv(input, batch, height, width, layer, pool);
          // garbage in the input's padding bits (channels >= inC) must not change the result
          const dirty = input.map((v) => v | ~((1 << inC) - 1));
          const bind = (): WasmConvBinding => bindTapLutConv(instance, layer, height, width, pool);
          expect(runWasmConv(instance, dirty, batch, expected.length, bind)).toEqual(expected);
        },
      ),
      { numRuns: 120 },
    );
  });

  it('tap-table conv at the byte limits: all-ones windows (pop 0 and 9*inC), thresholds at both ends, 28 channels', () => {
    const instance = new WasmKernelInstance();
    for (const inC of [2, 6, 7, 27, 28]) {
      const height = 4,
        width = 5,
        outC = 20;
      const kBits = 9 * inC;
      const ones = new Uint32Array(height * width).fill((1 << inC) - 1);
      // channel o: weights all ones (pop 0 inside) or all zeros (pop = valid bits), thresholds around the ends
      const weights = new Uint32Array(outC * 9);
      for (let o = 0; o < outC; o++) weights.fill(o % 2 ? 0 : (1 << inC) - 1, o * 9, o * 9 + 9);
      const thresholds = Int32Array.from({ length: outC }, (_, o) => [-kBits - 1, -kBits, -kBits + 1, kBits - 1, kBits, kBits + 1, 0][o % 7]);
      const flip = Uint8Array.from({ length: outC }, (_, o) => (o >> 1) % 2);
      for (const padding of ['same', 'valid'] as const) {
        const layer: ConvLayer = { type: 'conv', inC, outC, padding, weights, thresholds, flip };
        for (const input of [ones, new Uint32Array(height * width)]) {
          const expected = referenceConv(input, 1, height, width, layer, false);
          expect(runWasmConv(instance, input, 1, expected.length, () => bindTapLutConv(instance, layer, height, width, false))).toEqual(expected);
          expect(expected.some((v) => v !== 0)).toBe(true);
        }
      }
    }
    expect(() =>
      bindTapLutConv(
        instance,
        { type: 'conv', inC: 29, outC: 1, padding: 'same', weights: new Uint32Array(9), thresholds: new Int32Array(1), flip: new Uint8Array(1) },
        3,
        3,
        false,
      ),
    ).toThrow(/2\.\.28 input channels, got 29/);
  });

  it('bindBinaryConv runs the kernel it is given or the measured faster one, and names it', () => {
    const instance = new WasmKernelInstance();
    for (const [inC, outC, side, pool] of [
      [12, 12, 12, true],
      [24, 24, 7, true],
      [12, 24, 7, false],
      [40, 8, 5, false],
      [1, 12, 9, true],
    ] as const) {
      const layer: ConvLayer = { type: 'conv', inC, outC, padding: 'same', weights: randomPacked(inC, outC * 9, inC), ...thresholdsFor(inC + 1, outC, 9) };
      const input = randomPacked(outC, 2 * side * side, inC);
      const expected = referenceConv(input, 2, side, side, layer, pool);
      const choice = chooseConvKernel(layer, side, side, pool);
      // lut9 for one channel, im2col past 28 channels; in between, whichever timed faster
      if (inC === 1) expect(choice).toBe('lut9');
      else if (inC > 28) expect(choice).toBe('im2col');
      else expect(['taplut', 'im2col']).toContain(choice);
      expect(chooseConvKernel(layer, side, side, pool)).toBe(choice); // timed once per shape
      const auto = bindBinaryConv(instance, layer, side, side, pool);
      expect(auto.variant).toMatch({ lut9: /^b-conv3x3-lut9-/, taplut: /^b-conv3x3-taplut6x\d-2x(16|32)-i8x16add$/, im2col: /^b-conv3x3-im2col/ }[choice]);
      expect(runWasmConv(instance, input, 2, expected.length, () => auto)).toEqual(expected);
      for (const kernel of ['taplut', 'im2col'] as const) {
        if (kernel === 'taplut' && (inC < 2 || inC > 28)) {
          expect(() => bindBinaryConv(instance, layer, side, side, pool, kernel)).toThrow(/conv kernel 'taplut' does not run a layer of/);
          continue;
        }
        expect(runWasmConv(instance, input, 2, expected.length, () => bindBinaryConv(instance, layer, side, side, pool, kernel))).toEqual(expected);
      }
    }
  });

  it('im2col conv fused with 2x2 max-pool equals reference conv then max-pool', () => {
    const instance = new WasmKernelInstance();
    fc.assert(
      fc.property(
        fc.record({
          batch: fc.integer({ min: 1, max: 3 }),
          height: fc.integer({ min: 3, max: 10 }),
          width: fc.integer({ min: 3, max: 10 }),
          inC: fc.oneof(fc.integer({ min: 1, max: 40 }), fc.constantFrom(8, 16, 24, 64, 100, 128, 129)),
          outC: fc.integer({ min: 1, max: 70 }),
          padding: fc.constantFrom('same' as const, 'valid' as const),
          kernel: fc.constantFrom('scalar' as const, 'simd' as const),
          seed: fc.integer({ min: 0, max: 1 << 30 }),
        }),
        ({ batch, height, width, inC, outC, padding, kernel, seed }) => {
          const input = randomPacked(seed, batch * height * width, inC);
          const layer = randomConvLayer(seed, inC, outC, padding);
          const expected = referenceConv(input, batch, height, width, layer, true);
          expect(runWasmConv(instance, input, batch, expected.length, () => bindIm2colConv(instance, layer, height, width, true, kernel))).toEqual(expected);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('im2col conv, both GEMM kernels: long windows (more than 31 chunks, more than 18 words), unaligned channels and garbage padding bits', () => {
    for (const [inC, padding] of [
      [500, 'same'],
      [448, 'valid'],
      [7, 'same'],
      [48, 'same'],
      [20, 'valid'],
    ] as const) {
      const batch = 2,
        height = 4,
        width = 3,
        outC = 6;
      const input = randomPacked(inC, batch * height * width, inC);
      const layer: ConvLayer = { type: 'conv', inC, outC, padding, weights: randomPacked(inC + 1, outC * 9, inC), ...thresholdsFor(inC + 2, outC, 60) };
      const n = batch * im2colOutputWords(height, width, layer, false);
      const a = new Uint32Array(n);
      ref.convBinary(input, batch, height, width, layer, a);
      // padding bits of the input's last word per pixel set: the kernel must ignore them
      const dirty = input.slice();
      const wc = wordsForChannels(inC);
      if (inC % 32 !== 0) for (let i = wc - 1; i < dirty.length; i += wc) dirty[i] |= ~((1 << (inC % 32)) - 1);
      const b = new Uint32Array(n);
      wasm.convBinary(dirty, batch, height, width, layer, b);
      expect(b).toEqual(a);
      expect(a.some((v) => v !== 0)).toBe(true);
      for (const kernel of ['scalar', 'simd'] as const) {
        const instance = new WasmKernelInstance();
        const inp = instance.put(dirty);
        const out = instance.alloc(n * 4);
        bindIm2colConv(instance, layer, height, width, false, kernel).run(inp, batch, out);
        expect(instance.u32(out, n)).toEqual(a);
      }
    }
  });

  it('real-valued first layer on planes', () => {
    fc.assert(
      fc.property(
        fc.record({
          batch: fc.integer({ min: 1, max: 2 }),
          height: fc.integer({ min: 3, max: 7 }),
          width: fc.integer({ min: 3, max: 7 }),
          inC: fc.integer({ min: 1, max: 24 }),
          outC: fc.integer({ min: 1, max: 40 }),
          padding: fc.constantFrom('same' as const, 'valid' as const),
          seed: fc.integer({ min: 0, max: 1 << 30 }),
        }),
        ({ batch, height, width, inC, outC, padding, seed }) => {
          const rng = createRng(seed);
          const floats = (n: number): Float32Array => Float32Array.from({ length: n }, () => rng.nextFloat() * 2 - 1);
          const layer: ConvRealLayer = { type: 'conv_real', inC, outC, padding, weights: floats(outC * 9 * inC), scale: floats(outC), bias: floats(outC) };
          const input = randomPacked(seed + 1, batch * height * width, inC);
          const ho = padding === 'same' ? height : height - 2;
          const wo = padding === 'same' ? width : width - 2;
          const a = new Uint32Array(batch * ho * wo * wordsForChannels(outC));
          const b = new Uint32Array(a.length);
          ref.convReal(input, batch, height, width, layer, a);
          wasm.convReal(input, batch, height, width, layer, b);
          expect(b).toEqual(a);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('max-pool, flatten, dense, dense_out and GEMM dots', () => {
    fc.assert(
      fc.property(
        fc.record({
          batch: fc.integer({ min: 1, max: 5 }),
          height: fc.integer({ min: 2, max: 9 }),
          width: fc.integer({ min: 2, max: 9 }),
          channels: fc.integer({ min: 1, max: 140 }),
          outC: fc.integer({ min: 1, max: 45 }),
          seed: fc.integer({ min: 0, max: 1 << 30 }),
        }),
        ({ batch, height, width, channels, outC, seed }) => {
          const words = wordsForChannels(channels);
          const input = randomPacked(seed, batch * height * width, channels);
          const pooled = [new Uint32Array(batch * (height >> 1) * (width >> 1) * words), new Uint32Array(batch * (height >> 1) * (width >> 1) * words)];
          ref.maxPool2(input, batch, height, width, channels, pooled[0]);
          wasm.maxPool2(input, batch, height, width, channels, pooled[1]);
          expect(pooled[1]).toEqual(pooled[0]);

          const pixels = height * width;
          const inBits = pixels * channels;
          const flat = [new Uint32Array(batch * wordsForChannels(inBits)), new Uint32Array(batch * wordsForChannels(inBits))];
          ref.flattenPacked(input, batch, pixels, channels, flat[0]);
          wasm.flattenPacked(input, batch, pixels, channels, flat[1]);
          expect(flat[1]).toEqual(flat[0]);

          const dense: DenseLayer = {
            type: 'dense',
            inBits,
            outC,
            weights: randomPacked(seed + 3, outC, inBits),
            ...thresholdsFor(seed + 4, outC, Math.ceil(Math.sqrt(inBits)) * 2),
          };
          const d = [new Uint32Array(batch * wordsForChannels(outC)), new Uint32Array(batch * wordsForChannels(outC))];
          ref.denseBinary(flat[0], batch, dense, d[0]);
          wasm.denseBinary(flat[0], batch, dense, d[1]);
          expect(d[1]).toEqual(d[0]);

          const rng = createRng(seed + 5);
          const outLayer: DenseOutLayer = {
            type: 'dense_out',
            inBits,
            outC,
            weights: dense.weights,
            scale: Float32Array.from({ length: outC }, () => rng.nextFloat() - 0.5),
            bias: Float32Array.from({ length: outC }, () => rng.nextFloat() - 0.5),
          };
          const s = [new Float32Array(batch * outC), new Float32Array(batch * outC)];
          ref.denseOut(flat[0], batch, outLayer, s[0]);
          wasm.denseOut(flat[0], batch, outLayer, s[1]);
          expect(s[1]).toEqual(s[0]);

          const g = [new Int32Array(batch * outC), new Int32Array(batch * outC)];
          ref.gemmDots(flat[0], batch, inBits, dense.weights, outC, g[0]);
          wasm.gemmDots(flat[0], batch, inBits, dense.weights, outC, g[1]);
          expect(g[1]).toEqual(g[0]);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('dense, dense_out and GEMM bindings, both kernels: odd row lengths, L1 tiles, padding channels', () => {
    const instance = new WasmKernelInstance();
    fc.assert(
      fc.property(
        fc.record({
          rows: fc.integer({ min: 1, max: 6 }),
          inBits: fc.oneof(fc.integer({ min: 1, max: 200 }), fc.constantFrom(32, 64, 96, 4096, 6272, 3136 + 5)),
          outC: fc.integer({ min: 1, max: 45 }),
          kernel: fc.constantFrom('scalar' as const, 'simd' as const),
          seed: fc.integer({ min: 0, max: 1 << 30 }),
        }),
        ({ rows, inBits, outC, kernel, seed }) => {
          const input = randomPacked(seed, rows, inBits);
          const rng = createRng(seed + 5);
          const dense: DenseLayer = {
            type: 'dense',
            inBits,
            outC,
            weights: randomPacked(seed + 3, outC, inBits),
            ...thresholdsFor(seed + 4, outC, Math.ceil(Math.sqrt(inBits)) * 2),
          };
          const outLayer: DenseOutLayer = {
            type: 'dense_out',
            inBits,
            outC,
            weights: dense.weights,
            scale: Float32Array.from({ length: outC }, () => rng.nextFloat() - 0.5),
            bias: Float32Array.from({ length: outC }, () => rng.nextFloat() - 0.5),
          };
          const bits = new Uint32Array(rows * wordsForChannels(outC));
          const scores = new Float32Array(rows * outC);
          const dots = new Int32Array(rows * outC);
          ref.denseBinary(input, rows, dense, bits);
          ref.denseOut(input, rows, outLayer, scores);
          ref.gemmDots(input, rows, inBits, dense.weights, outC, dots);

          const mark = instance.mark();
          // rows of garbage after the input: an odd row length must not read them
          const inp = instance.put(Uint32Array.from({ length: input.length + 4 }, (_, i) => (i < input.length ? input[i] : 0xffffffff)));
          const out = instance.alloc(rows * outC * 4);
          bindDense(instance, dense, kernel).run(inp, rows, out);
          expect(instance.u32(out, bits.length)).toEqual(bits);
          bindDenseOut(instance, outLayer, kernel).run(inp, rows, out);
          expect(instance.f32(out, scores.length)).toEqual(scores);
          bindGemm(instance, dense.weights, outC, inBits, kernel).run(inp, rows, out);
          expect(instance.i32(out, dots.length)).toEqual(dots);
          instance.release(mark);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('GEMM dots: long K (more than 31 chunks per byte accumulator) and known values', () => {
    const kBits = 128 * 40 + 7;
    const a = randomPacked(11, 3, kBits);
    const b = randomPacked(12, 5, kBits);
    const r = new Int32Array(15);
    const w = new Int32Array(15);
    ref.gemmDots(a, 3, kBits, b, 5, r);
    wasm.gemmDots(a, 3, kBits, b, 5, w);
    expect(w).toEqual(r);
    // a row against itself: all taps agree -> dot = kBits
    wasm.gemmDots(a, 1, kBits, a, 1, w);
    expect(w[0]).toBe(kBits);
  });
});
