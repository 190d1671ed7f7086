import { createRng, wordsForChannels } from '@cbnn/core';
import {
  WasmKernelInstance,
  bindGemm,
  bindIm2colConv,
  createEngine,
  fastestIm2colKernel,
  randomEngineModel,
  randomPackedWeights,
  vggSmallLayers,
  type ConvLayer,
  type EngineProfile,
} from '@cbnn/kernels';
import { z } from 'zod';

/**
 * Kernel benchmarks (not tests): binary XNOR-popcount kernels (WebAssembly SIMD, 1 thread) vs
 * float32 TensorFlow.js on the wasm backend (XNNPACK, 1 thread in Node) for the same logical
 * shapes, side by side in one process. Every figure is the median of several timed runs after
 * warm-up, with the min and max; each run repeats the operation long enough to be timed well.
 */
export const kernelBenchOptionsSchema = z.object({
  runs: z.number().int().min(1).default(7),
  warmupRuns: z.number().int().min(0).default(2),
  /** Each timed run repeats the operation for at least this long. */
  minRunSeconds: z.number().positive().default(0.25),
  widths: z.array(z.number().positive()).default([1, 0.5]),
  height: z.number().int().positive().default(28),
  width: z.number().int().positive().default(28),
  planes: z.number().int().positive().default(8),
  classes: z.number().int().min(2).default(10),
  /** Images per conv call and rows per dense call. */
  batch: z.number().int().positive().default(16),
  /** Skip the TensorFlow.js side (e.g. where its wasm backend cannot load). */
  skipTfjs: z.boolean().default(false),
  /** Per-layer cases (GEMM and each VGG-small layer). */
  layers: z.boolean().default(true),
  /** Whole-model cases: VGG-small on the engine vs its full-precision counterpart on tfjs. */
  models: z.boolean().default(true),
  modelBatches: z.array(z.number().int().positive()).default([64, 256]),
  modelPlanes: z.array(z.number().int().positive()).default([8, 4]),
  /** Per-layer, per-phase profiles of the engine on VGG-small (random weights). */
  profiles: z.boolean().default(true),
  /** The profiled models: the demo's compact model (w=0.19 on 1 plane) and the baselines. */
  profileModels: z.array(z.object({ width: z.number().positive(), planes: z.number().int().positive() })).default([
    { width: 0.19, planes: 1 },
    { width: 0.5, planes: 8 },
    { width: 1, planes: 8 },
  ]),
  profileBatch: z.number().int().positive().default(256),
});
export type KernelBenchOptions = z.input<typeof kernelBenchOptionsSchema>;

export interface Timing {
  medianSeconds: number;
  /** Median process CPU time per operation: less sensitive than wall time to other load on a shared machine. */
  cpuMedianSeconds: number;
  minSeconds: number;
  maxSeconds: number;
  /** (max - min) / median */
  spread: number;
}

export interface KernelBenchCase {
  name: string;
  /** e.g. 'conv3x3 same 16x28x28x64 -> 64' */
  shape: string;
  macs: number;
  binary: Timing & { gBinaryMacsPerSecond: number; runtime: string };
  float?: Timing & { gflopsPerSecond: number; runtime: string };
  /** float median time / binary median time */
  speedup?: number;
}

/** One whole-model forward pass of a batch: images per second on each side. */
export interface ModelBenchCase {
  name: string;
  batch: number;
  planes: number;
  width: number;
  binary: Timing & { imagesPerSecond: number; runtime: string };
  float?: Timing & { imagesPerSecond: number; runtime: string };
  /** float median time / binary median time */
  speedup?: number;
}

/** Engine.profile of one VGG-small model: every call of its forward pass timed alone. */
export interface ModelProfileCase {
  name: string;
  width: number;
  planes: number;
  profile: EngineProfile;
}

export interface KernelBenchReport {
  cases: KernelBenchCase[];
  models: ModelBenchCase[];
  profiles: ModelProfileCase[];
  options: z.output<typeof kernelBenchOptionsSchema>;
  node: string;
  tfjsBackend?: string;
  notes: string[];
}

type Tf = typeof import('@tensorflow/tfjs-core');

async function loadTfjs(): Promise<{ tf: Tf; backend: string }> {
  const tf = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs-backend-wasm');
  await tf.setBackend('wasm');
  await tf.ready();
  return { tf, backend: tf.getBackend() };
}

function time(fn: () => void, o: z.output<typeof kernelBenchOptionsSchema>): Timing {
  // Calibrate repeats so one run lasts at least minRunSeconds.
  let reps = 1;
  for (;;) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < reps; i++) fn();
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    if (s >= o.minRunSeconds / 4 || reps > 1e6) {
      reps = Math.max(1, Math.ceil((reps * o.minRunSeconds) / Math.max(s, 1e-9)));
      break;
    }
    reps *= 4;
  }
  for (let w = 0; w < o.warmupRuns; w++) for (let i = 0; i < reps; i++) fn();
  const samples: number[] = [];
  const cpuSamples: number[] = [];
  for (let r = 0; r < o.runs; r++) {
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    for (let i = 0; i < reps; i++) fn();
    const cpu = process.cpuUsage(c0);
    samples.push(Number(process.hrtime.bigint() - t0) / 1e9 / reps);
    cpuSamples.push((cpu.user + cpu.system) / 1e6 / reps);
  }
  const median = medianOf(samples);
  const min = Math.min(...samples);
  const max = Math.max(...samples);
  return { medianSeconds: median, cpuMedianSeconds: medianOf(cpuSamples), minSeconds: min, maxSeconds: max, spread: (max - min) / median };
}

function medianOf(values: number[]): number {
  const v = [...values].sort((a, b) => a - b);
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
}

interface ConvShape {
  kind: 'conv';
  name: string;
  batch: number;
  h: number;
  w: number;
  inC: number;
  outC: number;
}
interface GemmShape {
  kind: 'gemm';
  name: string;
  m: number;
  kBits: number;
  n: number;
}

function vggShapes(o: z.output<typeof kernelBenchOptionsSchema>, width: number): Array<ConvShape | GemmShape> {
  const ch = (n: number): number => Math.max(1, Math.round(n * width));
  const { height: h, width: w, batch, planes } = o;
  const h2 = Math.floor(h / 2);
  const w2 = Math.floor(w / 2);
  const h4 = Math.floor(h2 / 2);
  const w4 = Math.floor(w2 / 2);
  const tag = `w=${width}`;
  return [
    { kind: 'conv', name: `vgg ${tag} conv1 (planes)`, batch, h, w, inC: planes, outC: ch(64) },
    { kind: 'conv', name: `vgg ${tag} conv2`, batch, h, w, inC: ch(64), outC: ch(64) },
    { kind: 'conv', name: `vgg ${tag} conv3`, batch, h: h2, w: w2, inC: ch(64), outC: ch(128) },
    { kind: 'conv', name: `vgg ${tag} conv4`, batch, h: h2, w: w2, inC: ch(128), outC: ch(128) },
    { kind: 'gemm', name: `vgg ${tag} dense`, m: batch, kBits: h4 * w4 * ch(128), n: ch(512) },
    { kind: 'gemm', name: `vgg ${tag} dense_out`, m: batch, kBits: ch(512), n: o.classes },
  ];
}

function fillRandom(view: Uint32Array, seed: number, bits: number, rows: number): void {
  view.set(randomPackedWeights(createRng(seed), rows, bits));
}

export async function runKernelBenchmarks(options: KernelBenchOptions = {}, log: (line: string) => void = () => undefined): Promise<KernelBenchReport> {
  const o = kernelBenchOptionsSchema.parse(options);
  const notes: string[] = [
    `binary: @cbnn/kernels WebAssembly, 1 thread, popcount kernel '${fastestIm2colKernel()}' (the faster of scalar i64.popcnt and SIMD i8x16.popcnt on this CPU, timed once); conv = per layer the faster of the tap-table conv (2..28 input channels: per-tap byte tables of popcounts, im2col, threshold, pool and packing fused) and bit im2col + blocked XNOR-popcount GEMM with thresholds fused, timed on its shape (the kernel column names the one that ran); float: tfjs-core 4.22 on tfjs-backend-wasm (XNNPACK, SIMD), 1 thread in Node.`,
    'MACs count all 3x3 taps (same padding borders included) for both sides; float GFLOP/s = 2 x MACs / s.',
    'Times are wall-clock medians; the last column repeats them by process CPU time, which other load on a shared machine disturbs less.',
  ];
  let tfjs: { tf: Tf; backend: string } | undefined;
  if (!o.skipTfjs) {
    try {
      tfjs = await loadTfjs();
    } catch (e) {
      notes.push(`TensorFlow.js wasm backend unavailable (${(e as Error).message}); float side skipped.`);
    }
  }
  const shapes: Array<ConvShape | GemmShape> = [];
  if (o.layers) {
    shapes.push({ kind: 'gemm', name: 'gemm', m: 256, kBits: 4096, n: 1024 });
    for (const w of o.widths) shapes.push(...vggShapes(o, w));
  }

  const cases: KernelBenchCase[] = [];
  for (const [i, s] of shapes.entries()) {
    const wasm = new WasmKernelInstance();
    let macs: number;
    let shape: string;
    let binaryFn: () => void;
    if (s.kind === 'gemm') {
      const kw = wordsForChannels(s.kBits);
      // B plays the weights: laid out once for the kernel, as the engine does for a dense layer.
      const gemm = bindGemm(wasm, randomPackedWeights(createRng(i * 7 + 2), s.n, s.kBits), s.n, s.kBits);
      const a = wasm.alloc(s.m * kw * 4);
      const out = wasm.alloc(s.m * s.n * 4);
      fillRandom(wasm.u32(a, s.m * kw), i * 7 + 1, s.kBits, s.m);
      macs = s.m * s.n * s.kBits;
      shape = `gemm M=${s.m} K=${s.kBits} bits N=${s.n}`;
      binaryFn = () => gemm.run(a, s.m, out);
    } else {
      const wc = wordsForChannels(s.inC);
      const rng = createRng(i * 7 + 2);
      const layer: ConvLayer = {
        type: 'conv',
        inC: s.inC,
        outC: s.outC,
        padding: 'same',
        weights: randomPackedWeights(rng, s.outC * 9, s.inC),
        thresholds: Int32Array.from({ length: s.outC }, () => rng.int(9) - 4),
        flip: Uint8Array.from({ length: s.outC }, () => (rng.int(4) === 0 ? 1 : 0)),
      };
      const conv = bindIm2colConv(wasm, layer, s.h, s.w, false);
      const inp = wasm.alloc(s.batch * s.h * s.w * wc * 4);
      const out = wasm.alloc(s.batch * s.h * s.w * wordsForChannels(s.outC) * 4);
      fillRandom(wasm.u32(inp, s.batch * s.h * s.w * wc), i * 7 + 1, s.inC, s.batch * s.h * s.w);
      macs = s.batch * s.h * s.w * s.outC * 9 * s.inC;
      shape = `conv3x3 same ${s.batch}x${s.h}x${s.w}x${s.inC} -> ${s.outC}`;
      binaryFn = () => conv.run(inp, s.batch, out);
    }
    const bt = time(binaryFn, o);
    const c: KernelBenchCase = {
      name: s.name,
      shape,
      macs,
      binary: { ...bt, gBinaryMacsPerSecond: macs / bt.medianSeconds / 1e9, runtime: `wasm xnor-popcount (${fastestIm2colKernel()}), 1 thread` },
    };
    if (tfjs) {
      const { tf } = tfjs;
      const rng = createRng(1000 + i);
      const rand = (n: number): Float32Array => Float32Array.from({ length: n }, () => rng.nextFloat() * 2 - 1);
      let floatFn: () => void;
      const keep: Array<{ dispose(): void }> = [];
      if (s.kind === 'gemm') {
        const a = tf.tensor2d(rand(s.m * s.kBits), [s.m, s.kBits]);
        const b = tf.tensor2d(rand(s.kBits * s.n), [s.kBits, s.n]);
        keep.push(a, b);
        // tidy must not return the data: it would walk every element looking for tensors
        floatFn = () => tf.tidy(() => void tf.matMul(a, b).dataSync());
      } else {
        const x = tf.tensor4d(rand(s.batch * s.h * s.w * s.inC), [s.batch, s.h, s.w, s.inC]);
        const f = tf.tensor4d(rand(9 * s.inC * s.outC), [3, 3, s.inC, s.outC]);
        keep.push(x, f);
        floatFn = () => tf.tidy(() => void tf.conv2d(x, f, 1, 'same').dataSync());
      }
      const ft = time(floatFn, o);
      keep.forEach((t) => t.dispose());
      c.float = { ...ft, gflopsPerSecond: (2 * macs) / ft.medianSeconds / 1e9, runtime: `tfjs ${tfjs.backend} float32 (XNNPACK), 1 thread` };
      c.speedup = ft.medianSeconds / bt.medianSeconds;
    }
    cases.push(c);
    log(formatCase(c));
  }
  const models: ModelBenchCase[] = [];
  if (o.models) {
    notes.push(
      'models: VGG-small (random weights and thresholds) on the @cbnn/kernels engine (conv+maxpool fused), packed planes in, class scores out; float: the same topology in full precision (1 grey channel in, ReLU) as tfjs-core ops on the wasm backend.',
    );
    for (const width of o.widths) {
      for (const batch of o.modelBatches) {
        const floatCase = tfjs ? floatVggSmall(tfjs.tf, o, width, batch) : undefined;
        const ft = floatCase ? time(floatCase.run, o) : undefined;
        floatCase?.dispose();
        for (const planes of o.modelPlanes) {
          const model = randomEngineModel({ height: o.height, width: o.width, features: planes, classes: o.classes, layers: vggSmallLayers(width), seed: 17 });
          const engine = createEngine(model, { maxBatch: batch });
          const input = randomPackedWeights(createRng(batch + planes), batch * o.height * o.width, planes);
          const scores = new Float32Array(batch * o.classes);
          const bt = time(() => engine.predict(input, batch, scores), o);
          const c: ModelBenchCase = {
            name: `vgg-small w=${width} ${planes} planes`,
            batch,
            planes,
            width,
            binary: { ...bt, imagesPerSecond: batch / bt.medianSeconds, runtime: `cbnn engine, wasm (${fastestIm2colKernel()}), 1 thread` },
          };
          if (ft && tfjs) {
            c.float = { ...ft, imagesPerSecond: batch / ft.medianSeconds, runtime: `tfjs ${tfjs.backend} float32 (XNNPACK), 1 thread` };
            c.speedup = ft.medianSeconds / bt.medianSeconds;
          }
          models.push(c);
          log(formatModelCase(c));
        }
      }
    }
  }
  const profiles: ModelProfileCase[] = [];
  if (o.profiles) {
    notes.push(
      `profiles: each call of the engine's forward pass (VGG-small, random weights, batch ${o.profileBatch}, 1 thread) timed alone, median of ${o.runs} runs; im2col = that phase of a conv alone (for a tap-table conv: the rewrite of the input into table indices), rest = its popcounts or table sums with threshold, pool and output packing fused in; G binary-MAC/s counts all 3x3 taps.`,
    );
    for (const { width, planes } of o.profileModels) {
      const model = randomEngineModel({ height: o.height, width: o.width, features: planes, classes: o.classes, layers: vggSmallLayers(width), seed: 17 });
      const engine = createEngine(model, { maxBatch: o.profileBatch });
      const input = randomPackedWeights(createRng(planes), o.profileBatch * o.height * o.width, planes);
      const profile = engine.profile(input, o.profileBatch, { runs: o.runs, minRunSeconds: o.minRunSeconds / 4 });
      const c: ModelProfileCase = { name: `vgg-small w=${width} ${planes} plane${planes === 1 ? '' : 's'}`, width, planes, profile };
      profiles.push(c);
      log(
        `${c.name.padEnd(26)} profile: ${profile.gBinaryMacsPerSecond.toFixed(1)} G binary-MAC/s, ${((profile.totalSeconds / o.profileBatch) * 1e6).toFixed(1)} us/image`,
      );
    }
  }
  return { cases, models, profiles, options: o, node: process.version, tfjsBackend: tfjs?.backend, notes };
}

/** The full-precision counterpart of VGG-small (1 grey channel in) as tfjs ops on random weights. */
function floatVggSmall(tf: Tf, o: z.output<typeof kernelBenchOptionsSchema>, width: number, batch: number): { run: () => void; dispose: () => void } {
  const ch = (n: number): number => Math.max(1, Math.round(n * width));
  const rng = createRng(99);
  const keep: Array<{ dispose(): void }> = [];
  const tensor = (shape: number[]): ReturnType<Tf['tensor']> => {
    const t = tf.tensor(
      Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => (rng.nextFloat() * 2 - 1) * 0.1),
      shape,
    );
    keep.push(t);
    return t;
  };
  const filters = [tensor([3, 3, 1, ch(64)]), tensor([3, 3, ch(64), ch(64)]), tensor([3, 3, ch(64), ch(128)]), tensor([3, 3, ch(128), ch(128)])];
  const biases = [ch(64), ch(64), ch(128), ch(128)].map((n) => tensor([n]));
  const flat = Math.floor(o.height / 4) * Math.floor(o.width / 4) * ch(128);
  const dense = tensor([flat, ch(512)]);
  const denseBias = tensor([ch(512)]);
  const out = tensor([ch(512), o.classes]);
  const outBias = tensor([o.classes]);
  const x = tensor([batch, o.height, o.width, 1]);
  const conv = (t: ReturnType<Tf['tensor']>, i: number): ReturnType<Tf['tensor']> =>
    tf.relu(tf.add(tf.conv2d(t as never, filters[i] as never, 1, 'same'), biases[i]));
  return {
    run: () =>
      tf.tidy(() => {
        let t = conv(conv(x, 0), 1);
        t = tf.maxPool(t as never, 2, 2, 'valid');
        t = conv(conv(t, 2), 3);
        t = tf.maxPool(t as never, 2, 2, 'valid');
        const h = tf.relu(tf.add(tf.matMul(tf.reshape(t, [batch, flat]) as never, dense as never), denseBias));
        tf.add(tf.matMul(h as never, out as never), outBias).dataSync();
      }),
    dispose: () => keep.forEach((t) => t.dispose()),
  };
}

function formatModelCase(c: ModelBenchCase): string {
  const pct = (t: Timing): string => `±${((t.spread * 100) / 2).toFixed(0)}%`;
  let line = `${c.name.padEnd(26)} batch ${String(c.batch).padEnd(4)} binary ${c.binary.imagesPerSecond.toFixed(0).padStart(7)} img/s (${pct(c.binary)})`;
  if (c.float && c.speedup !== undefined)
    line += `  float ${c.float.imagesPerSecond.toFixed(0).padStart(6)} img/s (${pct(c.float)})  speedup ${c.speedup.toFixed(1)}x`;
  return line;
}

function formatCase(c: KernelBenchCase): string {
  const pct = (t: Timing): string => `±${((t.spread * 100) / 2).toFixed(0)}%`;
  let line = `${c.name.padEnd(26)} ${c.shape.padEnd(38)} binary ${c.binary.gBinaryMacsPerSecond.toFixed(1).padStart(6)} G MAC/s (${pct(c.binary)})`;
  if (c.float && c.speedup !== undefined) {
    line += `  float ${c.float.gflopsPerSecond.toFixed(1).padStart(5)} GFLOP/s (${pct(c.float)})  speedup ${c.speedup.toFixed(1)}x`;
  }
  return line;
}

function cpuSpeedup(binary: Timing, float: Timing | undefined): string {
  return float ? `${(float.cpuMedianSeconds / binary.cpuMedianSeconds).toFixed(1)}x` : '-';
}

/** The report as a Markdown table. */
export function formatKernelBenchReport(r: KernelBenchReport): string {
  const lines = [
    `Kernel benchmarks, Node ${r.node}, median of ${r.options.runs} runs (min..max), ${r.options.warmupRuns} warm-up runs.`,
    ...r.notes.map((n) => `- ${n}`),
    '',
    '| case | shape | binary G MAC/s | binary ms (min..max) | float GFLOP/s | float ms (min..max) | speedup | by CPU time: binary G MAC/s, speedup |',
    '| --- | --- | ---: | --- | ---: | --- | ---: | ---: |',
  ];
  const ms = (t: Timing): string => `${(t.medianSeconds * 1e3).toFixed(3)} (${(t.minSeconds * 1e3).toFixed(3)}..${(t.maxSeconds * 1e3).toFixed(3)})`;
  for (const c of r.cases) {
    lines.push(
      `| ${c.name} | ${c.shape} | ${c.binary.gBinaryMacsPerSecond.toFixed(1)} | ${ms(c.binary)} | ${c.float ? c.float.gflopsPerSecond.toFixed(1) : '-'} | ${c.float ? ms(c.float) : '-'} | ${c.speedup !== undefined ? c.speedup.toFixed(1) + 'x' : '-'} | ${(c.macs / c.binary.cpuMedianSeconds / 1e9).toFixed(1)}, ${cpuSpeedup(c.binary, c.float)} |`,
    );
  }
  if (r.models.length > 0) {
    lines.push(
      '',
      '| model | batch | binary img/s | binary ms (min..max) | float img/s | float ms (min..max) | speedup | by CPU time: binary img/s, speedup |',
      '| --- | ---: | ---: | --- | ---: | --- | ---: | ---: |',
    );
    for (const c of r.models) {
      lines.push(
        `| ${c.name} | ${c.batch} | ${c.binary.imagesPerSecond.toFixed(0)} | ${ms(c.binary)} | ${c.float ? c.float.imagesPerSecond.toFixed(0) : '-'} | ${c.float ? ms(c.float) : '-'} | ${c.speedup !== undefined ? c.speedup.toFixed(1) + 'x' : '-'} | ${(c.batch / c.binary.cpuMedianSeconds).toFixed(0)}, ${cpuSpeedup(c.binary, c.float)} |`,
      );
    }
  }
  const gemm = r.cases.find((c) => c.name === 'gemm');
  for (const p of r.profiles) {
    const us = (s: number): string => ((s / p.profile.batch) * 1e6).toFixed(2);
    const share = gemm
      ? ` (${((100 * p.profile.gBinaryMacsPerSecond) / gemm.binary.gBinaryMacsPerSecond).toFixed(0)}% of the GEMM's ${gemm.binary.gBinaryMacsPerSecond.toFixed(1)})`
      : '';
    const gemmCpu = gemm ? gemm.macs / gemm.binary.cpuMedianSeconds / 1e9 : 0;
    const cpuShare = gemm
      ? `; by CPU time ${p.profile.cpuGBinaryMacsPerSecond.toFixed(1)} (${((100 * p.profile.cpuGBinaryMacsPerSecond) / gemmCpu).toFixed(0)}% of the GEMM's ${gemmCpu.toFixed(1)})`
      : '';
    lines.push(
      '',
      `Profile: ${p.name}, batch ${p.profile.batch}, 1 thread: ${us(p.profile.totalSeconds)} us/image, ${p.profile.gBinaryMacsPerSecond.toFixed(1)} G binary-MAC/s${share}${cpuShare}`,
      '',
      '| layer | kernel | binary MACs/image | us/image (min..max) | CPU us/image | G binary-MAC/s | im2col us/image | rest us/image |',
      '| --- | --- | ---: | --- | ---: | ---: | ---: | ---: |',
    );
    for (const st of p.profile.steps) {
      lines.push(
        `| ${st.label} | ${st.variant} | ${st.binaryMacsPerImage.toLocaleString('en-US')} | ${us(st.seconds.median)} (${us(st.seconds.min)}..${us(st.seconds.max)}) | ${us(st.cpuSeconds)} | ${st.binaryMacsPerImage ? st.gBinaryMacsPerSecond.toFixed(1) : '-'} | ${
          st.phases.im2col !== undefined ? us(st.phases.im2col) : '-'
        } | ${st.phases.rest !== undefined ? us(st.phases.rest) : '-'} |`,
      );
    }
  }
  return lines.join('\n');
}
