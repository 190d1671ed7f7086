import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { z } from 'zod';
import {
  createRng,
  ArtifactFileWriter,
  encodeArtifact,
  decodeArtifact,
  CorruptArtifactError,
  packBits,
  unpackBits,
  resolvePlanes,
  extractPlaneBits,
  writeDataset,
  readDataset,
  parseOrThrow,
  InvalidInputError,
} from '@cbnn/core';

describe('seeded rng', () => {
  it('is deterministic for a seed and differs across seeds and forks', () => {
    const a = createRng(42);
    const b = createRng(42);
    const seqA = Array.from({ length: 8 }, () => a.nextU32());
    expect(Array.from({ length: 8 }, () => b.nextU32())).toEqual(seqA);
    const c = createRng(43);
    expect(Array.from({ length: 8 }, () => c.nextU32())).not.toEqual(seqA);
    expect(createRng(42).fork('x').nextU32()).not.toEqual(createRng(42).fork('y').nextU32());
  });
  it('int(n) stays in range and shuffle is a permutation', () => {
    const r = createRng(1);
    const counts = new Array(10).fill(0);
    for (let i = 0; i < 10000; i++) counts[r.int(10)]++;
    for (const c of counts) expect(c).toBeGreaterThan(850);
    const arr = Array.from({ length: 100 }, (_, i) => i);
    r.shuffle(arr);
    expect([...arr].sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });
});

describe('artifact header', () => {
  const payload = new Uint8Array([1, 2, 3, 4, 5]);
  it('round-trips', () => {
    const bytes = encodeArtifact('TEST', 3, payload);
    const { header, payload: back } = decodeArtifact(bytes, 'x.bin', { kind: 'TEST', versions: [3] });
    expect(header.version).toBe(3);
    expect(Array.from(back)).toEqual([1, 2, 3, 4, 5]);
  });
  it('rejects truncation, tampering, foreign kinds and versions with clear messages', () => {
    const bytes = encodeArtifact('TEST', 3, payload);
    expect(() => decodeArtifact(bytes.subarray(0, bytes.length - 1), 'x.bin', { kind: 'TEST', versions: [3] })).toThrow(/truncated/);
    const tampered = bytes.slice();
    tampered[tampered.length - 1] ^= 1;
    expect(() => decodeArtifact(tampered, 'x.bin', { kind: 'TEST', versions: [3] })).toThrow(/checksum/);
    expect(() => decodeArtifact(bytes, 'x.bin', { kind: 'MODL', versions: [3] })).toThrow(/expected a 'MODL'/);
    expect(() => decodeArtifact(bytes, 'x.bin', { kind: 'TEST', versions: [1] })).toThrow(/version 3 is not supported/);
    expect(() => decodeArtifact(new Uint8Array(100), 'x.bin', { kind: 'TEST', versions: [3] })).toThrow(CorruptArtifactError);
  });
  it('a payload written in pieces is the same file as encodeArtifact of the whole; an aborted one leaves nothing', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbnn-artifact-'));
    const whole = createRng(5).fillBytes(new Uint8Array(3000));
    // Pieces smaller than, equal to and larger than the 1 KiB buffer, and an empty one.
    const cuts = [0, 7, 7, 1031, 2055, 3000];
    const writer = new ArtifactFileWriter(path.join(dir, 'a.bin'), 'TEST', 3, 1024);
    for (let i = 1; i < cuts.length; i++) writer.write(whole.subarray(cuts[i - 1], cuts[i]));
    expect(writer.length).toBe(3000);
    expect(fs.existsSync(path.join(dir, 'a.bin'))).toBe(false);
    writer.finish();
    expect(Buffer.from(fs.readFileSync(path.join(dir, 'a.bin'))).equals(Buffer.from(encodeArtifact('TEST', 3, whole)))).toBe(true);
    const empty = new ArtifactFileWriter(path.join(dir, 'e.bin'), 'TEST', 1);
    empty.finish();
    expect(Buffer.from(fs.readFileSync(path.join(dir, 'e.bin'))).equals(Buffer.from(encodeArtifact('TEST', 1, new Uint8Array(0))))).toBe(true);
    const aborted = new ArtifactFileWriter(path.join(dir, 'x.bin'), 'TEST', 1);
    aborted.write(whole);
    aborted.abort();
    expect(fs.readdirSync(dir).sort()).toEqual(['a.bin', 'e.bin']);
  });
});

describe('bit packing', () => {
  it('pack/unpack round-trips for any channel count', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 1, max: 5 }), fc.integer(), (channels, count, seed) => {
        const r = createRng(seed);
        const bits = Uint8Array.from({ length: channels * count }, () => r.int(2));
        const packed = packBits(bits, count, channels);
        expect(packed.length).toBe(count * Math.ceil(channels / 32));
        expect(Array.from(unpackBits(packed, count, channels))).toEqual(Array.from(bits));
      }),
    );
  });
});

describe('planes', () => {
  it('recomposing all 8 planes gives the pixels back', () => {
    const images = Uint8Array.from({ length: 2 * 4 * 3 }, (_, i) => (i * 37) & 255);
    const layout = resolvePlanes({ g: [7, 6, 5, 4, 3, 2, 1, 0] }, ['r', 'g', 'b']);
    const bits = extractPlaneBits(images, 4 * 2, 3, layout);
    for (let p = 0; p < 8; p++) {
      let v = 0;
      for (let k = 0; k < 8; k++) v |= bits[p * 8 + k] << layout.planes[k].bit;
      expect(v).toBe(images[p * 3 + 1]);
    }
  });
  it('rejects unknown channels', () => {
    expect(() => resolvePlanes({ grey: [7] }, ['r', 'g', 'b'])).toThrow(/channel 'grey'/);
  });
});

describe('dataset format', () => {
  it('writes, reads and detects a damaged file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbnn-ds-'));
    const images = Uint8Array.from({ length: 5 * 4 }, (_, i) => i);
    const labels = Uint8Array.from([0, 1, 0, 1, 1]);
    writeDataset(
      dir,
      {
        source: { name: 'test', version: '1' },
        shape: { height: 2, width: 2, channels: 1 },
        channelNames: ['grey'],
        classNames: ['a', 'b'],
        splits: {
          train: { offset: 0, count: 3, perClass: [2, 1] },
          validation: { offset: 3, count: 1, perClass: [0, 1] },
          test: { offset: 4, count: 1, perClass: [0, 1] },
        },
        splitMethod: 'test',
        seed: 1,
        malformed: { count: 0, records: [] },
      },
      images,
      labels,
    );
    const ds = readDataset(dir);
    expect(ds.split('test').count).toBe(1);
    expect(Array.from(ds.split('validation').images)).toEqual([12, 13, 14, 15]);
    const file = path.join(dir, 'images.bin');
    const bytes = fs.readFileSync(file);
    bytes[70] ^= 0xff;
    fs.writeFileSync(file, bytes);
    expect(() => readDataset(dir)).toThrow(/checksum/);
  });
});

describe('validation', () => {
  it('names the offending field', () => {
    const schema = z.object({ epochs: z.number().int() });
    try {
      parseOrThrow(schema, { epochs: 'ten' }, "params of stage 'train'", { file: 'p.yaml', fieldPrefix: 'stages.train.with' });
      throw new Error('no throw');
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidInputError);
      expect((e as InvalidInputError).userMessage()).toMatch(/p\.yaml: stages\.train\.with\.epochs: .*epochs/);
    }
  });
});
