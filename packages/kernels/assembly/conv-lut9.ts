// Binary conv 3x3 of a 1-channel input (the first layer on one bit plane) by table lookup.
//
// The window of a pixel is 9 bits (tap t = dy*3 + dx at bit t, taps outside the image 0), so
// each output pixel's words(outC) output words are a function of (border class, window): the
// JavaScript side (src/wasm-conv-lut.ts) tabulates them once per layer with the same folded
// thresholds as the im2col kernel, 16 classes x 512 windows x words(outC) u32. The interior
// class, the one nearly every pixel reads, is 2 KiB per output word and stays in L1.
//
// The window slides along the row: each step shifts the three columns left and reads only the
// new column (3 bits), instead of 9 loads per pixel. Max-pool 2x2 can be fused as in
// conv-im2col.ts (OR into the pooled pixel; rows/columns the pool drops are skipped).

const KEEP_COLUMNS_0_1: u32 = 0b011011011;

// Column bits of pixel column ix for the window rows r0..r2 (0 where outside), at bits 0, 3, 6.
@inline function column(p0: usize, p1: usize, p2: usize, ok0: bool, ok1: bool, ok2: bool, ix: i32, w: i32): u32 {
  if (ix < 0 || ix >= w) return 0;
  const at = <usize>ix << 2;
  let v: u32 = 0;
  if (ok0) v |= load<u32>(p0 + at) & 1;
  if (ok1) v |= (load<u32>(p1 + at) & 1) << 3;
  if (ok2) v |= (load<u32>(p2 + at) & 1) << 6;
  return v;
}

// Column bits of pixel column ix for the pair window (row r at bit 4r, 0 where outside).
@inline function column4(p0: usize, p1: usize, p2: usize, ok0: bool, ok2: bool, ix: i32, w: i32): u32 {
  if (ix < 0 || ix >= w) return 0;
  const at = <usize>ix << 2;
  let v: u32 = (load<u32>(p1 + at) & 1) << 4;
  if (ok0) v |= load<u32>(p0 + at) & 1;
  if (ok2) v |= (load<u32>(p2 + at) & 1) << 8;
  return v;
}

const KEEP_PAIR_COLUMNS_0_1: u32 = 0x333; // columns 0 and 1 of the 3 rows of a pair window

// pairPtr (outWords == 1 only, else 0): the outputs of two neighbouring pixels (x, x + 1) per
// 3x4 window (row r, column c at bit 4r + c), [16 pair classes][4096] u64 (x's word low): pair
// class = row class | 4 if x is the first column | 8 if x + 1 is the last. One lookup and one
// store per two pixels.
export function convLut9(
  inPtr: usize, batch: i32, h: i32, w: i32, same: i32, pool: i32, lutPtr: usize, outWords: i32, outPtr: usize, pairPtr: usize,
): void {
  const pad = same ? 1 : 0;
  const ho = same ? h : h - 2;
  const wo = same ? w : w - 2;
  const rows = pool ? (ho >> 1) << 1 : ho;
  const cols = pool ? (wo >> 1) << 1 : wo;
  const outH = pool ? ho >> 1 : ho;
  const outW = pool ? wo >> 1 : wo;
  const outPixBytes = <usize>outWords << 2;
  const imgInBytes = <usize>(h * w) << 2;
  const imgOutBytes = <usize>(outH * outW) * outPixBytes;
  const classBytes = <usize>512 * outPixBytes;
  memory.fill(outPtr, 0, <usize>batch * imgOutBytes);
  if (cols <= 0) return;
  const rowBytes = <usize>w << 2;
  for (let b = 0; b < batch; b++) {
    const img = inPtr + <usize>b * imgInBytes;
    const outImg = outPtr + <usize>b * imgOutBytes;
    for (let y = 0; y < rows; y++) {
      const iy = y - pad;
      const ok0 = iy >= 0;
      const ok2 = iy + 2 < h;
      const p0 = img + <usize>iy * rowBytes; // only read when ok0
      const p1 = p0 + rowBytes;
      const p2 = p1 + rowBytes;
      const rowClass = same ? (i32(y == 0) | (i32(y == ho - 1) << 1)) : 0;
      const outRow = outImg + <usize>((pool ? y >> 1 : y) * outW) * outPixBytes;
      let x = 0;
      if (pairPtr) {
        let win = column4(p0, p1, p2, ok0, ok2, -pad, w) | (column4(p0, p1, p2, ok0, ok2, 1 - pad, w) << 1);
        for (; x + 1 < cols; x += 2) {
          win |= (column4(p0, p1, p2, ok0, ok2, x + 2 - pad, w) << 2) | (column4(p0, p1, p2, ok0, ok2, x + 3 - pad, w) << 3);
          const cls = same ? rowClass | (i32(x == 0) << 2) | (i32(x + 1 == wo - 1) << 3) : 0;
          const e = load<u64>(pairPtr + (<usize>((cls << 12) | win) << 3));
          if (pool) {
            const q = outRow + (<usize>(x >> 1) << 2);
            store<u32>(q, load<u32>(q) | <u32>e | <u32>(e >> 32));
          } else {
            store<u64>(outRow + (<usize>x << 2), e); // each pixel is written once
          }
          win = (win >> 2) & KEEP_PAIR_COLUMNS_0_1;
        }
        if (x == cols) continue;
      }
      // one pixel at a time: more than one output word, or the last pixel of an odd row
      let idx = column(p0, p1, p2, ok0, true, ok2, x - pad, w) | (column(p0, p1, p2, ok0, true, ok2, x + 1 - pad, w) << 1);
      for (; x < cols; x++) {
        idx |= column(p0, p1, p2, ok0, true, ok2, x + 2 - pad, w) << 2;
        const cls = same ? rowClass | (i32(x == 0) << 2) | (i32(x == wo - 1) << 3) : 0;
        const e = lutPtr + <usize>cls * classBytes + <usize>idx * outPixBytes;
        const q = outRow + <usize>(pool ? x >> 1 : x) * outPixBytes;
        if (outWords == 1) {
          store<u32>(q, load<u32>(q) | load<u32>(e));
        } else {
          for (let k: usize = 0; k < outPixBytes; k += 4) store<u32>(q + k, load<u32>(q + k) | load<u32>(e + k));
        }
        idx = (idx >> 1) & KEEP_COLUMNS_0_1;
      }
    }
  }
}
