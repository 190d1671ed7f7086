import { InvalidInputError } from '@cbnn/core';

/** A parsed `.npy` array (NumPy format 1.0-3.0): the header's fields and a view of the data. */
export interface NpyArray {
  /** NumPy dtype string as stored, e.g. '|u1', '<i8'. */
  descr: string;
  kind: string;
  itemSize: number;
  littleEndian: boolean;
  fortranOrder: boolean;
  shape: number[];
  /** The raw data bytes (a view into the file's buffer). */
  data: Uint8Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** An `.npy` header: the array's fields and where its data starts in the file. */
export type NpyHeader = Omit<NpyArray, 'data'> & { dataOffset: number };

/**
 * Parse a `.npy` file and check it against its own header: magic, version, the header dict
 * (descr, fortran_order, shape) and that the data is exactly shape x itemsize bytes (a truncated
 * or padded file is refused). `what` names the array in errors ('images', 'labels').
 */
export function parseNpy(bytes: Uint8Array, file: string, what: string): NpyArray {
  const header = parseNpyHeader(bytes, bytes.length, file, what);
  const { dataOffset: _, ...fields } = header;
  return { ...fields, data: bytes.subarray(header.dataOffset) };
}

/** Bytes of a file's start that hold any `.npy` header up to this length (a header is rarely above 200). */
export const NPY_HEADER_PROBE = 1 << 16;

/**
 * The same checks from the file's first bytes (`start`: at least its header, e.g. the first
 * NPY_HEADER_PROBE bytes) and its size, so a large array can be read row by row afterwards.
 */
export function parseNpyHeader(start: Uint8Array, fileSize: number, file: string, what: string): NpyHeader {
  const fail = (message: string, hint?: string): never => {
    throw new InvalidInputError(`${what}: ${message}`, { file }, hint);
  };
  if (fileSize < 10 || start.length < 10 || !MAGIC.every((b, i) => start[i] === b)) {
    fail('not a NumPy .npy file (no \\x93NUMPY magic)', 'save the array with numpy.save(path, array)');
  }
  const major = start[6];
  const view = new DataView(start.buffer, start.byteOffset, start.byteLength);
  if (major < 1 || major > 3) fail(`unsupported .npy format version ${major}.${start[7]} (expected 1.0 to 3.0)`);
  const lengthSize = major === 1 ? 2 : 4;
  if (fileSize < 8 + lengthSize) fail('file ends inside the header');
  const headerLength = lengthSize === 2 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataOffset = 8 + lengthSize + headerLength;
  if (fileSize < dataOffset) fail(`file is ${fileSize} bytes, shorter than its ${dataOffset}-byte header (truncated)`);
  if (start.length < dataOffset) fail(`header of ${dataOffset} bytes is longer than the ${start.length} bytes this reader looks at`);
  const header = Buffer.from(start.subarray(8 + lengthSize, dataOffset)).toString(major === 3 ? 'utf8' : 'latin1');

  const descrMatch = /'descr'\s*:\s*'([^']*)'/.exec(header);
  if (!descrMatch) {
    fail(/'descr'\s*:\s*\[/.test(header) ? 'a structured (record) dtype; expected a plain integer array' : `header has no 'descr': ${header.trim()}`);
  }
  const fortranMatch = /'fortran_order'\s*:\s*(True|False)/.exec(header);
  if (!fortranMatch) fail(`header has no 'fortran_order': ${header.trim()}`);
  const shapeMatch = /'shape'\s*:\s*\(([^)]*)\)/.exec(header);
  if (!shapeMatch) fail(`header has no 'shape': ${header.trim()}`);
  const shape = shapeMatch![1]
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => (/^\d+L?$/.test(s) ? Number.parseInt(s, 10) : fail(`shape entry '${s}' is not a non-negative integer`)));

  const descr = descrMatch![1];
  const dtype = /^([<>|=])?([a-zA-Z])(\d+)$/.exec(descr);
  if (!dtype) fail(`unsupported dtype '${descr}'`);
  const [, order = '|', kind, sizeText] = dtype!;
  const itemSize = Number.parseInt(sizeText, 10);
  const count = shape.reduce((n, d) => n * d, 1);
  const expected = count * itemSize;
  const actual = fileSize - dataOffset;
  if (actual !== expected) {
    fail(
      `data is ${actual} bytes, but the header's shape (${shape.join(', ')}) of '${descr}' needs ${expected}` +
        (actual < expected ? ' (truncated)' : ' (extra bytes after the array)'),
    );
  }
  return {
    descr,
    kind,
    itemSize,
    // '=' is native order as written by the saving machine; NumPy writes '<' or '>' explicitly.
    littleEndian: order !== '>',
    fortranOrder: fortranMatch![1] === 'True',
    shape,
    dataOffset,
  };
}

/** Human name of a dtype for messages: "float32 ('<f4')". */
export function dtypeName(a: Pick<NpyArray, 'kind' | 'itemSize' | 'descr'>): string {
  const kinds: Record<string, string> = { u: 'uint', i: 'int', f: 'float', b: 'bool', c: 'complex' };
  return kinds[a.kind] ? `${kinds[a.kind]}${a.itemSize * 8} ('${a.descr}')` : `'${a.descr}'`;
}

/** Read integer element `i` of a 'u' or 'i' array of 1, 2, 4 or 8 bytes, in the header's byte order. */
export function integerAt(a: NpyArray, view: DataView, i: number): number {
  const o = i * a.itemSize;
  const le = a.littleEndian;
  const signed = a.kind === 'i';
  switch (a.itemSize) {
    case 1:
      return signed ? view.getInt8(o) : view.getUint8(o);
    case 2:
      return signed ? view.getInt16(o, le) : view.getUint16(o, le);
    case 4:
      return signed ? view.getInt32(o, le) : view.getUint32(o, le);
    default:
      return Number(signed ? view.getBigInt64(o, le) : view.getBigUint64(o, le));
  }
}

/**
 * A `.npy` file (format 1.0) as numpy.save writes it, the header padded so that the data starts
 * 64-byte aligned: for tests and tools that hand arrays to Python, and the reader's counterpart.
 */
export function encodeNpy(descr: string, shape: number[], data: Uint8Array, fortranOrder = false): Buffer {
  const dict = `{'descr': '${descr}', 'fortran_order': ${fortranOrder ? 'True' : 'False'}, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const header = dict + ' '.repeat((64 - ((10 + dict.length + 1) % 64)) % 64) + '\n';
  const prefix = Buffer.from([...MAGIC, 1, 0, 0, 0]);
  prefix.writeUInt16LE(header.length, 8);
  return Buffer.concat([prefix, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}
