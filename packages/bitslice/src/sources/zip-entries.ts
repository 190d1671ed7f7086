import * as fs from 'node:fs';

/** A zip entry located in its archive: where its (stored or compressed) bytes start, and how many. */
export interface ZipEntry {
  name: string;
  /** 0 stored, 8 deflated. */
  method: number;
  compressedSize: number;
  size: number;
  /** Offset of the entry's data in the archive (after its local header). */
  dataOffset: number;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const MAX_U16 = 0xffff;
const MAX_U32 = 0xffffffff;

/**
 * The entries of a zip archive, from its central directory (zip64 too, as numpy.savez writes
 * it), read with positioned reads: the archive is never loaded whole, so a stored (numpy.savez)
 * entry can then be read in place. Undefined when the bytes are not a zip this reader follows;
 * the caller then falls back to a full unzip, which reports what is wrong.
 */
export function listZipEntries(fd: number, fileSize: number): ZipEntry[] | undefined {
  const tailSize = Math.min(fileSize, 22 + MAX_U16 + 20);
  const tail = readAt(fd, fileSize - tailSize, tailSize);
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) return undefined;
  let count = tail.readUInt16LE(eocd + 10);
  let directorySize = tail.readUInt32LE(eocd + 12);
  let directoryOffset = tail.readUInt32LE(eocd + 16);
  if (count === MAX_U16 || directorySize === MAX_U32 || directoryOffset === MAX_U32) {
    const locator = eocd - 20;
    if (locator < 0 || tail.readUInt32LE(locator) !== ZIP64_LOCATOR) return undefined;
    const record = readAt(fd, Number(tail.readBigUInt64LE(locator + 8)), 56);
    if (record.readUInt32LE(0) !== ZIP64_EOCD) return undefined;
    count = Number(record.readBigUInt64LE(32));
    directorySize = Number(record.readBigUInt64LE(40));
    directoryOffset = Number(record.readBigUInt64LE(48));
  }
  if (directoryOffset + directorySize > fileSize) return undefined;
  const directory = readAt(fd, directoryOffset, directorySize);
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let n = 0; n < count; n++) {
    if (p + 46 > directory.length || directory.readUInt32LE(p) !== CENTRAL) return undefined;
    const method = directory.readUInt16LE(p + 10);
    let compressedSize = directory.readUInt32LE(p + 20);
    let size = directory.readUInt32LE(p + 24);
    const nameLength = directory.readUInt16LE(p + 28);
    const extraLength = directory.readUInt16LE(p + 30);
    const commentLength = directory.readUInt16LE(p + 32);
    let localOffset = directory.readUInt32LE(p + 42);
    const name = directory.subarray(p + 46, p + 46 + nameLength).toString('utf8');
    // zip64 extra field (id 1): the 8-byte values of the fields saturated above, in this order.
    const extra = directory.subarray(p + 46 + nameLength, p + 46 + nameLength + extraLength);
    for (let e = 0; e + 4 <= extra.length;) {
      const id = extra.readUInt16LE(e);
      const length = extra.readUInt16LE(e + 2);
      if (id === 1) {
        let v = e + 4;
        const next = (): number => {
          const value = Number(extra.readBigUInt64LE(v));
          v += 8;
          return value;
        };
        if (size === MAX_U32) size = next();
        if (compressedSize === MAX_U32) compressedSize = next();
        if (localOffset === MAX_U32) localOffset = next();
      }
      e += 4 + length;
    }
    const local = readAt(fd, localOffset, 30);
    if (local.length < 30 || local.readUInt32LE(0) !== LOCAL) return undefined;
    const dataOffset = localOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
    if (dataOffset + compressedSize > fileSize) return undefined;
    entries.push({ name, method, compressedSize, size, dataOffset });
    p += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

export function readAt(fd: number, position: number, length: number): Buffer {
  const out = Buffer.alloc(length);
  return out.subarray(0, readInto(fd, out, position));
}

/** Fill `into` from `position` (fewer bytes only at the end of the file); returns the bytes read. */
export function readInto(fd: number, into: Uint8Array, position: number): number {
  let done = 0;
  while (done < into.length) {
    const n = fs.readSync(fd, into, done, into.length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}
