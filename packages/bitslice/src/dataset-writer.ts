import * as path from 'node:path';
import {
  ArtifactFileWriter,
  DATASET_IMAGES,
  DATASET_IMAGES_ARTIFACT,
  DATASET_LABELS,
  DATASET_LABELS_ARTIFACT,
  sha256Hex,
  writeArtifactFile,
  writeDatasetManifest,
  type DatasetManifest,
} from '@cbnn/core';

/**
 * Writes a dataset artifact one record at a time, in stored order (train, validation, test):
 * images.bin is streamed to disk, so memory holds one record, not the dataset. The files are
 * the same bytes core's `writeDataset` writes for the whole buffers (a test pins them).
 */
export class DatasetFileWriter {
  private readonly images: ArtifactFileWriter;
  private readonly labels: Uint8Array;
  private count = 0;

  constructor(
    private readonly dir: string,
    private readonly total: number,
    private readonly imageSize: number,
  ) {
    this.images = new ArtifactFileWriter(path.join(dir, DATASET_IMAGES), DATASET_IMAGES_ARTIFACT.kind, DATASET_IMAGES_ARTIFACT.version);
    this.labels = new Uint8Array(total);
  }

  append(pixels: Uint8Array, label: number): void {
    if (pixels.length !== this.imageSize || this.count === this.total) {
      throw new Error(`DatasetFileWriter: record ${this.count} of ${pixels.length} bytes (expected ${this.total} records of ${this.imageSize})`);
    }
    this.images.write(pixels);
    this.labels[this.count++] = label;
  }

  /** images.bin into place, then labels.bin, then the manifest (last: a reader checks the others against it). */
  finish(manifest: Parameters<typeof writeDatasetManifest>[1]): DatasetManifest {
    if (this.count !== this.total) throw new Error(`DatasetFileWriter: ${this.count} of ${this.total} records written`);
    const images = this.images.finish();
    writeArtifactFile(path.join(this.dir, DATASET_LABELS), DATASET_LABELS_ARTIFACT.kind, DATASET_LABELS_ARTIFACT.version, this.labels);
    return writeDatasetManifest(this.dir, manifest, images.sha256, sha256Hex(this.labels));
  }

  abort(): void {
    this.images.abort();
  }
}
