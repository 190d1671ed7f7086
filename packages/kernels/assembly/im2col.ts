// Bit im2col for the 3x3 conv (see conv-im2col.ts): the window of output pixel (y, x) as one bit
// vector, tap t = dy*3 + dx at bits [t*inC, (t+1)*inC), taps outside the image 0, zero-padded
// to the column stride. Padding bits of the input (channels >= inC) are masked out.

// im2colRow for a window of at most 128 bits (inC <= 14, one word per input pixel): the column
// is assembled in two 64-bit registers and stored once.
@inline function windowRow(src: usize, mask: u64, c: u64): u64 {
  const ab = load<u64>(src);
  return (ab & mask) | (((ab >> 32) & mask) << c) | ((<u64>load<u32>(src, 8) & mask) << (2 * c));
}

// A window row at a border: the three pixels' words, 0 outside the image.
@inline function borderRow(rowSrc: usize, rowOk: bool, x: i32, w: i32, mask: u64, c: u64): u64 {
  if (!rowOk) return 0;
  let r: u64 = 0;
  if (x >= 0) r = <u64>load<u32>(rowSrc + (<usize>x << 2)) & mask;
  r |= (<u64>load<u32>(rowSrc + (<usize>(x + 1) << 2)) & mask) << c; // x + 1 is the output pixel's column: inside
  if (x + 2 < w) r |= (<u64>load<u32>(rowSrc + (<usize>(x + 2) << 2)) & mask) << (2 * c);
  return r;
}

export function im2colRowNarrow(img: usize, h: i32, w: i32, inC: i32, pad: i32, y: i32, x0: i32, items: i32, col: usize): void {
  const mask: u64 = (<u64>1 << <u64>inC) - 1;
  // A window row (3 words joined) is 3*inC <= 42 bits; the rows go at bits 0, 3*inC and 6*inC:
  // row 2 starts in the low word for inC <= 10 and in the high word for 11..14.
  const iy = y - pad;
  const rowsIn = iy >= 0 && iy + 2 < h;
  const ok0 = iy >= 0;
  const ok2 = iy + 2 < h;
  const rowBytes = <usize>w << 2;
  const c = <u64>inC;
  const c3 = 3 * c;
  const c6 = 6 * c;
  const row2Low = c6 < 64;
  for (let i = 0; i < items; i++) {
    const x = x0 + i - pad; // first column of the window
    let r0: u64, r1: u64, r2: u64;
    if (rowsIn && x >= 0 && x + 2 < w) {
      // Interior: each window row is 3 consecutive words joined into 3*inC bits.
      const src = img + (<usize>(iy * w + x) << 2);
      r0 = windowRow(src, mask, c);
      r1 = windowRow(src + rowBytes, mask, c);
      r2 = windowRow(src + 2 * rowBytes, mask, c);
    } else {
      // Border: taps outside the image are 0 (rows above/below, the column left/right).
      const src = img + <usize>iy * rowBytes; // read only for rows inside
      r0 = borderRow(src, ok0, x, w, mask, c);
      r1 = borderRow(src + rowBytes, true, x, w, mask, c);
      r2 = borderRow(src + 2 * rowBytes, ok2, x, w, mask, c);
    }
    let lo = r0 | (r1 << c3);
    let hi = r1 >> (64 - c3); // c3 in [3, 42]: the part of row 1 past bit 63 (0 if none)
    if (row2Low) {
      lo |= r2 << c6;
      hi |= r2 >> (64 - c6);
    } else {
      hi |= r2 << (c6 - 64);
    }
    const dst = col + (<usize>i << 4);
    store<u64>(dst, lo);
    store<u64>(dst, hi, 8);
  }
}

// im2colRow for inC a multiple of 32: taps are whole words, copied (or zeroed outside the
// image) with plain loads and stores; memory.copy/fill per tap would cost a call each.
export function im2colRowAligned(img: usize, h: i32, w: i32, wordsC: i32, pad: i32, y: i32, x0: i32, items: i32, kChunks: i32, col: usize): void {
  const pixelBytes = <usize>wordsC << 2;
  const kBytes = <usize>kChunks << 4;
  const tailStart = <usize>(9 * wordsC) << 2;
  const even = (wordsC & 1) == 0;
  // Interior pixels: each window row is 3 consecutive input pixels, copied in whole v128s.
  // A copy may run up to 15 bytes past its segment: the next segment overwrites that, the last
  // one is followed by a zero v128 for the column's padding (the column buffer and every input
  // buffer have 16 bytes of slack, and later pixels are written after this one).
  const segBytes = <usize>(3 * wordsC) << 2;
  const rowsIn = y - pad >= 0 && y - pad + 2 < h;
  const zero = i32x4.splat(0);
  for (let i = 0; i < items; i++) {
    const x = x0 + i;
    const dst = col + <usize>i * kBytes;
    if (rowsIn && x - pad >= 0 && x - pad + 2 < w) {
      let src = img + <usize>((y - pad) * w + x - pad) * pixelBytes;
      const rowBytes = <usize>w * pixelBytes;
      let d = dst;
      for (let dy = 0; dy < 3; dy++) {
        for (let off: usize = 0; off < segBytes; off += 16) v128.store(d + off, v128.load(src + off));
        d += segBytes;
        src += rowBytes;
      }
      v128.store(d, zero);
      continue;
    }
    let d = dst;
    for (let dy = 0; dy < 3; dy++) {
      const iy = y + dy - pad;
      const rowOk = iy >= 0 && iy < h;
      const rowSrc = img + <usize>(iy * w) * pixelBytes;
      for (let dx = 0; dx < 3; dx++) {
        const ix = x + dx - pad;
        const end = d + pixelBytes;
        if (rowOk && ix >= 0 && ix < w) {
          let src = rowSrc + <usize>ix * pixelBytes;
          if (even) {
            for (; d < end; d += 8, src += 8) store<u64>(d, load<u64>(src));
          } else {
            for (; d < end; d += 4, src += 4) store<u32>(d, load<u32>(src));
          }
        } else {
          for (; d < end; d += 4) store<u32>(d, 0);
        }
      }
    }
    for (let t = dst + tailStart; t < dst + kBytes; t += 4) store<u32>(t, 0);
  }
}

// im2colRow for 14 < inC < 32 (one word per input pixel, window wider than 128 bits): the 9 taps
// stream through a 64-bit accumulator, each word stored once; taps outside the image add zeros.
export function im2colRowPacked(img: usize, h: i32, w: i32, inC: i32, pad: i32, y: i32, x0: i32, items: i32, kChunks: i32, col: usize): void {
  const mask: u64 = (<u64>1 << <u64>inC) - 1;
  const c = <u64>inC;
  const kBytes = <usize>kChunks << 4;
  const iy = y - pad;
  const rowsIn = iy >= 0 && iy + 2 < h;
  const rowBytes = <usize>w << 2;
  for (let i = 0; i < items; i++) {
    const x = x0 + i;
    const dst = col + <usize>i * kBytes;
    let d = dst;
    let acc: u64 = 0;
    let n: u64 = 0;
    // The append step is written out in both branches on purpose: one loop with a per-tap
    // interior test measured 12% slower on 24 channels (CPU time, 24->24 + pool at 14x14).
    if (rowsIn && x - pad >= 0 && x - pad + 2 < w) {
      // Interior: no bounds tests, the 9 words at 3 consecutive pixels of 3 rows.
      let src = img + <usize>iy * rowBytes + (<usize>(x - pad) << 2);
      for (let dy = 0; dy < 3; dy++, src += rowBytes) {
        for (let dx: usize = 0; dx < 12; dx += 4) {
          const v = <u64>load<u32>(src + dx) & mask;
          acc |= v << n;
          n += c;
          if (n >= 64) {
            store<u64>(d, acc);
            d += 8;
            n -= 64;
            acc = v >> (c - n); // the bits of v past bit 63 (0 when n = 0: v < 2^c)
          }
        }
      }
    } else {
      for (let dy = 0; dy < 3; dy++) {
        const ry = y + dy - pad;
        const rowOk = ry >= 0 && ry < h;
        const rowSrc = img + (<usize>(ry * w) << 2);
        for (let dx = 0; dx < 3; dx++) {
          const ix = x + dx - pad;
          const v: u64 = rowOk && ix >= 0 && ix < w ? <u64>load<u32>(rowSrc + (<usize>ix << 2)) & mask : 0;
          acc |= v << n;
          n += c;
          if (n >= 64) {
            store<u64>(d, acc);
            d += 8;
            n -= 64;
            acc = v >> (c - n);
          }
        }
      }
    }
    if (n > 0) {
      store<u64>(d, acc);
      d += 8;
    }
    for (; d < dst + kBytes; d += 8) store<u64>(d, 0);
  }
}

// Column of one output row: `items` pixels (x = x0, x0+1, ...), each kChunks*16 bytes.
export function im2colRow(
  img: usize, h: i32, w: i32, inC: i32, pad: i32, y: i32, x0: i32, items: i32, kChunks: i32, col: usize,
): void {
  const wordsC = (inC + 31) >>> 5;
  const pixelBytes = <usize>wordsC << 2;
  const kBytes = <usize>kChunks << 4;
  if (kChunks == 1) {
    im2colRowNarrow(img, h, w, inC, pad, y, x0, items, col);
    return;
  }
  const aligned = (inC & 31) == 0;
  if (aligned) {
    im2colRowAligned(img, h, w, wordsC, pad, y, x0, items, kChunks, col);
    return;
  }
  if (inC < 32) {
    im2colRowPacked(img, h, w, inC, pad, y, x0, items, kChunks, col);
    return;
  }
  memory.fill(col, 0, <usize>items * kBytes);
  const lastMask: u32 = aligned ? 0xffffffff : ((<u32>1 << (<u32>inC & 31)) - 1);
  for (let i = 0; i < items; i++) {
    const x = x0 + i;
    const dst = col + <usize>i * kBytes;
    for (let dy = 0; dy < 3; dy++) {
      const iy = y + dy - pad;
      if (iy < 0 || iy >= h) continue;
      const rowSrc = img + <usize>(iy * w) * pixelBytes;
      for (let dx = 0; dx < 3; dx++) {
        const ix = x + dx - pad;
        if (ix < 0 || ix >= w) continue;
        const src = rowSrc + <usize>ix * pixelBytes;
        const t = dy * 3 + dx;
        if (aligned) {
          memory.copy(dst + <usize>(t * wordsC) * 4, src, pixelBytes);
        } else {
          // OR each word in at bit offset t*inC + 32*k through a 64-bit window; the column is
          // zeroed and padded to whole chunks, so the window never leaves this pixel's K bytes
          // except by writing back zero bits.
          let bit = t * inC;
          for (let k = 0; k < wordsC; k++, bit += 32) {
            let v = load<u32>(src + (<usize>k << 2));
            if (k == wordsC - 1) v &= lastMask;
            const at = dst + (<usize>(bit >>> 5) << 2);
            store<u64>(at, load<u64>(at) | (<u64>v << <u64>(bit & 31)));
          }
        }
      }
    }
  }
}
