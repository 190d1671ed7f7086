import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createEngine, createPlanePacker, type EngineModel } from '@cbnn/kernels';

/**
 * The proof that an exported C library is the same model: build the example program, feed it
 * raw images on stdin, and compare every predicted class and every score (float32, exactly)
 * with the engine's on the same images.
 */
export interface CBuild {
  /** Compiler command, e.g. 'gcc', 'clang'. */
  cc: string;
  flags: string[];
}

/** The strict build every export must pass, and variants that catch what a plain build misses. */
export const STRICT_FLAGS = ['-std=c99', '-pedantic', '-O2', '-Wall', '-Wextra', '-Werror'];
export const SANITIZE_FLAGS = [...STRICT_FLAGS, '-g', '-fsanitize=address,undefined', '-fno-sanitize-recover=all'];

export interface CCheck {
  build: string;
  images: number;
  classesEqual: number;
  scoresEqual: number;
  /** First image whose class or scores differ, if any. */
  firstMismatch?: { image: number; c: number; engine: number };
}

export interface EnginePredictions {
  classes: Int32Array;
  scores: Float32Array;
}

/** Engine (wasm) classes and scores of `count` raw uint8 NHWC images. */
export function enginePredictions(model: EngineModel, images: Uint8Array, count: number): EnginePredictions {
  const channels = model.input.layout.channels.length;
  const packer = createPlanePacker(model.input.layout, model.input.height * model.input.width, channels);
  const packed = new Uint32Array(count * packer.wordsPerImage);
  packer.pack(images, 0, count, packed);
  // Batches of at most maxBatch: an engine may refuse a larger one rather than chunk it.
  const maxBatch = 256;
  const engine = createEngine(model, { impl: 'wasm', maxBatch });
  const classes = model.classNames.length;
  const out = { classes: new Int32Array(count), scores: new Float32Array(count * classes) };
  for (let start = 0; start < count; start += maxBatch) {
    const n = Math.min(maxBatch, count - start);
    const batch = packed.subarray(start * packer.wordsPerImage, (start + n) * packer.wordsPerImage);
    out.classes.set(engine.classify(batch, n), start);
    out.scores.set(engine.predict(batch, n), start * classes);
  }
  return out;
}

/** Whether `cc` can build and run a program with `flags` here (e.g. -m32 needs multilib). */
export function canBuild(build: CBuild): boolean {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cbnn-cc-probe-'));
  try {
    fs.writeFileSync(path.join(tmp, 'p.c'), '#include <stdio.h>\n#include <string.h>\nint main(void) { char b[4]; memset(b, 0, sizeof b); return b[0]; }\n');
    const exe = path.join(tmp, 'p');
    const r = spawnSync(build.cc, [...build.flags, path.join(tmp, 'p.c'), '-o', exe]);
    return r.status === 0 && spawnSync(exe).status === 0;
  } catch {
    return false;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

export function compileExample(dir: string, build: CBuild, exe: string): void {
  const args = [...build.flags, path.join(dir, 'main.c'), path.join(dir, 'model.c'), '-o', exe];
  const r = spawnSync(build.cc, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${build.cc} ${args.join(' ')} failed:\n${r.stderr || r.error}`);
}

/** Run the example with --scores on raw images; parse one line per image. */
export function runExample(exe: string, images: Uint8Array, classes: number): EnginePredictions {
  const r = spawnSync(exe, ['--scores'], { input: images, maxBuffer: 1 << 28, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${exe} exited with ${r.status}: ${r.stderr}`);
  const lines = r.stdout.trim() === '' ? [] : r.stdout.trim().split('\n');
  const out = { classes: new Int32Array(lines.length), scores: new Float32Array(lines.length * classes) };
  lines.forEach((line, i) => {
    const [c, ...s] = line.split(' ').map(Number);
    out.classes[i] = c;
    s.forEach((v, j) => (out.scores[i * classes + j] = v));
  });
  return out;
}

export function checkBuild(dir: string, build: CBuild, images: Uint8Array, count: number, expected: EnginePredictions, classes: number): CCheck {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cbnn-c-check-'));
  try {
    const exe = path.join(tmp, 'predict');
    compileExample(dir, build, exe);
    const got = runExample(exe, images, classes);
    let classesEqual = 0;
    let scoresEqual = 0;
    let firstMismatch: CCheck['firstMismatch'];
    for (let i = 0; i < count; i++) {
      const sameClass = got.classes[i] === expected.classes[i];
      let sameScores = i < got.classes.length;
      for (let j = 0; j < classes && sameScores; j++) sameScores = got.scores[i * classes + j] === expected.scores[i * classes + j];
      if (sameClass) classesEqual++;
      if (sameScores) scoresEqual++;
      if ((!sameClass || !sameScores) && !firstMismatch) firstMismatch = { image: i, c: got.classes[i] ?? -1, engine: expected.classes[i] };
    }
    return { build: `${build.cc} ${build.flags.join(' ')}`, images: count, classesEqual, scoresEqual, ...(firstMismatch ? { firstMismatch } : {}) };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * The builds available here: gcc strict, with sanitizers, -m32, clang strict (on x86-64 without
 * -mpopcnt these use the inline SWAR popcount), and both compilers with the builtin popcount
 * (-mpopcnt, CBNN_BUILTIN_POPCOUNT).
 */
export function availableBuilds(): CBuild[] {
  const builds: CBuild[] = [
    { cc: 'gcc', flags: STRICT_FLAGS },
    { cc: 'gcc', flags: SANITIZE_FLAGS },
    { cc: 'gcc', flags: ['-m32', ...STRICT_FLAGS] },
    { cc: 'clang', flags: STRICT_FLAGS },
    { cc: 'gcc', flags: ['-mpopcnt', ...STRICT_FLAGS] },
    { cc: 'clang', flags: ['-DCBNN_BUILTIN_POPCOUNT', ...STRICT_FLAGS] },
  ];
  return builds.filter(canBuild);
}
