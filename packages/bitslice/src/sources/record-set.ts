/**
 * The records a source produced: uint8 pixels (NHWC, one image after the other) and one uint8
 * label per image.
 */
export interface RecordSet {
  count: number;
  /** count * imageSize bytes. */
  images: Uint8Array;
  labels: Uint8Array;
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

  finish(): RecordSet {
    return {
      count: this.n,
      images: this.images.subarray(0, this.n * this.imageSize),
      labels: this.labels.subarray(0, this.n),
    };
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
