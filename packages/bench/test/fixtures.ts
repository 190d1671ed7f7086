import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRng, writeDataset, type PlaneSelection } from '@cbnn/core';
import { writeStandInBnn, writeStandInFp, type StandInSpec } from '../src/stand-in-models';

/**
 * A tiny pipeline's outputs in their real formats: a grey 8x8 dataset of 3 classes, a compact and
 * a baseline BNN (model.bnn folders: model-info.json, model.cbnn, tfjs/), and the full-precision
 * counterpart (model.fp: model-info.json, tfjs/, no model.onnx so the benchmark exports one).
 * The weights are untrained (seeded initializers): the benchmark measures time, not skill.
 */
export const SIZE = 8;
export const CLASS_NAMES = ['a', 'b', 'c'];

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `cbnn-bench-${prefix}-`));
}

export function writeTinyDataset(dir: string, counts = { train: 6, validation: 3, test: 12 }): string {
  const rng = createRng(42);
  const total = counts.train + counts.validation + counts.test;
  const labels = Uint8Array.from({ length: total }, (_, i) => i % CLASS_NAMES.length);
  // Images that differ as wholes (brightness, a class-dependent stripe direction, a little
  // noise): i.i.d. noise images all look alike to a network once pooled.
  const images = new Uint8Array(total * SIZE * SIZE);
  for (let i = 0; i < total; i++) {
    const brightness = rng.int(256);
    const contrast = rng.int(128);
    for (let y = 0; y < SIZE; y++)
      for (let x = 0; x < SIZE; x++) {
        const stripe = [x, y, x + y][labels[i]] % 2 === 0 ? contrast : -contrast;
        images[(i * SIZE + y) * SIZE + x] = Math.max(0, Math.min(255, brightness + stripe + rng.int(32) - 16));
      }
  }
  const perClass = (offset: number, count: number): number[] =>
    CLASS_NAMES.map((_, c) => Array.from(labels.subarray(offset, offset + count)).filter((l) => l === c).length);
  writeDataset(
    dir,
    {
      source: { name: 'fixture', version: '1' },
      shape: { height: SIZE, width: SIZE, channels: 1 },
      channelNames: ['grey'],
      classNames: CLASS_NAMES,
      splits: {
        train: { offset: 0, count: counts.train, perClass: perClass(0, counts.train) },
        validation: { offset: counts.train, count: counts.validation, perClass: perClass(counts.train, counts.validation) },
        test: { offset: counts.train + counts.validation, count: counts.test, perClass: perClass(counts.train + counts.validation, counts.test) },
      },
      splitMethod: 'fixture: stored order',
      seed: 42,
      malformed: { count: 0, records: [] },
    },
    images,
    labels,
  );
  return dir;
}

const spec = (dir: string, width: number, seed: number): StandInSpec => ({
  dir,
  width,
  seed,
  height: SIZE,
  imageWidth: SIZE,
  channelNames: ['grey'],
  classNames: CLASS_NAMES,
});

export function writeBnnFolder(dir: string, selection: PlaneSelection, width: number, seed: number): Promise<string> {
  return writeStandInBnn(spec(dir, width, seed), selection);
}

export function writeFpFolder(dir: string, width: number, seed: number): Promise<string> {
  return writeStandInFp(spec(dir, width, seed));
}
