export const RESIZE_METHODS = ['bilinear', 'area', 'nearest'] as const;
export type ResizeMethod = (typeof RESIZE_METHODS)[number];

/** What the manifest says about each method, so a reader can reproduce the pixels. */
export const RESIZE_DESCRIPTIONS: Record<ResizeMethod, string> = {
  bilinear: 'bilinear, half-pixel centres, no antialiasing (tf.image.resize bilinear, Keras image_dataset_from_directory default), rounded to nearest',
  area: 'area average: each output pixel is the mean of the input area it covers, weighted by overlap (OpenCV INTER_AREA for shrinking), rounded to nearest',
  nearest: 'nearest neighbour, half-pixel centres: source index floor((i + 0.5) * in / out)',
};

export interface Pixels {
  height: number;
  width: number;
  channels: number;
  data: Uint8Array;
}

/**
 * Resize interleaved uint8 pixels. Plain double arithmetic with a fixed evaluation order, so the
 * bytes are the same on every machine; the same size returns the input untouched.
 */
export function resizePixels(src: Pixels, height: number, width: number, method: ResizeMethod): Uint8Array {
  if (src.height === height && src.width === width) return src.data;
  const out = new Uint8Array(height * width * src.channels);
  if (method === 'nearest') nearest(src, height, width, out);
  else if (method === 'bilinear') bilinear(src, height, width, out);
  else area(src, height, width, out);
  return out;
}

function nearest(src: Pixels, h: number, w: number, out: Uint8Array): void {
  const { channels: c, data } = src;
  for (let y = 0; y < h; y++) {
    const sy = Math.min(src.height - 1, Math.floor(((y + 0.5) * src.height) / h));
    for (let x = 0; x < w; x++) {
      const sx = Math.min(src.width - 1, Math.floor(((x + 0.5) * src.width) / w));
      for (let k = 0; k < c; k++) out[(y * w + x) * c + k] = data[(sy * src.width + sx) * c + k];
    }
  }
}

/** Source coordinate of an output pixel centre, clamped to the outer pixel centres. */
function axis(i: number, inSize: number, outSize: number): { i0: number; i1: number; t: number } {
  const s = Math.max(0, Math.min(inSize - 1, ((i + 0.5) * inSize) / outSize - 0.5));
  const i0 = Math.floor(s);
  return { i0, i1: Math.min(inSize - 1, i0 + 1), t: s - i0 };
}

function bilinear(src: Pixels, h: number, w: number, out: Uint8Array): void {
  const { channels: c, data, width: sw } = src;
  const xs = Array.from({ length: w }, (_, x) => axis(x, sw, w));
  for (let y = 0; y < h; y++) {
    const { i0: y0, i1: y1, t: ty } = axis(y, src.height, h);
    for (let x = 0; x < w; x++) {
      const { i0: x0, i1: x1, t: tx } = xs[x];
      for (let k = 0; k < c; k++) {
        const a = data[(y0 * sw + x0) * c + k];
        const b = data[(y0 * sw + x1) * c + k];
        const d = data[(y1 * sw + x0) * c + k];
        const e = data[(y1 * sw + x1) * c + k];
        const top = a + (b - a) * tx;
        const bottom = d + (e - d) * tx;
        out[(y * w + x) * c + k] = Math.round(top + (bottom - top) * ty);
      }
    }
  }
}

/** Per output index: the input indices it overlaps and each overlap's weight (summing to 1). */
function areaWeights(inSize: number, outSize: number): { start: number; weights: number[] }[] {
  const scale = inSize / outSize;
  return Array.from({ length: outSize }, (_, o) => {
    const lo = o * scale;
    const hi = (o + 1) * scale;
    const start = Math.floor(lo);
    const weights: number[] = [];
    for (let i = start; i < Math.min(inSize, Math.ceil(hi)); i++) weights.push((Math.min(hi, i + 1) - Math.max(lo, i)) / scale);
    return { start, weights };
  });
}

function area(src: Pixels, h: number, w: number, out: Uint8Array): void {
  const { channels: c, data, width: sw } = src;
  const ys = areaWeights(src.height, h);
  const xs = areaWeights(sw, w);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let k = 0; k < c; k++) {
        let sum = 0;
        ys[y].weights.forEach((wy, j) => {
          const row = (ys[y].start + j) * sw;
          xs[x].weights.forEach((wx, i) => {
            sum += data[(row + xs[x].start + i) * c + k] * wy * wx;
          });
        });
        out[(y * w + x) * c + k] = Math.min(255, Math.round(sum));
      }
    }
  }
}
