import * as fs from 'node:fs';
import { createHash } from 'node:crypto';
import { InvalidInputError, sha256Hex } from '@cbnn/core';
import { z } from 'zod';
import { BadImageError, convertChannels, decodeImage, type DecodedImage } from './image-decode';
import { imageFilePath, listImageFolder, type ImageFileEntry } from './image-folder';
import { RESIZE_DESCRIPTIONS, RESIZE_METHODS, resizePixels } from './image-resize';
import type { RecordSet } from './record-set';
import { defineSource } from './source';

const side = z.number().int().min(1).max(4096);
const PROGRESS_EVERY = 500;

/**
 * A folder of PNG/JPEG files, one subfolder per class (Keras `image_dataset_from_directory`,
 * torchvision `ImageFolder`), or train/ and test/ folders of class folders (a canonical test
 * split). The split is drawn from the listing (labels are folder names); each file is decoded
 * when its record is written, so memory holds one image, not the dataset. `files.txt`
 * (sha256sum format) lists every file used.
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
    // Per file, by listing index: its SHA-256 once read (files.txt), and whether it was read and
    // could be decoded. A few bytes per file; pixels are decoded when the dataset asks for them.
    const digests = new Uint8Array(all.length * 32);
    const state = new Uint8Array(all.length);
    const UNREAD = 0;
    const VALID = 1;
    const BAD = 2;
    let shape: { height: number; width: number; from: string } | undefined = target && { height: target[0], width: target[1], from: 'size' };
    let from16Bit = 0;
    let reads = 0;

    /** Read and decode file `i` (listing order); undefined when it is unreadable and skipBad allows that. */
    const decodeAt = (i: number): DecodedImage | undefined => {
      ctx.signal?.throwIfAborted();
      const entry = all[i];
      const file = imageFilePath(paths.dir, entry);
      // With skipBad every file is read twice (check, then write): progress restarts for the second pass.
      const done = reads++ % all.length;
      if (done % PROGRESS_EVERY === 0 || done === all.length - 1) ctx.onFile?.(entry.name, done + 1, all.length);
      let bytes: Buffer;
      let decoded: DecodedImage;
      try {
        bytes = readFile(file);
        decoded = decodeImage(bytes);
      } catch (e) {
        if (!(e instanceof BadImageError)) throw e;
        if (!paths.skipBad) {
          throw new InvalidInputError(e.message, { file }, 'skipBad: true skips such files (each listed in the manifest), up to maxMalformedFraction of them');
        }
        if (state[i] === UNREAD) ctx.malformed.add(entry.name, i, e.message, { listAll: true });
        state[i] = BAD;
        return undefined;
      }
      if (!shape) {
        shape = { height: decoded.height, width: decoded.width, from: entry.name };
      } else if (!target && (decoded.height !== shape.height || decoded.width !== shape.width)) {
        throw new InvalidInputError(
          `image is ${decoded.height}x${decoded.width} (height x width), but ${shape.from} is ${shape.height}x${shape.width}`,
          { file },
          'give size: [height, width] (and resize: bilinear | area | nearest) to resize every image',
        );
      }
      if (state[i] === UNREAD) {
        if (decoded.from16Bit) {
          if (from16Bit === 0)
            ctx.logger.warn({ file: entry.name }, `16-bit PNG converted to 8 bits (round(v * 255 / 65535)): ${entry.name}; further ones are counted`);
          from16Bit++;
        }
        digests.set(createHash('sha256').update(bytes).digest(), i * 32);
      }
      state[i] = VALID;
      return decoded;
    };

    if (paths.skipBad) {
      // The split is drawn over readable files only, so each file is decoded once here to find the
      // unreadable ones (pixels dropped), and again when its record is written.
      for (let i = 0; i < all.length; i++) decodeAt(i);
    } else if (!shape) {
      decodeAt(0); // the stored size is the first image's
    }
    if (!shape) throw new InvalidInputError('no image in the folder could be read', { file: paths.dir });
    const { height, width } = shape;

    const pool = (from: number, entries: ImageFileEntry[]): RecordSet => {
      const indices = new Uint32Array(entries.length).map((_, j) => from + j).filter((i) => state[i] !== BAD);
      return {
        count: indices.length,
        labels: Uint8Array.from(indices, (i) => all[i].label),
        read(index, into) {
          const decoded = decodeAt(indices[index]);
          if (!decoded) throw new InvalidInputError('became unreadable while the dataset was built', { file: imageFilePath(paths.dir, all[indices[index]]) });
          into.set(
            resizePixels({ height: decoded.height, width: decoded.width, channels, data: convertChannels(decoded, channels) }, height, width, paths.resize),
          );
        },
      };
    };
    const train = pool(0, listing.train);
    const test = listing.test ? pool(listing.train.length, listing.test) : undefined;

    const sizeText = target ? `resized to ${target[0]}x${target[1]} (${RESIZE_DESCRIPTIONS[paths.resize]})` : `${height}x${width} as stored (no resize)`;
    const colorText = paths.color === 'grey' ? 'grey (RGB files: ITU-R 601-2 luma, PIL integer rounding)' : 'rgb (grey files: value repeated in r, g, b)';
    const notes = [`${all.length} files in ${listing.classNames.length} class folders (layout '${listing.layout}')`, colorText, sizeText, 'alpha ignored'];
    return {
      name: 'images',
      version: '',
      description: '',
      files: [],
      shape: { height, width, channels },
      channelNames: channels === 1 ? ['grey'] : ['r', 'g', 'b'],
      classNames: listing.classNames,
      train,
      test,
      defaultTestFraction: 0.2,
      examined: all.length,
      finish() {
        // Files outside a `limit` are read too: checked, hashed into files.txt, counted, as before.
        for (let i = 0; i < all.length; i++) if (state[i] === UNREAD) decodeAt(i);
        const lines: string[] = [];
        for (let i = 0; i < all.length; i++) {
          if (state[i] === VALID) lines.push(`${Buffer.from(digests.subarray(i * 32, (i + 1) * 32)).toString('hex')}  ${all[i].name}`);
        }
        const fileList = lines.length > 0 ? `${lines.join('\n')}\n` : '';
        const facts = [...notes];
        if (from16Bit > 0) facts.push(`${from16Bit} 16-bit PNGs converted to 8 bits as round(v * 255 / 65535)`);
        if (from16Bit > 1) ctx.logger.warn(`${from16Bit} 16-bit PNGs converted to 8 bits`);
        return { version: `files-sha256:${sha256Hex(fileList).slice(0, 16)}`, description: `image folder: ${facts.join('; ')}`, fileList };
      },
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
