import * as fs from 'node:fs';
import * as path from 'node:path';
import { CorruptArtifactError, readArtifactFile, sha256Hex, writeArtifactFile } from '@cbnn/core';

/**
 * The trainer's checkpoint: one file in the stage's checkpoint folder (`ctx.checkpointDir`,
 * stable per cache key across runs), rewritten atomically after every epoch.
 *
 * A cbnn artifact file (64-byte header: kind 'CKPT', format version, payload length, SHA-256),
 * payload = u32 length of a JSON meta block, the meta (UTF-8), zero padding to 4 bytes, then the
 * float32 arrays the meta lists, in its order. The meta carries a fingerprint of the training
 * settings: a checkpoint written for other settings, by another format version, truncated or
 * damaged is refused as a whole (never half-used).
 */
export const CHECKPOINT_FILE = 'train-checkpoint.bin';
const KIND = 'CKPT';
export const CHECKPOINT_VERSION = 1;

export interface Checkpoint<M> {
  meta: M;
  arrays: Record<string, Float32Array>;
}

/** Hash of the settings a checkpoint is valid for (canonical: the caller passes a stable object). */
export function checkpointFingerprint(settings: unknown): string {
  return sha256Hex(JSON.stringify(settings));
}

export function writeCheckpoint<M>(dir: string, fingerprint: string, checkpoint: Checkpoint<M>): void {
  const names = Object.keys(checkpoint.arrays);
  const meta = Buffer.from(
    JSON.stringify({ fingerprint, meta: checkpoint.meta, arrays: names.map((name) => ({ name, length: checkpoint.arrays[name].length })) }),
    'utf8',
  );
  const head = 4 + meta.length;
  const start = (head + 3) & ~3;
  const floats = names.reduce((n, name) => n + checkpoint.arrays[name].length, 0);
  const payload = new Uint8Array(start + floats * 4);
  new DataView(payload.buffer).setUint32(0, meta.length, true);
  payload.set(meta, 4);
  const body = new Float32Array(payload.buffer, start, floats);
  let offset = 0;
  for (const name of names) {
    body.set(checkpoint.arrays[name], offset);
    offset += checkpoint.arrays[name].length;
  }
  fs.mkdirSync(dir, { recursive: true });
  writeArtifactFile(path.join(dir, CHECKPOINT_FILE), KIND, CHECKPOINT_VERSION, payload);
}

export type CheckpointRead<M> = { status: 'none' } | { status: 'ok'; checkpoint: Checkpoint<M> } | { status: 'discarded'; reason: string };

/**
 * The checkpoint in `dir`, if one is there and valid for `fingerprint`. An unusable one is
 * deleted and reported with its reason (the caller logs one line and starts at epoch 1).
 */
export function readCheckpoint<M>(dir: string, fingerprint: string): CheckpointRead<M> {
  const file = path.join(dir, CHECKPOINT_FILE);
  if (!fs.existsSync(file)) return { status: 'none' };
  try {
    const { payload } = readArtifactFile(file, { kind: KIND, versions: [CHECKPOINT_VERSION] });
    const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
    if (payload.length < 4) throw new CorruptArtifactError('payload shorter than its meta length field', file);
    const metaLength = view.getUint32(0, true);
    if (4 + metaLength > payload.length) throw new CorruptArtifactError(`meta block of ${metaLength} bytes runs past the payload`, file);
    const parsed = JSON.parse(Buffer.from(payload.subarray(4, 4 + metaLength)).toString('utf8')) as {
      fingerprint: string;
      meta: M;
      arrays: { name: string; length: number }[];
    };
    if (parsed.fingerprint !== fingerprint) throw new CorruptArtifactError('written for other training settings (fingerprint differs)', file);
    const start = (4 + metaLength + 3) & ~3;
    const total = parsed.arrays.reduce((n, a) => n + a.length, 0);
    if (start + total * 4 !== payload.length)
      throw new CorruptArtifactError(`arrays of ${total} floats do not fill the ${payload.length - start}-byte body`, file);
    // A copy (a Buffer's slice() is a view): the body's offset in the file buffer need not be 4-byte aligned.
    const body = new Float32Array(new Uint8Array(payload.subarray(start)).buffer);
    const arrays: Record<string, Float32Array> = {};
    let offset = 0;
    for (const a of parsed.arrays) {
      arrays[a.name] = body.subarray(offset, offset + a.length);
      offset += a.length;
    }
    return { status: 'ok', checkpoint: { meta: parsed.meta, arrays } };
  } catch (e) {
    fs.rmSync(file, { force: true });
    const reason = e instanceof CorruptArtifactError ? e.message : `unreadable (${(e as Error).message})`;
    return { status: 'discarded', reason };
  }
}
