import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodeArtifact } from '@cbnn/core';
import { CHECKPOINT_FILE, CHECKPOINT_VERSION, readCheckpoint, writeCheckpoint } from '../src';

describe('training checkpoints', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbnn-ckpt-'));
  const file = path.join(dir, CHECKPOINT_FILE);
  const arrays = { weights: Float32Array.of(1.5, -2, 3e-8), moments: Float32Array.of(7) };

  it('round-trips meta and arrays bit for bit', () => {
    writeCheckpoint(dir, 'fp-a', { meta: { epoch: 3, best: null }, arrays });
    const read = readCheckpoint<{ epoch: number }>(dir, 'fp-a');
    expect(read.status).toBe('ok');
    if (read.status !== 'ok') return;
    expect(read.checkpoint.meta.epoch).toBe(3);
    expect(Array.from(read.checkpoint.arrays.weights)).toEqual(Array.from(arrays.weights));
    expect(Array.from(read.checkpoint.arrays.moments)).toEqual([7]);
  });

  it.each([
    ['other settings', () => writeCheckpoint(dir, 'fp-b', { meta: {}, arrays }), /other training settings/],
    ['truncated', () => fs.writeFileSync(file, fs.readFileSync(file).subarray(0, 90)), /truncated/],
    [
      'damaged',
      () => {
        const b = fs.readFileSync(file);
        b[b.length - 1] ^= 1;
        fs.writeFileSync(file, b);
      },
      /checksum/,
    ],
    ['another format version', () => fs.writeFileSync(file, encodeArtifact('CKPT', CHECKPOINT_VERSION + 1, new Uint8Array(8))), /version 2 is not supported/],
  ])('discards a checkpoint (%s) with its reason, and deletes it', (_what, spoil, reason) => {
    writeCheckpoint(dir, 'fp-a', { meta: {}, arrays });
    spoil();
    const read = readCheckpoint(dir, 'fp-a');
    expect(read).toEqual({ status: 'discarded', reason: expect.stringMatching(reason) });
    expect(fs.existsSync(file)).toBe(false);
    expect(readCheckpoint(dir, 'fp-a')).toEqual({ status: 'none' });
  });
});
