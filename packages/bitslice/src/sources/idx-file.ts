import { InvalidInputError } from '@cbnn/core';
import { readInputFile, type InputFile } from './input-file';

/** IDX data type 0x08: unsigned byte; the only one MNIST-style image and label files use. */
const IDX_UBYTE = 0x08;
const TYPE_NAMES: Record<number, string> = { 0x08: 'unsigned byte', 0x09: 'signed byte', 0x0b: 'short', 0x0c: 'int', 0x0d: 'float', 0x0e: 'double' };

export interface IdxFile extends InputFile {
  dims: number[];
  /** The payload after the header (a view). */
  data: Uint8Array;
}

/**
 * Read an IDX file (plain or gzip) and check it fully: magic (0, 0, type, ndims), unsigned byte
 * data, the expected number of dimensions, and that the declared dimensions match the file size
 * exactly (a shorter file is truncated, a longer one is not what its header says).
 */
export function readIdxFile(file: string, what: 'images' | 'labels'): IdxFile {
  const expectedDims = what === 'images' ? 3 : 1;
  const expectedMagic = what === 'images' ? '0x00000803' : '0x00000801';
  const description = `IDX ${what} file (magic ${expectedMagic}, unsigned bytes, ${expectedDims} dimension${expectedDims > 1 ? 's' : ''})`;
  const input = readInputFile(file, `IDX ${what} file`);
  const b = input.bytes;
  const fail = (message: string): never => {
    throw new InvalidInputError(`${message}; expected an ${description}${input.gzip ? ' (after gunzip)' : ''}`, { file });
  };
  if (b.length < 4) fail(`file is ${b.length} bytes, too short for an IDX header`);
  const magic = `0x${Buffer.from(b.subarray(0, 4)).toString('hex')}`;
  if (b[0] !== 0 || b[1] !== 0) fail(`magic number ${magic} is not an IDX magic`);
  if (b[2] !== IDX_UBYTE) fail(`magic number ${magic} declares ${TYPE_NAMES[b[2]] ?? `unknown type 0x${b[2].toString(16)}`} data`);
  if (b[3] !== expectedDims) fail(`magic number ${magic} declares ${b[3]} dimensions`);
  const headerSize = 4 + 4 * expectedDims;
  if (b.length < headerSize) fail(`file is ${b.length} bytes, shorter than its ${headerSize}-byte header (truncated)`);
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < expectedDims; i++) dims.push(view.getUint32(4 + 4 * i, false));
  if (dims.slice(1).some((d) => d === 0)) fail(`dimensions ${dims.join('x')} include a zero`);
  const dataSize = dims.reduce((a, d) => a * d, 1);
  const actual = b.length - headerSize;
  if (actual !== dataSize) {
    fail(
      `header declares ${dims.join('x')} = ${dataSize} bytes of data but the file has ${actual} after the ${headerSize}-byte header (${actual < dataSize ? 'truncated' : 'trailing data'})`,
    );
  }
  return { ...input, dims, data: b.subarray(headerSize) };
}
