import { PNG } from 'pngjs';
import * as jpeg from 'jpeg-js';

/** A decoded image, 8 bits per channel, interleaved (HWC), alpha dropped. */
export interface DecodedImage {
  format: 'png' | 'jpeg';
  height: number;
  width: number;
  /** 1 (grey) or 3 (RGB), as the file stores it. */
  channels: 1 | 3;
  data: Uint8Array;
  /** The file held 16-bit samples, converted to 8 bits as round(v * 255 / 65535). */
  from16Bit: boolean;
}

/** Why a file cannot be used; the source names the file (and skips it under `skipBad`). */
export class BadImageError extends Error {}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** Pixels per image past which a file is refused before decoding (jpeg-js would allocate them). */
const MAX_PIXELS = 64 * 1024 * 1024;

/**
 * Decode a PNG or JPEG by its signature, not its name. Both decoders are pure JavaScript, so a
 * file decodes to the same bytes on every machine (libjpeg builds differ in their IDCT rounding),
 * which the dataset's content-addressed output relies on.
 */
export function decodeImage(bytes: Uint8Array): DecodedImage {
  if (startsWith(bytes, PNG_SIGNATURE)) return decodePng(bytes);
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return decodeJpeg(bytes);
  const head = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
  throw new BadImageError(`not a PNG or JPEG image (${bytes.length === 0 ? 'empty file' : `first bytes ${head}`})`);
}

function decodePng(bytes: Uint8Array): DecodedImage {
  // IHDR (always the first chunk) gives the size before pngjs allocates width x height x 4 samples.
  if (bytes.length >= 24) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const pixels = view.getUint32(16) * view.getUint32(20);
    if (pixels > MAX_PIXELS)
      throw new BadImageError(`PNG of ${view.getUint32(16)}x${view.getUint32(20)} pixels is larger than the ${MAX_PIXELS / 1024 / 1024} Mpixel limit`);
  }
  let png: ReturnType<typeof PNG.sync.read>;
  try {
    // skipRescale: 16-bit samples come back as they are, and are converted below, visibly.
    png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), { skipRescale: true });
  } catch (e) {
    throw new BadImageError(`corrupt or truncated PNG (${(e as Error).message})`);
  }
  const { width, height } = png;
  const n = width * height;
  // pngjs expands grey, palette and grey+alpha to RGBA; `color` says whether the file had colour.
  const src = png.data as Uint8Array | Uint16Array;
  const from16Bit = png.depth === 16;
  const channels: 1 | 3 = png.color ? 3 : 1;
  const data = new Uint8Array(n * channels);
  for (let p = 0; p < n; p++) {
    for (let c = 0; c < channels; c++) {
      const v = src[p * 4 + c];
      data[p * channels + c] = from16Bit ? Math.round((v * 255) / 65535) : v;
    }
  }
  return { format: 'png', height, width, channels, data, from16Bit };
}

function decodeJpeg(bytes: Uint8Array): DecodedImage {
  let img: { width: number; height: number; data: Uint8Array };
  try {
    // tolerantDecoding off: a truncated file is an error, not an image with a grey bottom half.
    img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false, tolerantDecoding: false, maxResolutionInMP: MAX_PIXELS / 1e6 });
  } catch (e) {
    throw new BadImageError(`corrupt or truncated JPEG (${(e as Error).message})`);
  }
  const { width, height, data } = img;
  if (data.length !== width * height * 3) throw new BadImageError(`JPEG decoded to ${data.length} bytes, expected ${width}x${height}x3`);
  return { format: 'jpeg', height, width, channels: 3, data, from16Bit: false };
}

function startsWith(bytes: Uint8Array, prefix: number[]): boolean {
  return bytes.length >= prefix.length && prefix.every((b, i) => bytes[i] === b);
}

/**
 * Convert to `channels`: grey -> RGB repeats the value; RGB -> grey is ITU-R 601-2 luma with
 * PIL's integer rounding (`Image.convert('L')`), so a Python user gets the same pixels, and a
 * grey image stored as RGB (r = g = b) comes back exactly.
 */
export function convertChannels(img: DecodedImage, channels: 1 | 3): Uint8Array {
  if (img.channels === channels) return img.data;
  const n = img.width * img.height;
  const src = img.data;
  const out = new Uint8Array(n * channels);
  if (channels === 3) {
    for (let p = 0; p < n; p++) out[p * 3] = out[p * 3 + 1] = out[p * 3 + 2] = src[p];
  } else {
    for (let p = 0; p < n; p++) out[p] = (src[p * 3] * 19595 + src[p * 3 + 1] * 38470 + src[p * 3 + 2] * 7471 + 0x8000) >> 16;
  }
  return out;
}
