/**
 * The records a source produced: one uint8 label per record, and the pixels (NHWC, imageSize
 * bytes per record) copied out one record at a time with `read`. A source may hold them in memory
 * (`memoryRecordSet`) or read each from its file on demand, so the dataset builder never needs all
 * pixels at once.
 */
export interface RecordSet {
  count: number;
  labels: Uint8Array;
  /** Copy record `index`'s pixels into `into` (imageSize bytes). */
  read(index: number, into: Uint8Array): void;
}

/** Records already in memory: `images` holds count * imageSize bytes. */
export function memoryRecordSet(images: Uint8Array, labels: Uint8Array, imageSize: number): RecordSet & { images: Uint8Array } {
  return {
    count: labels.length,
    images,
    labels,
    read: (index, into) => into.set(images.subarray(index * imageSize, (index + 1) * imageSize)),
  };
}

/**
 * Collects records of a fixed size into one growing buffer, so a source never holds a JS array
 * per image (Fashion-MNIST as JS number arrays would be ~440 MB; as bytes it is 55 MB).
 */
export class RecordSetBuilder {
  private images: Uint8Array;
  private labels: Uint8Array;
  private n = 0;

  constructor(
    readonly imageSize: number,
    initialCapacity = 1024,
  ) {
    const capacity = Math.max(1, initialCapacity);
    this.images = new Uint8Array(capacity * imageSize);
    this.labels = new Uint8Array(capacity);
  }

  get count(): number {
    return this.n;
  }

  /**
   * The bytes of the next record, to be filled by the caller; the record only counts once
   * `commit` is called (a malformed record is simply never committed).
   */
  next(): Uint8Array {
    if (this.n === this.labels.length) this.grow();
    return this.images.subarray(this.n * this.imageSize, (this.n + 1) * this.imageSize);
  }

  commit(label: number): void {
    this.labels[this.n] = label;
    this.n++;
  }

  finish(): RecordSet & { images: Uint8Array } {
    return memoryRecordSet(this.images.subarray(0, this.n * this.imageSize), this.labels.subarray(0, this.n), this.imageSize);
  }

  private grow(): void {
    const capacity = this.labels.length * 2;
    const images = new Uint8Array(capacity * this.imageSize);
    images.set(this.images);
    const labels = new Uint8Array(capacity);
    labels.set(this.labels);
    this.images = images;
    this.labels = labels;
  }
}
