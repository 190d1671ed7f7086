import * as fs from 'node:fs';
import { createHash } from 'node:crypto';
import { CorruptArtifactError } from './errors';
import { writeFileAtomicSync } from './atomic-file';

/**
 * Every binary artifact file starts with this 64-byte header (little-endian):
 *
 *   0  4  magic "CBNN"
 *   4  4  kind tag, 4 ASCII chars ("DSET" images, "LABL" labels, "MODL" engine model, ...)
 *   8  2  format version of that kind
 *  10  2  header size (64)
 *  12  4  reserved (0)
 *  16  8  payload length in bytes
 *  24 32  SHA-256 of the payload
 *  56  8  reserved (0)
 *
 * The payload starts at byte 64, so it is 64-byte aligned inside the file.
 */
export const ARTIFACT_HEADER_SIZE = 64;
const MAGIC = 'CBNN';

export interface ArtifactHeader {
  kind: string;
  version: number;
  payloadLength: number;
  sha256: string;
}

export interface ExpectedArtifact {
  kind: string;
  /** Versions this reader understands. */
  versions: readonly number[];
}

export function encodeArtifact(kind: string, version: number, payload: Uint8Array): Uint8Array {
  if (!/^[A-Z0-9]{4}$/.test(kind)) throw new Error(`artifact kind tag must be 4 chars [A-Z0-9], got '${kind}'`);
  const out = new Uint8Array(ARTIFACT_HEADER_SIZE + payload.length);
  const view = new DataView(out.buffer);
  out.set(Buffer.from(MAGIC, 'ascii'), 0);
  out.set(Buffer.from(kind, 'ascii'), 4);
  view.setUint16(8, version, true);
  view.setUint16(10, ARTIFACT_HEADER_SIZE, true);
  view.setBigUint64(16, BigInt(payload.length), true);
  out.set(createHash('sha256').update(payload).digest(), 24);
  out.set(payload, ARTIFACT_HEADER_SIZE);
  return out;
}

export function decodeArtifactHeader(bytes: Uint8Array, file: string): ArtifactHeader {
  if (bytes.length < ARTIFACT_HEADER_SIZE) {
    throw new CorruptArtifactError(
      `file is ${bytes.length} bytes, shorter than the ${ARTIFACT_HEADER_SIZE}-byte cbnn artifact header (truncated or not a cbnn artifact)`,
      file,
    );
  }
  const magic = Buffer.from(bytes.subarray(0, 4)).toString('latin1');
  if (magic !== MAGIC) {
    throw new CorruptArtifactError(`not a cbnn artifact: expected magic 'CBNN', found '${printable(magic)}'`, file);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerSize = view.getUint16(10, true);
  if (headerSize !== ARTIFACT_HEADER_SIZE) {
    throw new CorruptArtifactError(`unsupported header size ${headerSize} (expected ${ARTIFACT_HEADER_SIZE})`, file);
  }
  return {
    kind: Buffer.from(bytes.subarray(4, 8)).toString('latin1'),
    version: view.getUint16(8, true),
    payloadLength: Number(view.getBigUint64(16, true)),
    sha256: Buffer.from(bytes.subarray(24, 56)).toString('hex'),
  };
}

/** Check header, kind, version, length and checksum; return the payload (a view, no copy). */
export function decodeArtifact(bytes: Uint8Array, file: string, expected: ExpectedArtifact): { header: ArtifactHeader; payload: Uint8Array } {
  const header = decodeArtifactHeader(bytes, file);
  if (header.kind !== expected.kind) {
    throw new CorruptArtifactError(`expected a '${expected.kind}' artifact, found '${printable(header.kind)}'`, file);
  }
  if (!expected.versions.includes(header.version)) {
    throw new CorruptArtifactError(
      `'${header.kind}' format version ${header.version} is not supported (this build reads version ${expected.versions.join(', ')})`,
      file,
      'rebuild the artifact with this version of cbnn',
    );
  }
  const actualLength = bytes.length - ARTIFACT_HEADER_SIZE;
  if (actualLength !== header.payloadLength) {
    throw new CorruptArtifactError(
      `payload is ${actualLength} bytes but the header declares ${header.payloadLength} (${actualLength < header.payloadLength ? 'truncated' : 'trailing data'})`,
      file,
    );
  }
  const payload = bytes.subarray(ARTIFACT_HEADER_SIZE);
  const digest = createHash('sha256').update(payload).digest('hex');
  if (digest !== header.sha256) {
    throw new CorruptArtifactError('payload checksum mismatch (the file was modified or damaged)', file);
  }
  return { header, payload };
}

export function writeArtifactFile(file: string, kind: string, version: number, payload: Uint8Array): void {
  writeFileAtomicSync(file, encodeArtifact(kind, version, payload));
}

export function readArtifactFile(file: string, expected: ExpectedArtifact): { header: ArtifactHeader; payload: Uint8Array } {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new CorruptArtifactError(`cannot read artifact file: ${(e as Error).message}`, file);
  }
  return decodeArtifact(bytes, file, expected);
}

function printable(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '?');
}
