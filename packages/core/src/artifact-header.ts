import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { CorruptArtifactError } from './errors';
import { fsyncDir, writeFileAtomicSync } from './atomic-file';

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
  const out = new Uint8Array(ARTIFACT_HEADER_SIZE + payload.length);
  writeHeader(out, kind, version, payload.length, createHash('sha256').update(payload).digest());
  out.set(payload, ARTIFACT_HEADER_SIZE);
  return out;
}

function writeHeader(out: Uint8Array, kind: string, version: number, payloadLength: number, sha256: Uint8Array): void {
  if (!/^[A-Z0-9]{4}$/.test(kind)) throw new Error(`artifact kind tag must be 4 chars [A-Z0-9], got '${kind}'`);
  const view = new DataView(out.buffer, out.byteOffset, ARTIFACT_HEADER_SIZE);
  out.set(Buffer.from(MAGIC, 'ascii'), 0);
  out.set(Buffer.from(kind, 'ascii'), 4);
  view.setUint16(8, version, true);
  view.setUint16(10, ARTIFACT_HEADER_SIZE, true);
  view.setBigUint64(16, BigInt(payloadLength), true);
  out.set(sha256, 24);
}

/**
 * Writes an artifact file whose payload arrives in pieces (a dataset of many images), so the
 * payload never sits in memory whole. The file is the same bytes `writeArtifactFile` writes for
 * the concatenated pieces: the header (length, SHA-256) is written last, over a placeholder, and
 * the file appears atomically (temp file, fsync, rename) on `finish`; `abort` removes the temp file.
 */
export class ArtifactFileWriter {
  private readonly tmp: string;
  private readonly fd: number;
  private readonly hash = createHash('sha256');
  private readonly buffer: Buffer;
  private buffered = 0;
  private position = ARTIFACT_HEADER_SIZE;
  private closed = false;

  constructor(
    readonly file: string,
    private readonly kind: string,
    private readonly version: number,
    bufferSize = 1 << 20,
  ) {
    writeHeader(new Uint8Array(ARTIFACT_HEADER_SIZE), kind, version, 0, new Uint8Array(32)); // checks the kind tag now
    const dir = path.dirname(file);
    fs.mkdirSync(dir, { recursive: true });
    this.tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    this.fd = fs.openSync(this.tmp, 'w');
    this.buffer = Buffer.allocUnsafe(bufferSize);
  }

  /** Bytes of payload written so far. */
  get length(): number {
    return this.position - ARTIFACT_HEADER_SIZE + this.buffered;
  }

  write(bytes: Uint8Array): void {
    this.hash.update(bytes);
    if (this.buffered + bytes.length > this.buffer.length) this.flush();
    if (bytes.length > this.buffer.length) {
      this.writeAt(bytes);
      return;
    }
    this.buffer.set(bytes, this.buffered);
    this.buffered += bytes.length;
  }

  /** Write the header, fsync and rename into place; returns the payload's length and SHA-256. */
  finish(): { payloadLength: number; sha256: string } {
    try {
      this.flush();
      const digest = this.hash.digest();
      const header = new Uint8Array(ARTIFACT_HEADER_SIZE);
      const payloadLength = this.position - ARTIFACT_HEADER_SIZE;
      writeHeader(header, this.kind, this.version, payloadLength, digest);
      fs.writeSync(this.fd, header, 0, ARTIFACT_HEADER_SIZE, 0);
      fs.fsyncSync(this.fd);
      this.close();
      fs.renameSync(this.tmp, this.file);
      fsyncDir(path.dirname(this.file));
      return { payloadLength, sha256: digest.toString('hex') };
    } catch (e) {
      this.abort();
      throw e;
    }
  }

  abort(): void {
    this.close();
    fs.rmSync(this.tmp, { force: true });
  }

  private flush(): void {
    if (this.buffered === 0) return;
    this.writeAt(this.buffer.subarray(0, this.buffered));
    this.buffered = 0;
  }

  private writeAt(bytes: Uint8Array): void {
    let done = 0;
    while (done < bytes.length) done += fs.writeSync(this.fd, bytes, done, bytes.length - done, this.position + done);
    this.position += bytes.length;
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    fs.closeSync(this.fd);
  }
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
