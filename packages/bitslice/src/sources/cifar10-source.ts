import * as fs from 'node:fs';
import * as path from 'node:path';
import { InvalidInputError, sha256Hex } from '@cbnn/core';
import { z } from 'zod';
import { readInputFile } from './input-file';
import { RecordSetBuilder, type RecordSet } from './record-set';
import { defineSource, type SourceLoadContext } from './source';

const SIDE = 32;
const PLANE = SIDE * SIDE;
/** 1 label byte, then the red, green and blue 32x32 planes, row-major. */
export const CIFAR10_RECORD_SIZE = 1 + 3 * PLANE;
export const CIFAR10_CLASS_NAMES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
const TRAIN_FILES = [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`);
const TEST_FILE = 'test_batch.bin';

/**
 * CIFAR-10 binary batches. Either `dir` (the `cifar-10-batches-bin` folder: data_batch_1..5.bin
 * and test_batch.bin) or explicit `train`/`test` file lists. Pixels are converted from planar
 * (RRR..GGG..BBB) to NHWC with channels r, g, b.
 */
export const cifar10Source = defineSource({
  name: 'cifar10',
  description: 'CIFAR-10 binary batches (data_batch_*.bin, test_batch.bin), canonical test split',
  pathsSchema: z
    .object({
      dir: z.string().min(1).optional(),
      train: z.array(z.string().min(1)).min(1).optional(),
      test: z.array(z.string().min(1)).optional(),
    })
    .strict()
    .refine((p) => (p.dir === undefined) !== (p.train === undefined), { message: 'give either dir or train (+ test) files' }),
  load(paths, ctx) {
    let trainFiles = paths.train ?? [];
    let testFiles = paths.test ?? [];
    if (paths.dir) {
      const dir = paths.dir;
      const nested = path.join(dir, 'cifar-10-batches-bin');
      const base = !fs.existsSync(path.join(dir, TRAIN_FILES[0])) && fs.existsSync(path.join(nested, TRAIN_FILES[0])) ? nested : dir;
      trainFiles = TRAIN_FILES.map((f) => path.join(base, f));
      testFiles = [path.join(base, TEST_FILE)];
      const missing = [...trainFiles, ...testFiles].filter((f) => !fs.existsSync(f));
      if (missing.length > 0) {
        throw new InvalidInputError(
          `CIFAR-10 folder lacks ${missing.map((f) => path.basename(f)).join(', ')}; expected ${[...TRAIN_FILES, TEST_FILE].join(', ')}`,
          { file: base },
        );
      }
    }
    const fingerprints: string[] = [];
    const all = [...trainFiles, ...testFiles];
    let examined = 0;
    const read = (files: string[]): RecordSet => {
      const builder = new RecordSetBuilder(3 * PLANE, files.length * 10_000);
      for (const file of files) {
        ctx.signal?.throwIfAborted();
        examined += readBatch(file, builder, fingerprints, ctx);
        ctx.onFile?.(file, fingerprints.length, all.length);
      }
      return builder.finish();
    };
    const train = read(trainFiles);
    const test = testFiles.length > 0 ? read(testFiles) : undefined;
    return {
      name: 'cifar10',
      version: `files-sha256:${sha256Hex(fingerprints.join('\n')).slice(0, 16)}`,
      description: 'CIFAR-10 binary batches',
      files: fingerprints,
      shape: { height: SIDE, width: SIDE, channels: 3 },
      channelNames: ['r', 'g', 'b'],
      classNames: [...CIFAR10_CLASS_NAMES],
      train,
      test,
      defaultTestFraction: 1 / 6,
      examined,
    };
  },
});

function readBatch(file: string, builder: RecordSetBuilder, fingerprints: string[], ctx: SourceLoadContext): number {
  const input = readInputFile(file, 'CIFAR-10 binary batch');
  fingerprints.push(input.fingerprint);
  const b = input.bytes;
  if (b.length === 0 || b.length % CIFAR10_RECORD_SIZE !== 0) {
    throw new InvalidInputError(
      `file is ${b.length} bytes, not a whole number of ${CIFAR10_RECORD_SIZE}-byte CIFAR-10 records (1 label byte + 3x32x32 pixels)` +
        `${b.length > CIFAR10_RECORD_SIZE ? `: ${Math.floor(b.length / CIFAR10_RECORD_SIZE)} records and ${b.length % CIFAR10_RECORD_SIZE} extra bytes (truncated?)` : ''}`,
      { file },
      'CIFAR-100 batches (2 label bytes) and the python pickles are not this format',
    );
  }
  const count = b.length / CIFAR10_RECORD_SIZE;
  for (let i = 0; i < count; i++) {
    const base = i * CIFAR10_RECORD_SIZE;
    const label = b[base];
    if (label >= CIFAR10_CLASS_NAMES.length) {
      ctx.malformed.add(path.basename(file), i, `label ${label} is outside the 10 CIFAR-10 classes (0..9)`);
      continue;
    }
    const out = builder.next();
    const r = base + 1;
    const g = r + PLANE;
    const bl = g + PLANE;
    for (let p = 0, o = 0; p < PLANE; p++, o += 3) {
      out[o] = b[r + p];
      out[o + 1] = b[g + p];
      out[o + 2] = b[bl + p];
    }
    builder.commit(label);
  }
  return count;
}
