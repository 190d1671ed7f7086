import * as fs from 'node:fs';
import { InvalidInputError, sha256Hex } from '@cbnn/core';
import { z } from 'zod';
import { BadImageError, convertChannels, decodeImage } from './image-decode';
import { listImageFolder, type ImageFileEntry } from './image-folder';
import { RESIZE_DESCRIPTIONS, RESIZE_METHODS, resizePixels } from './image-resize';
import { RecordSetBuilder, type RecordSet } from './record-set';
import { defineSource } from './source';

const side = z.number().int().min(1).max(4096);
const PROGRESS_EVERY = 500;

/**
 * A folder of PNG/JPEG files, one subfolder per class (Keras `image_dataset_from_directory`,
 * torchvision `ImageFolder`), or train/ and test/ folders of class folders (a canonical test
 * split). Files are decoded one at a time into the record buffer: memory holds the pixels, never
 * the files. `files.txt` (sha256sum format) lists every file used.
 */
export const imagesSource = defineSource({
  name: 'images',
  description: 'a folder of PNG/JPEG images, one subfolder per class (optionally train/ and test/ folders)',
  pathsSchema: z
    .object({
      dir: z.string().min(1),
      /** Stored channels: grey (RGB files converted by luma) or rgb (grey files repeated). */
      color: z.enum(['grey', 'rgb']),
      /** Resize every image to this (a number: square); without it all images must be one size. */
      size: z.union([side, z.tuple([side, side])]).optional(),
      resize: z.enum(RESIZE_METHODS).default('bilinear'),
      /** 'auto': 'splits' when the folder holds exactly train/ and test/. */
      layout: z.enum(['auto', 'classes', 'splits']).default('auto'),
      /** Skip unreadable files (listed in the manifest) instead of failing, up to maxMalformedFraction. */
      skipBad: z.boolean().default(false),
    })
    .strict(),
  load(paths, ctx) {
    const listing = listImageFolder(paths.dir, paths.layout, ctx.logger);
    const channels = paths.color === 'grey' ? 1 : 3;
    const target = paths.size === undefined ? undefined : typeof paths.size === 'number' ? [paths.size, paths.size] : paths.size;
    const all = [...listing.train, ...(listing.test ?? [])];
    const lines: string[] = [];
    let shape: { height: number; width: number; from: string } | undefined = target && { height: target[0], width: target[1], from: 'size' };
    let from16Bit = 0;
    let index = 0;

    const read = (entries: ImageFileEntry[]): RecordSet => {
      const builder = (): RecordSetBuilder => new RecordSetBuilder(shape!.height * shape!.width * channels, entries.length);
      let records = shape && builder();
      for (const entry of entries) {
        ctx.signal?.throwIfAborted();
        const i = index++;
        if (i % PROGRESS_EVERY === 0 || i === all.length - 1) ctx.onFile?.(entry.name, i + 1, all.length);
        let bytes: Buffer;
        let decoded: ReturnType<typeof decodeImage>;
        try {
          bytes = readFile(entry.file);
          decoded = decodeImage(bytes);
        } catch (e) {
          if (!(e instanceof BadImageError)) throw e;
          if (!paths.skipBad) {
            throw new InvalidInputError(
              e.message,
              { file: entry.file },
              'skipBad: true skips such files (each listed in the manifest), up to maxMalformedFraction of them',
            );
          }
          ctx.malformed.add(entry.name, i, e.message, { listAll: true });
          continue;
        }
        if (!shape) {
          shape = { height: decoded.height, width: decoded.width, from: entry.name };
        } else if (!target && (decoded.height !== shape.height || decoded.width !== shape.width)) {
          throw new InvalidInputError(
            `image is ${decoded.height}x${decoded.width} (height x width), but ${shape.from} is ${shape.height}x${shape.width}`,
            { file: entry.file },
            'give size: [height, width] (and resize: bilinear | area | nearest) to resize every image',
          );
        }
        if (decoded.from16Bit) {
          if (from16Bit === 0)
            ctx.logger.warn({ file: entry.name }, `16-bit PNG converted to 8 bits (round(v * 255 / 65535)): ${entry.name}; further ones are counted`);
          from16Bit++;
        }
        records ??= builder();
        const pixels = convertChannels(decoded, channels);
        records.next().set(resizePixels({ height: decoded.height, width: decoded.width, channels, data: pixels }, shape.height, shape.width, paths.resize));
        records.commit(entry.label);
        lines.push(`${sha256Hex(bytes)}  ${entry.name}`);
      }
      return records?.finish() ?? { count: 0, images: new Uint8Array(0), labels: new Uint8Array(0) };
    };

    const train = read(listing.train);
    const test = listing.test ? read(listing.test) : undefined;
    if (!shape) throw new InvalidInputError('no image in the folder could be read', { file: paths.dir });
    const fileList = lines.length > 0 ? `${lines.join('\n')}\n` : '';
    const sizeText = target
      ? `resized to ${target[0]}x${target[1]} (${RESIZE_DESCRIPTIONS[paths.resize]})`
      : `${shape.height}x${shape.width} as stored (no resize)`;
    const colorText = paths.color === 'grey' ? 'grey (RGB files: ITU-R 601-2 luma, PIL integer rounding)' : 'rgb (grey files: value repeated in r, g, b)';
    const notes = [`${all.length} files in ${listing.classNames.length} class folders (layout '${listing.layout}')`, colorText, sizeText, 'alpha ignored'];
    if (from16Bit > 0) notes.push(`${from16Bit} 16-bit PNGs converted to 8 bits as round(v * 255 / 65535)`);
    if (from16Bit > 1) ctx.logger.warn(`${from16Bit} 16-bit PNGs converted to 8 bits`);
    return {
      name: 'images',
      version: `files-sha256:${sha256Hex(fileList).slice(0, 16)}`,
      description: `image folder: ${notes.join('; ')}`,
      files: [],
      fileList,
      shape: { height: shape.height, width: shape.width, channels },
      channelNames: channels === 1 ? ['grey'] : ['r', 'g', 'b'],
      classNames: listing.classNames,
      train,
      test,
      defaultTestFraction: 0.2,
      examined: all.length,
    };
  },
});

function readFile(file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw new BadImageError(`cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}
