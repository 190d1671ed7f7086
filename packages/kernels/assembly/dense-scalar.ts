// Binary dense / GEMM with native scalar 64-bit popcounts (see conv-im2col.ts for why scalar
// beats i8x16.popcnt under V8 on x64): rows of A (u32 words, core's packing, padding bits 0)
// against weights interleaved 4 output channels at a time, [outCPad/4][kWords][4] u64, which
// src/wasm-dense.ts prepares once per layer. Blocked 1 row x 4 channels; the weights are
// tiled by channel groups so that one tile stays in L1 while every row streams through it.

const MODE_DOTS: i32 = 0; // i32 dot products, n per row
const MODE_BITS: i32 = 1; // packed bits: ((pop ^ m) + c) >= 0, as in conv-im2col.ts
const MODE_SCORES: i32 = 2; // f32 scale*x + bias, n per row

// Weight bytes per tile: a quarter of a 64 KiB L1 leaves room for the rows and the output.
const TILE_BYTES: i32 = 16384;

export function denseScalar(
  aPtr: usize, rows: i32, rowWords: i32, kBits: i32, wPtr: usize, n: i32, outCPad: i32,
  mode: i32, p0: usize, p1: usize, outPtr: usize,
): void {
  const kWords = (rowWords + 1) >> 1;
  // An odd row length makes the last 64-bit load take the next row's first word: mask it.
  const lastMask: u64 = (rowWords & 1) ? 0xffffffff : 0xffffffffffffffff;
  const rowBytes = <usize>rowWords << 2;
  const groupBytes = <usize>kWords << 5;
  const groupsPerTile = max<i32>(1, TILE_BYTES / <i32>groupBytes);
  const outWords = (n + 31) >>> 5;
  if (mode == MODE_BITS) memory.fill(outPtr, 0, <usize>(rows * outWords) << 2);
  const nGroups = outCPad >> 2;
  for (let g0 = 0; g0 < nGroups; g0 += groupsPerTile) {
    const g1 = min<i32>(nGroups, g0 + groupsPerTile);
    for (let r = 0; r < rows; r++) {
      const a = aPtr + <usize>r * rowBytes;
      let bits: u32 = 0;
      for (let g = g0; g < g1; g++) {
        let pw = wPtr + <usize>g * groupBytes;
        let pa = a;
        let s0: u64 = 0, s1: u64 = 0, s2: u64 = 0, s3: u64 = 0;
        // all words but the last, two at a time (the load first in each xor spares a register copy)
        const end2 = a + (<usize>((kWords - 1) & ~1) << 3);
        while (pa < end2) {
          const x = load<u64>(pa);
          const z = load<u64>(pa, 8);
          s0 += popcnt<u64>(load<u64>(pw) ^ x);
          s1 += popcnt<u64>(load<u64>(pw, 8) ^ x);
          s2 += popcnt<u64>(load<u64>(pw, 16) ^ x);
          s3 += popcnt<u64>(load<u64>(pw, 24) ^ x);
          s0 += popcnt<u64>(load<u64>(pw, 32) ^ z);
          s1 += popcnt<u64>(load<u64>(pw, 40) ^ z);
          s2 += popcnt<u64>(load<u64>(pw, 48) ^ z);
          s3 += popcnt<u64>(load<u64>(pw, 56) ^ z);
          pa += 16;
          pw += 64;
        }
        if (((kWords - 1) & 1) != 0) {
          const x = load<u64>(pa);
          s0 += popcnt<u64>(load<u64>(pw) ^ x);
          s1 += popcnt<u64>(load<u64>(pw, 8) ^ x);
          s2 += popcnt<u64>(load<u64>(pw, 16) ^ x);
          s3 += popcnt<u64>(load<u64>(pw, 24) ^ x);
          pa += 8;
          pw += 32;
        }
        const x = load<u64>(pa) & lastMask;
        s0 += popcnt<u64>(load<u64>(pw) ^ x);
        s1 += popcnt<u64>(load<u64>(pw, 8) ^ x);
        s2 += popcnt<u64>(load<u64>(pw, 16) ^ x);
        s3 += popcnt<u64>(load<u64>(pw, 24) ^ x);
        const o = g << 2;
        if (mode == MODE_BITS) {
          let v = i32x4.splat(<i32>s0);
          v = i32x4.replace_lane(v, 1, <i32>s1);
          v = i32x4.replace_lane(v, 2, <i32>s2);
          v = i32x4.replace_lane(v, 3, <i32>s3);
          const at = <usize>o << 2;
          const t = i32x4.add(v128.xor(v, v128.load(p0 + at)), v128.load(p1 + at));
          bits |= <u32>(~i32x4.bitmask(t) & 0xf) << (<u32>o & 31);
          if ((o & 31) == 28 || g + 1 == g1) {
            const q = outPtr + (<usize>(r * outWords + (o >>> 5)) << 2);
            store<u32>(q, load<u32>(q) | bits);
            bits = 0;
          }
        } else {
          emit(mode, kBits - 2 * <i32>s0, o, n, r, p0, p1, outPtr);
          emit(mode, kBits - 2 * <i32>s1, o + 1, n, r, p0, p1, outPtr);
          emit(mode, kBits - 2 * <i32>s2, o + 2, n, r, p0, p1, outPtr);
          emit(mode, kBits - 2 * <i32>s3, o + 3, n, r, p0, p1, outPtr);
        }
      }
    }
  }
}

@inline function emit(mode: i32, x: i32, o: i32, n: i32, r: i32, p0: usize, p1: usize, outPtr: usize): void {
  if (o >= n) return;
  const at = outPtr + (<usize>(r * n + o) << 2);
  if (mode == MODE_DOTS) {
    store<i32>(at, x);
  } else {
    const oo = <usize>o << 2;
    store<f32>(at, load<f32>(p0 + oo) * <f32>x + load<f32>(p1 + oo));
  }
}
