import * as fs from 'node:fs';
import * as path from 'node:path';
import { InvalidInputError, sha256FileSync, sha256Hex } from '@cbnn/core';
import { inflateSync, unzipSync } from 'fflate';
import { z } from 'zod';
import { readInputFile } from './input-file';
import { dtypeName, integerAt, NPY_HEADER_PROBE, parseNpy, parseNpyHeader, type NpyArray, type NpyHeader } from './npy-file';
import type { RecordSet } from './record-set';
import { defineSource, type SourceLoadContext } from './source';
import { listZipEntries, readAt, readInto } from './zip-entries';

const NPZ_IMAGES = 'images.npy';
const NPZ_LABELS = 'labels.npy';

/**
 * NumPy arrays as a Python user saves them: `np.save('images.npy', x)` + `np.save('labels.npy', y)`
 * or `np.savez[_compressed]('data.npz', images=x, labels=y)`. Images: uint8, N x H x W (grey) or
 * N x H x W x C (C = 1 or 3), C order; labels: one integer per image. No canonical test split.
 */
export const npySource = defineSource({
  name: 'npy',
  description: 'NumPy arrays: images.npy + labels.npy, or one .npz holding images and labels',
  pathsSchema: z
    .object({
      images: z.string().min(1).optional(),
      labels: z.string().min(1).optional(),
      file: z.string().min(1).optional(),
      /** Class names, index = label; default '0'..'<max label>'. A label outside them is malformed. */
      classes: z.array(z.string().min(1)).min(2).max(256).optional(),
    })
    .strict()
    .refine((p) => (p.file === undefined ? p.images !== undefined && p.labels !== undefined : p.images === undefined && p.labels === undefined), {
      message: 'give either images and labels (.npy files) or file (an .npz)',
    }),
  load(paths, ctx) {
    const files: string[] = [];
    let images: NpyHeader;
    let pixels: PixelReader;
    let labels: NpyArray;
    let imagesName: string;
    let labelsName: string;
    if (paths.file) {
      imagesName = `${paths.file}:${NPZ_IMAGES}`;
      labelsName = `${paths.file}:${NPZ_LABELS}`;
      const stored = openStoredNpz(paths.file, imagesName, labelsName);
      if (stored) {
        ({ header: images, pixels, labels } = stored);
        files.push(stored.fingerprint);
      } else {
        // A deflated images entry (numpy.savez_compressed) cannot be read in place: unpacked in memory.
        const input = readInputFile(paths.file, '.npz archive');
        files.push(input.fingerprint);
        const arrays = readNpz(input.bytes, paths.file);
        const array = parseNpy(arrays.images, imagesName, 'images');
        images = { ...array, dataOffset: 0 };
        pixels = memoryPixels(array.data);
        labels = parseNpy(arrays.labels, labelsName, 'labels');
      }
      ctx.onFile?.(paths.file, 1, 1);
    } else {
      imagesName = paths.images!;
      labelsName = paths.labels!;
      const imageFile = openNpy(imagesName);
      const labelFile = readInputFile(labelsName, 'labels .npy');
      files.push(imageFile.fingerprint, labelFile.fingerprint);
      images = imageFile.header;
      pixels = imageFile.pixels;
      labels = parseNpy(labelFile.bytes, labelsName, 'labels');
      ctx.onFile?.(labelsName, 2, 2);
    }
    try {
      const shape = checkImages(images, imagesName);
      const count = images.shape[0];
      const labelValues = readLabels(labels, labelsName, count, imagesName);
      const maxLabel = labelValues.reduce((m, v) => Math.max(m, v), 0);
      if (!paths.classes && maxLabel > 255) {
        throw new InvalidInputError(`labels: the largest label is ${maxLabel}; at most 256 classes (0..255) are supported`, { file: labelsName });
      }
      const classNames = paths.classes ?? Array.from({ length: Math.max(2, maxLabel + 1) }, (_, i) => String(i));
      const imageSize = shape.height * shape.width * shape.channels;
      // Machine-independent name in the manifest: the artifact's hash must not depend on folders.
      const train = collect(pixels, images.dataOffset, labelValues, imageSize, classNames.length, path.basename(labelsName), imagesName, ctx);
      return {
        name: 'npy',
        version: `files-sha256:${sha256Hex(files.join('\n')).slice(0, 16)}`,
        description: `NumPy arrays: images ${dtypeName(images)} (${images.shape.join(', ')}), labels ${dtypeName(labels)} (${labels.shape.join(', ')})`,
        files,
        shape,
        channelNames: shape.channels === 1 ? ['grey'] : ['r', 'g', 'b'],
        classNames,
        train,
        defaultTestFraction: 0.2,
        examined: count,
        close: pixels.close,
      };
    } catch (e) {
      pixels.close();
      throw e;
    }
  },
});

/** Where the image rows come from: an open .npy file (read with pread) or bytes in memory. */
interface PixelReader {
  /** Copy `into.length` bytes from byte `offset` of the file (or buffer). */
  read(into: Uint8Array, offset: number): boolean;
  close(): void;
}

function memoryPixels(data: Uint8Array): PixelReader {
  return {
    read: (into, offset) => (into.set(data.subarray(offset, offset + into.length)), offset + into.length <= data.length),
    close: () => undefined,
  };
}

/**
 * An images .npy opened for reading row by row: its header checked against the file's size, its
 * fingerprint hashed by streaming the file. A gzipped .npy (accepted by readInputFile) is unpacked
 * in memory as before.
 */
function openNpy(file: string): { header: NpyHeader; pixels: PixelReader; fingerprint: string } {
  const fd = openFile(file, 'images .npy');
  try {
    const size = fs.fstatSync(fd).size;
    const start = readAt(fd, 0, Math.min(size, NPY_HEADER_PROBE));
    if (start[0] === 0x1f && start[1] === 0x8b) {
      fs.closeSync(fd);
      const input = readInputFile(file, 'images .npy');
      const array = parseNpy(input.bytes, file, 'images');
      return { header: { ...array, dataOffset: 0 }, pixels: memoryPixels(array.data), fingerprint: input.fingerprint };
    }
    const header = parseNpyHeader(start, size, file, 'images');
    return { header, fingerprint: fileFingerprint(file), pixels: filePixels(fd) };
  } catch (e) {
    closeQuietly(fd);
    throw e;
  }
}

/**
 * An .npz whose images entry is stored (numpy.savez): its rows are read in place, at the entry's
 * offset in the archive; the labels entry is read whole (inflated if deflated). Undefined for a
 * deflated images entry or an archive the entry reader does not follow (the caller unzips).
 */
function openStoredNpz(
  file: string,
  imagesName: string,
  labelsName: string,
): { header: NpyHeader; pixels: PixelReader; labels: NpyArray; fingerprint: string } | undefined {
  const fd = openFile(file, '.npz archive');
  try {
    const entries = listZipEntries(fd, fs.fstatSync(fd).size);
    const images = entries?.find((e) => e.name === NPZ_IMAGES);
    const labels = entries?.find((e) => e.name === NPZ_LABELS);
    if (!images || !labels || images.method !== 0 || images.size !== images.compressedSize || (labels.method !== 0 && labels.method !== 8)) {
      fs.closeSync(fd);
      return undefined;
    }
    const labelBytes = readAt(fd, labels.dataOffset, labels.compressedSize);
    const labelArray = parseNpy(labels.method === 8 ? inflateSync(labelBytes) : labelBytes, labelsName, 'labels');
    const header = parseNpyHeader(readAt(fd, images.dataOffset, Math.min(images.size, NPY_HEADER_PROBE)), images.size, imagesName, 'images');
    return {
      header: { ...header, dataOffset: images.dataOffset + header.dataOffset },
      pixels: filePixels(fd),
      labels: labelArray,
      fingerprint: fileFingerprint(file),
    };
  } catch (e) {
    closeQuietly(fd);
    throw e;
  }
}

function openFile(file: string, what: string): number {
  try {
    return fs.openSync(file, 'r');
  } catch (e) {
    throw new InvalidInputError(`cannot read ${what}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { file });
  }
}

/** As readInputFile's fingerprint, hashed by streaming the file. */
function fileFingerprint(file: string): string {
  return `${path.basename(file)} sha256:${sha256FileSync(file)}`;
}

function filePixels(fd: number): PixelReader {
  let open = true;
  return {
    read: (into, offset) => readInto(fd, into, offset) === into.length,
    close() {
      if (open) fs.closeSync(fd);
      open = false;
    },
  };
}

function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // closed already
  }
}

function readNpz(bytes: Uint8Array, file: string): { images: Uint8Array; labels: Uint8Array } {
  const names: string[] = [];
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes, {
      filter: (f) => {
        names.push(f.name);
        return f.name === NPZ_IMAGES || f.name === NPZ_LABELS;
      },
    });
  } catch (e) {
    throw new InvalidInputError(`not a readable .npz (zip) archive: ${(e as Error).message}`, { file }, 'save with numpy.savez(path, images=x, labels=y)');
  }
  const missing = [NPZ_IMAGES, NPZ_LABELS].filter((n) => !entries[n]);
  if (missing.length > 0) {
    throw new InvalidInputError(
      `the archive lacks ${missing.join(' and ')}; it holds ${names.length > 0 ? names.join(', ') : 'nothing'}`,
      { file },
      'name the arrays: numpy.savez(path, images=x, labels=y)',
    );
  }
  return { images: entries[NPZ_IMAGES], labels: entries[NPZ_LABELS] };
}

function checkImages(a: NpyHeader, file: string): { height: number; width: number; channels: number } {
  const fail = (message: string, hint?: string): never => {
    throw new InvalidInputError(`images: ${message}`, { file }, hint);
  };
  if (a.kind !== 'u' || a.itemSize !== 1) {
    fail(
      `dtype is ${dtypeName(a)}, expected uint8 ('|u1') pixels 0..255`,
      a.kind === 'f'
        ? 'for floats in [0, 1]: numpy.save(path, (x * 255).round().astype(numpy.uint8))'
        : 'convert with x.astype(numpy.uint8) after checking the range',
    );
  }
  const rank = a.shape.length;
  if (rank !== 3 && rank !== 4) {
    fail(
      `shape (${a.shape.join(', ')}) has rank ${rank}; expected N x H x W or N x H x W x C`,
      rank === 2 ? 'reshape flat images: x.reshape(n, height, width)' : undefined,
    );
  }
  const [count, height, width, channels = 1] = a.shape;
  if (channels !== 1 && channels !== 3) fail(`${channels} channels in shape (${a.shape.join(', ')}); expected 1 (grey) or 3 (RGB), channels last`);
  if (height === 0 || width === 0) fail(`shape (${a.shape.join(', ')}) has an empty image dimension`);
  if (count === 0) fail('holds no image');
  if (a.fortranOrder) fail('is stored in Fortran order', 'save a C-ordered copy: numpy.save(path, numpy.ascontiguousarray(x))');
  return { height, width, channels };
}

function readLabels(a: NpyArray, file: string, count: number, imagesFile: string): number[] {
  const fail = (message: string, hint?: string): never => {
    throw new InvalidInputError(`labels: ${message}`, { file }, hint);
  };
  if ((a.kind !== 'u' && a.kind !== 'i') || ![1, 2, 4, 8].includes(a.itemSize)) {
    fail(`dtype is ${dtypeName(a)}, expected an integer class index per image`, 'save labels with y.astype(numpy.int64)');
  }
  const rank = a.shape.length;
  if (!(rank === 1 || (rank === 2 && a.shape[1] === 1))) fail(`shape (${a.shape.join(', ')}); expected (N,) or (N, 1)`);
  if (a.shape[0] !== count) fail(`${a.shape[0]} labels for ${count} images in ${imagesFile}; expected one label per image`);
  const view = new DataView(a.data.buffer, a.data.byteOffset, a.data.byteLength);
  return Array.from({ length: count }, (_, i) => integerAt(a, view, i));
}

function collect(
  pixels: PixelReader,
  dataOffset: number,
  labels: number[],
  imageSize: number,
  classCount: number,
  labelsName: string,
  imagesName: string,
  ctx: SourceLoadContext,
): RecordSet {
  const valid = (v: number): boolean => v >= 0 && v < classCount;
  const rows: number[] = [];
  labels.forEach((v, i) => {
    if (valid(v)) rows.push(i);
    else ctx.malformed.add(labelsName, i, `label ${v} is outside the ${classCount} classes (0..${classCount - 1})`);
  });
  return {
    count: rows.length,
    labels: Uint8Array.from(rows, (i) => labels[i]),
    read(index, into) {
      if (!pixels.read(into.subarray(0, imageSize), dataOffset + rows[index] * imageSize)) {
        throw new InvalidInputError(`images: ended before row ${rows[index]} (the file changed while the dataset was built)`, { file: imagesName });
      }
    },
  };
}
