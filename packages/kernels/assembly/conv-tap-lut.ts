// Binary conv 3x3 of a narrow input (2..28 channels) by per-tap table lookups, fused with its
// im2col, threshold, optional 2x2 max-pool and output packing.
//
// Why: on a narrow layer the popcount GEMM spends most of its time around the popcounts (an
// im2col per pixel, 2-4 popcounts per channel of short windows, an epilogue per 4 channels).
// Here the raw popcount of every output channel is a sum of table entries: each tap's inC bits
// are cut into chunks of 6 bits, and for chunk j, tap t and chunk value v the table holds
// popcount(v ^ w[o][t][j]) for 16 or 32 output channels in bytes (src/wasm-conv-tap-lut.ts). A
// pixel's window then costs 9 v128 loads and byte adds per chunk for 16 (or 32) channels at once;
// 9 * inC <= 252 keeps every byte sum below 256.
//
// The input is first rewritten, per image, as chunk indices already scaled to a table entry's
// byte offset, one plane per chunk, in a zero frame: (h + 2) x (w + 2) pixels for 'same'. So the
// three pixels of a window row are 3 consecutive u16 and taps outside the image read index 0,
// whose entry is popcount(w[o][t][j]): exactly what the im2col conv's zero column counts. The
// im2col kernel's per-border-class threshold constants therefore apply unchanged, as bytes:
// bit = (pop >=u u[class][o]) ^ f[o] (src/wasm-conv-tap-lut.ts converts ((pop ^ m) + c) >= 0;
// V8 lowers ge_u to two instructions on x64, lt_u to four).
// Tables are [chunk][tap][64 values][16 | 32 lanes], so a chunk's 9 lookups use constant offsets
// (in the loads' offset field: V8 cannot fold an i32 add into the address). AssemblyScript takes
// that offset only as a literal (an inlined parameter is not one), so the lookups are written out.
//
// Channels are processed in passes of 32 (one output word); a pass reads only its own tables.

const CHUNK_BITS: u32 = 6;
const CHUNK_TAPS_16: usize = 9 * 64 * 16; // bytes of one chunk's 9 tables, 16 lanes
const CHUNK_TAPS_32: usize = 9 * 64 * 32;

// The output bits of one pixel, 16 channels: the window's byte sums over all chunks, thresholded.
@inline function pixelBits16(t0: usize, p0: usize, rowStride: usize, planeBytes: usize, chunks: i32, u: usize, f: usize): u32 {
  let a = i32x4.splat(0);
  let tj = t0;
  let r0 = p0;
  for (let j = 0; j < chunks; j++, tj += CHUNK_TAPS_16, r0 += planeBytes) {
    const r1 = r0 + rowStride;
    const r2 = r1 + rowStride;
    a = i8x16.add(a, v128.load(tj + <usize>load<u16>(r0, 0), 0));
    a = i8x16.add(a, v128.load(tj + <usize>load<u16>(r0, 2), 1024));
    a = i8x16.add(a, v128.load(tj + <usize>load<u16>(r0, 4), 2048));
    a = i8x16.add(a, v128.load(tj + <usize>load<u16>(r1, 0), 3072));
    a = i8x16.add(a, v128.load(tj + <usize>load<u16>(r1, 2), 4096));
    a = i8x16.add(a, v128.load(tj + <usize>load<u16>(r1, 4), 5120));
    a = i8x16.add(a, v128.load(tj + <usize>load<u16>(r2, 0), 6144));
    a = i8x16.add(a, v128.load(tj + <usize>load<u16>(r2, 2), 7168));
    a = i8x16.add(a, v128.load(tj + <usize>load<u16>(r2, 4), 8192));
  }
  return <u32>i8x16.bitmask(v128.xor(i8x16.ge_u(a, v128.load(u)), v128.load(f)));
}

// The same for 32 channels (two vectors per table entry).
@inline function pixelBits32(t0: usize, p0: usize, rowStride: usize, planeBytes: usize, chunks: i32, u: usize, f: usize): u32 {
  let a = i32x4.splat(0);
  let b = i32x4.splat(0);
  let tj = t0;
  let r0 = p0;
  for (let j = 0; j < chunks; j++, tj += CHUNK_TAPS_32, r0 += planeBytes) {
    const r1 = r0 + rowStride;
    const r2 = r1 + rowStride;
    let e: usize;
    e = tj + <usize>load<u16>(r0, 0);
    a = i8x16.add(a, v128.load(e, 0));
    b = i8x16.add(b, v128.load(e, 16));
    e = tj + <usize>load<u16>(r0, 2);
    a = i8x16.add(a, v128.load(e, 2048));
    b = i8x16.add(b, v128.load(e, 2064));
    e = tj + <usize>load<u16>(r0, 4);
    a = i8x16.add(a, v128.load(e, 4096));
    b = i8x16.add(b, v128.load(e, 4112));
    e = tj + <usize>load<u16>(r1, 0);
    a = i8x16.add(a, v128.load(e, 6144));
    b = i8x16.add(b, v128.load(e, 6160));
    e = tj + <usize>load<u16>(r1, 2);
    a = i8x16.add(a, v128.load(e, 8192));
    b = i8x16.add(b, v128.load(e, 8208));
    e = tj + <usize>load<u16>(r1, 4);
    a = i8x16.add(a, v128.load(e, 10240));
    b = i8x16.add(b, v128.load(e, 10256));
    e = tj + <usize>load<u16>(r2, 0);
    a = i8x16.add(a, v128.load(e, 12288));
    b = i8x16.add(b, v128.load(e, 12304));
    e = tj + <usize>load<u16>(r2, 2);
    a = i8x16.add(a, v128.load(e, 14336));
    b = i8x16.add(b, v128.load(e, 14352));
    e = tj + <usize>load<u16>(r2, 4);
    a = i8x16.add(a, v128.load(e, 16384));
    b = i8x16.add(b, v128.load(e, 16400));
  }
  const lo = <u32>i8x16.bitmask(v128.xor(i8x16.ge_u(a, v128.load(u)), v128.load(f)));
  return lo | (<u32>i8x16.bitmask(v128.xor(i8x16.ge_u(b, v128.load(u, 16)), v128.load(f, 16))) << 16);
}

// Two neighbouring pixels (x, x + 1) at once: they share 2 of their 3 window columns, so a
// chunk index is loaded and added to the table base once for both (4 per window row instead of
// 6), and the two sums are independent chains. Bits of pixel x in the low word, x + 1 in the high.
@inline function pairBits16(t0: usize, p0: usize, rowStride: usize, planeBytes: usize, chunks: i32, uA: usize, uB: usize, f: usize): u64 {
  let a = i32x4.splat(0);
  let b = i32x4.splat(0);
  let tj = t0;
  let r0 = p0;
  for (let j = 0; j < chunks; j++, tj += CHUNK_TAPS_16, r0 += planeBytes) {
    const r1 = r0 + rowStride;
    const r2 = r1 + rowStride;
    let e: usize;
    e = tj + <usize>load<u16>(r0, 0);
    a = i8x16.add(a, v128.load(e, 0));
    e = tj + <usize>load<u16>(r0, 2);
    a = i8x16.add(a, v128.load(e, 1024));
    b = i8x16.add(b, v128.load(e, 0));
    e = tj + <usize>load<u16>(r0, 4);
    a = i8x16.add(a, v128.load(e, 2048));
    b = i8x16.add(b, v128.load(e, 1024));
    e = tj + <usize>load<u16>(r0, 6);
    b = i8x16.add(b, v128.load(e, 2048));
    e = tj + <usize>load<u16>(r1, 0);
    a = i8x16.add(a, v128.load(e, 3072));
    e = tj + <usize>load<u16>(r1, 2);
    a = i8x16.add(a, v128.load(e, 4096));
    b = i8x16.add(b, v128.load(e, 3072));
    e = tj + <usize>load<u16>(r1, 4);
    a = i8x16.add(a, v128.load(e, 5120));
    b = i8x16.add(b, v128.load(e, 4096));
    e = tj + <usize>load<u16>(r1, 6);
    b = i8x16.add(b, v128.load(e, 5120));
    e = tj + <usize>load<u16>(r2, 0);
    a = i8x16.add(a, v128.load(e, 6144));
    e = tj + <usize>load<u16>(r2, 2);
    a = i8x16.add(a, v128.load(e, 7168));
    b = i8x16.add(b, v128.load(e, 6144));
    e = tj + <usize>load<u16>(r2, 4);
    a = i8x16.add(a, v128.load(e, 8192));
    b = i8x16.add(b, v128.load(e, 7168));
    e = tj + <usize>load<u16>(r2, 6);
    b = i8x16.add(b, v128.load(e, 8192));
  }
  const fv = v128.load(f);
  const bitsA = <u32>i8x16.bitmask(v128.xor(i8x16.ge_u(a, v128.load(uA)), fv));
  const bitsB = <u32>i8x16.bitmask(v128.xor(i8x16.ge_u(b, v128.load(uB)), fv));
  return <u64>bitsA | (<u64>bitsB << 32);
}

@inline function pairBits32(t0: usize, p0: usize, rowStride: usize, planeBytes: usize, chunks: i32, uA: usize, uB: usize, f: usize): u64 {
  let a0 = i32x4.splat(0);
  let a1 = i32x4.splat(0);
  let b0 = i32x4.splat(0);
  let b1 = i32x4.splat(0);
  let tj = t0;
  let r0 = p0;
  for (let j = 0; j < chunks; j++, tj += CHUNK_TAPS_32, r0 += planeBytes) {
    const r1 = r0 + rowStride;
    const r2 = r1 + rowStride;
    let e: usize;
    e = tj + <usize>load<u16>(r0, 0);
    a0 = i8x16.add(a0, v128.load(e, 0));
    a1 = i8x16.add(a1, v128.load(e, 16));
    e = tj + <usize>load<u16>(r0, 2);
    a0 = i8x16.add(a0, v128.load(e, 2048));
    a1 = i8x16.add(a1, v128.load(e, 2064));
    b0 = i8x16.add(b0, v128.load(e, 0));
    b1 = i8x16.add(b1, v128.load(e, 16));
    e = tj + <usize>load<u16>(r0, 4);
    a0 = i8x16.add(a0, v128.load(e, 4096));
    a1 = i8x16.add(a1, v128.load(e, 4112));
    b0 = i8x16.add(b0, v128.load(e, 2048));
    b1 = i8x16.add(b1, v128.load(e, 2064));
    e = tj + <usize>load<u16>(r0, 6);
    b0 = i8x16.add(b0, v128.load(e, 4096));
    b1 = i8x16.add(b1, v128.load(e, 4112));
    e = tj + <usize>load<u16>(r1, 0);
    a0 = i8x16.add(a0, v128.load(e, 6144));
    a1 = i8x16.add(a1, v128.load(e, 6160));
    e = tj + <usize>load<u16>(r1, 2);
    a0 = i8x16.add(a0, v128.load(e, 8192));
    a1 = i8x16.add(a1, v128.load(e, 8208));
    b0 = i8x16.add(b0, v128.load(e, 6144));
    b1 = i8x16.add(b1, v128.load(e, 6160));
    e = tj + <usize>load<u16>(r1, 4);
    a0 = i8x16.add(a0, v128.load(e, 10240));
    a1 = i8x16.add(a1, v128.load(e, 10256));
    b0 = i8x16.add(b0, v128.load(e, 8192));
    b1 = i8x16.add(b1, v128.load(e, 8208));
    e = tj + <usize>load<u16>(r1, 6);
    b0 = i8x16.add(b0, v128.load(e, 10240));
    b1 = i8x16.add(b1, v128.load(e, 10256));
    e = tj + <usize>load<u16>(r2, 0);
    a0 = i8x16.add(a0, v128.load(e, 12288));
    a1 = i8x16.add(a1, v128.load(e, 12304));
    e = tj + <usize>load<u16>(r2, 2);
    a0 = i8x16.add(a0, v128.load(e, 14336));
    a1 = i8x16.add(a1, v128.load(e, 14352));
    b0 = i8x16.add(b0, v128.load(e, 12288));
    b1 = i8x16.add(b1, v128.load(e, 12304));
    e = tj + <usize>load<u16>(r2, 4);
    a0 = i8x16.add(a0, v128.load(e, 16384));
    a1 = i8x16.add(a1, v128.load(e, 16400));
    b0 = i8x16.add(b0, v128.load(e, 14336));
    b1 = i8x16.add(b1, v128.load(e, 14352));
    e = tj + <usize>load<u16>(r2, 6);
    b0 = i8x16.add(b0, v128.load(e, 16384));
    b1 = i8x16.add(b1, v128.load(e, 16400));
  }
  const f0 = v128.load(f);
  const f1 = v128.load(f, 16);
  const bitsA = <u32>i8x16.bitmask(v128.xor(i8x16.ge_u(a0, v128.load(uA)), f0)) | (<u32>i8x16.bitmask(v128.xor(i8x16.ge_u(a1, v128.load(uA, 16)), f1)) << 16);
  const bitsB = <u32>i8x16.bitmask(v128.xor(i8x16.ge_u(b0, v128.load(uB)), f0)) | (<u32>i8x16.bitmask(v128.xor(i8x16.ge_u(b1, v128.load(uB, 16)), f1)) << 16);
  return <u64>bitsA | (<u64>bitsB << 32);
}

// Rewrite image `img` (one word per pixel, padding bits ignored) as chunk offsets into the
// zero-framed index planes; the frame is zeroed by the caller once per call.
function indexImage(img: usize, h: i32, w: i32, inC: i32, pad: i32, chunks: i32, entryShift: i32, idx: usize, planeBytes: usize): void {
  const inMask: u32 = (<u32>1 << <u32>inC) - 1;
  const chunkMask: u32 = (<u32>1 << CHUNK_BITS) - 1;
  const pw = w + 2 * pad;
  for (let y = 0; y < h; y++) {
    let src = img + (<usize>(y * w) << 2);
    let dst = idx + (<usize>((y + pad) * pw + pad) << 1);
    if (chunks == 2) {
      // the common case (7..12 channels) without the chunk loop
      for (let x = 0; x < w; x++, src += 4, dst += 2) {
        const v = load<u32>(src) & inMask;
        store<u16>(dst, <u16>((v & chunkMask) << entryShift));
        store<u16>(dst + planeBytes, <u16>((v >> CHUNK_BITS) << entryShift));
      }
      continue;
    }
    for (let x = 0; x < w; x++, src += 4, dst += 2) {
      let v = load<u32>(src) & inMask;
      let d = dst;
      for (let j = 0; j < chunks; j++, d += planeBytes) {
        store<u16>(d, <u16>((v & chunkMask) << entryShift));
        v >>= CHUNK_BITS;
      }
    }
  }
}

// tables: [passes][chunks][9 taps][64][16 | 32] bytes; u: [passes][16 classes][16 | 32] bytes;
// f: [passes][16 | 32] bytes; idx: scratch of chunks planes of (h + 2*pad) * (w + 2*pad) u16.
// pairs != 0: 32 channels per pass (two vectors), else outC <= 16 in one pass.
// indexOnly != 0 builds the index planes alone (the profile's im2col phase).
export function convTapLut(
  inPtr: usize, batch: i32, h: i32, w: i32, inC: i32, same: i32, pool: i32,
  tables: usize, chunks: i32, pairs: i32, outC: i32,
  uPtr: usize, fPtr: usize, idx: usize, outPtr: usize, indexOnly: i32,
): void {
  const pad = same ? 1 : 0;
  const ho = same ? h : h - 2;
  const wo = same ? w : w - 2;
  const outWords = (outC + 31) >>> 5;
  const outPixBytes = <usize>outWords << 2;
  const rows = pool ? (ho >> 1) << 1 : ho;
  const cols = pool ? (wo >> 1) << 1 : wo;
  const outH = pool ? ho >> 1 : ho;
  const outW = pool ? wo >> 1 : wo;
  const imgInBytes = <usize>(h * w) << 2;
  const imgOutBytes = <usize>(outH * outW) * outPixBytes;
  const entryShift = pairs ? 5 : 4;
  const entryBytes = <usize>1 << entryShift;
  const passBytes = <usize>chunks * (pairs ? CHUNK_TAPS_32 : CHUNK_TAPS_16);
  const pw = w + 2 * pad;
  const rowStride = <usize>pw << 1;
  const planeBytes = <usize>((h + 2 * pad) * pw) << 1;
  const passes = pairs ? outWords : 1;
  memory.fill(outPtr, 0, <usize>batch * imgOutBytes);
  memory.fill(idx, 0, <usize>chunks * planeBytes);
  for (let b = 0; b < batch; b++) {
    indexImage(inPtr + <usize>b * imgInBytes, h, w, inC, pad, chunks, entryShift, idx, planeBytes);
    if (indexOnly) continue;
    const outImg = outPtr + <usize>b * imgOutBytes;
    for (let pass = 0; pass < passes; pass++) {
      const t0 = tables + <usize>pass * passBytes;
      const uPass = uPtr + <usize>(pass * 16) * entryBytes;
      const fPass = fPtr + <usize>pass * entryBytes;
      const wordAt = <usize>pass << 2;
      for (let y = 0; y < rows; y++) {
        const rowClass = same ? (i32(y == 0) | (i32(y == ho - 1) << 1)) : 0;
        const outRow = outImg + <usize>((pool ? y >> 1 : y) * outW) * outPixBytes + wordAt;
        const p0 = idx + <usize>y * rowStride;
        let x = 0;
        for (; x + 1 < cols; x += 2) {
          const p = p0 + (<usize>x << 1);
          const clsA = same ? rowClass | (i32(x == 0) << 2) : 0; // x + 1 < cols <= wo: x is never the last column
          const clsB = same ? rowClass | (i32(x + 1 == wo - 1) << 3) : 0;
          const uA = uPass + <usize>clsA * entryBytes;
          const uB = uPass + <usize>clsB * entryBytes;
          const bits = pairs
            ? pairBits32(t0, p, rowStride, planeBytes, chunks, uA, uB, fPass)
            : pairBits16(t0, p, rowStride, planeBytes, chunks, uA, uB, fPass);
          if (pool) {
            // x is even: both pixels fall into the same pooled pixel
            const q = outRow + <usize>(x >> 1) * outPixBytes;
            store<u32>(q, load<u32>(q) | <u32>bits | <u32>(bits >> 32));
          } else {
            const q = outRow + <usize>x * outPixBytes;
            store<u32>(q, load<u32>(q) | <u32>bits);
            store<u32>(q + outPixBytes, load<u32>(q + outPixBytes) | <u32>(bits >> 32));
          }
        }
        if (x < cols) {
          // odd width without pool: the last pixel alone
          const p = p0 + (<usize>x << 1);
          const cls = same ? rowClass | (i32(x == 0) << 2) | (i32(x == wo - 1) << 3) : 0;
          const u = uPass + <usize>cls * entryBytes;
          const bits = pairs
            ? pixelBits32(t0, p, rowStride, planeBytes, chunks, u, fPass)
            : pixelBits16(t0, p, rowStride, planeBytes, chunks, u, fPass);
          const q = outRow + <usize>x * outPixBytes;
          store<u32>(q, load<u32>(q) | bits);
        }
      }
    }
  }
}
