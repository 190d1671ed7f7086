/**
 * The model-independent part of the generated model.c: bit helpers and one loop per layer kind,
 * as snippets with their dependencies, so model.c holds only what the model uses (-Wall
 * -Werror rejects an unused static function). Plain C99, only <stdint.h> and <string.h>, no
 * malloc, integer math only (the last layer's scale and bias excepted).
 *
 * Activations are one dense bit vector per layer: bit (y*W + x)*C + c, 32 per uint32 word,
 * bit 1 = +1; every kernel clears its output first, so bits past the end are 0. That is the
 * flatten order of a dense layer (no flatten step), and a pixel of few channels (one kept plane,
 * 12 channels at w=0.19) costs its bits, not a word: RAM is what MCUs lack. A conv followed by
 * a max-pool is fused: the full-size conv output is never stored.
 */
export type CKernel =
  | 'popcount'
  | 'words'
  | 'bits32'
  | 'put_word'
  | 'copy_bits'
  | 'fill_ones'
  | 'slice'
  | 'conv_pixel'
  | 'conv3x3'
  | 'conv3x3_pool2'
  | 'maxpool2'
  | 'mismatches'
  | 'dense'
  | 'dense_out';

interface Snippet {
  deps: CKernel[];
  code: string;
}

const SNIPPETS: Record<CKernel, Snippet> = {
  popcount: {
    deps: [],
    code: String.raw`
/* Popcount: the compiler's builtin where the target has a popcount instruction (x86 with POPCNT,
 * AArch64, RISC-V Zbb, WebAssembly), else the classic SWAR sequence inline: where there is no
 * such instruction (x86-64 without -mpopcnt, Cortex-M) the builtin is a libgcc call, measurably
 * slower than the inline sequence. Define CBNN_BUILTIN_POPCOUNT or CBNN_PORTABLE_POPCOUNT to force
 * one or the other. */
#if !defined(CBNN_PORTABLE_POPCOUNT) && (defined(__GNUC__) || defined(__clang__)) && \
    (defined(CBNN_BUILTIN_POPCOUNT) || defined(__POPCNT__) || defined(__aarch64__) || defined(__riscv_zbb) || defined(__wasm__))
#  if defined(__SIZEOF_INT__) && __SIZEOF_INT__ < 4
#    define CBNN_POPCOUNT(v) ((uint32_t)__builtin_popcountl((unsigned long)(v)))
#  else
#    define CBNN_POPCOUNT(v) ((uint32_t)__builtin_popcount((unsigned int)(v)))
#  endif
#else
static uint32_t cbnn_popcount_swar(uint32_t v)
{
    v = v - ((v >> 1) & 0x55555555u);
    v = (v & 0x33333333u) + ((v >> 2) & 0x33333333u);
    v = (v + (v >> 4)) & 0x0F0F0F0Fu;
    return (v * 0x01010101u) >> 24;
}
#  define CBNN_POPCOUNT(v) cbnn_popcount_swar(v)
#endif
`,
  },
  words: {
    deps: [],
    code: String.raw`
#define CBNN_WORDS(bits) (((bits) + 31u) >> 5)
`,
  },
  bits32: {
    deps: [],
    code: String.raw`
/* n (1..32) bits of src from bit "at". The second word is read only when the bits reach it. */
static uint32_t cbnn_bits32(const uint32_t *src, uint32_t at, uint32_t n)
{
    const uint32_t s = at & 31u;
    const uint32_t *p = src + (at >> 5);
    uint32_t v = p[0] >> s;
    if (s + n > 32u) v |= p[1] << (32u - s);
    return n == 32u ? v : v & ((1u << n) - 1u);
}
`,
  },
  put_word: {
    deps: [],
    code: String.raw`
/* OR the n low bits of v (its other bits 0) into dst from bit "at". */
static void cbnn_put_word(uint32_t *dst, uint32_t at, uint32_t v, uint32_t n)
{
    const uint32_t s = at & 31u;
    dst[at >> 5] |= v << s;
    if (s + n > 32u) dst[(at >> 5) + 1u] |= v >> (32u - s);
}
`,
  },
  copy_bits: {
    deps: ['bits32', 'put_word'],
    code: String.raw`
/* OR n bits of src from bit "from" into dst from bit "at". */
static void cbnn_copy_bits(uint32_t *dst, uint32_t at, const uint32_t *src, uint32_t from, uint32_t n)
{
    while (n > 0u) {
        const uint32_t take = n < 32u ? n : 32u;
        cbnn_put_word(dst, at, cbnn_bits32(src, from, take), take);
        at += take;
        from += take;
        n -= take;
    }
}
`,
  },
  fill_ones: {
    deps: [],
    code: String.raw`
/* Set bits [at, at + n) of dst. */
static void cbnn_fill_ones(uint32_t *dst, uint32_t at, uint32_t n)
{
    while (n > 0u) {
        const uint32_t s = at & 31u;
        uint32_t take = 32u - s;
        if (take > n) take = n;
        dst[at >> 5] |= (take == 32u ? 0xFFFFFFFFu : ((1u << take) - 1u)) << s;
        at += take;
        n -= take;
    }
}
`,
  },
  slice: {
    deps: ['words'],
    code: String.raw`
/* Bit-slice raw 8-bit pixels (H x W x C, channels last) into the kept planes: plane k of pixel p
 * is bit cbnn_plane_bit[k] of channel cbnn_plane_channel[k], at bit p*CBNN_PLANES + k. */
static void cbnn_slice(const uint8_t *pixels, uint32_t *out)
{
    uint32_t p, k, i = 0;
    memset(out, 0, sizeof(uint32_t) * CBNN_WORDS((uint32_t)CBNN_HEIGHT * CBNN_WIDTH * CBNN_PLANES));
    for (p = 0; p < (uint32_t)(CBNN_HEIGHT * CBNN_WIDTH); p++) {
        const uint8_t *px = pixels + p * CBNN_CHANNELS;
        for (k = 0; k < CBNN_PLANES; k++, i++) {
            out[i >> 5] |= (uint32_t)((px[cbnn_plane_channel[k]] >> cbnn_plane_bit[k]) & 1u) << (i & 31u);
        }
    }
}
`,
  },
  conv_pixel: {
    deps: ['popcount', 'words', 'copy_bits', 'fill_ones', 'put_word'],
    code: String.raw`
/* A binary 3x3 conv layer (stride 1): input h x w x c, oc outputs, weights [oc][words(9*c)]
 * with tap t's channels at bits [t*c, (t+1)*c). */
typedef struct {
    uint32_t h, w, c, same, oc;
    const uint32_t *weights;
    const int32_t *thresholds;
    const uint32_t *flip;
} cbnn_conv;

/* OR the output bits of pixel (y, x) into out from bit "at". The window's taps are gathered
 * into one bit row (tap t at bits [t*c, (t+1)*c)). Inside the image each of the window's three
 * rows is 3*c contiguous input bits, one copy each. On the border of a 'same' conv a tap outside
 * the image counts nothing: only the valid taps are copied, and a mask of their bits keeps the
 * others out of the popcount, so x = valid bits - 2 * mismatches. Output bit o =
 * (x >= thr[o]) XOR flip bit o (batch norm + sign folded at export). */
static void cbnn_conv_pixel(const cbnn_conv *L, const uint32_t *in, uint32_t y, uint32_t x, uint32_t *out, uint32_t at)
{
    const uint32_t c = L->c, kw = CBNN_WORDS(9u * c);
    const int interior = !L->same || (y > 0u && x > 0u && y + 1u < L->h && x + 1u < L->w);
    uint32_t dy, dx, j, o, k;
    int32_t valid = 0;
    memset(cbnn_col, 0, kw * sizeof(uint32_t));
    if (interior) {
        const uint32_t y0 = L->same ? y - 1u : y, x0 = L->same ? x - 1u : x;
        for (dy = 0; dy < 3u; dy++) cbnn_copy_bits(cbnn_col, 3u * dy * c, in, ((y0 + dy) * L->w + x0) * c, 3u * c);
        valid = (int32_t)(9u * c);
    } else {
        /* (y + dy, x + dx) is the tap's position in the image shifted by the padding of 1. */
        memset(cbnn_mask, 0, kw * sizeof(uint32_t));
        for (dy = 0; dy < 3u; dy++) {
            for (dx = 0; dx < 3u; dx++) {
                const uint32_t iy = y + dy, ix = x + dx, t = 3u * dy + dx;
                if (iy == 0u || ix == 0u || iy > L->h || ix > L->w) continue;
                cbnn_copy_bits(cbnn_col, t * c, in, ((iy - 1u) * L->w + ix - 1u) * c, c);
                cbnn_fill_ones(cbnn_mask, t * c, c);
                valid += (int32_t)c;
            }
        }
    }
    for (j = 0; j * 32u < L->oc; j++) {
        const uint32_t end = (j + 1u) * 32u < L->oc ? (j + 1u) * 32u : L->oc;
        uint32_t word = 0;
        for (o = j * 32u; o < end; o++) {
            const uint32_t *row = L->weights + o * kw;
            uint32_t pop = 0;
            if (interior) {
                for (k = 0; k < kw; k++) pop += CBNN_POPCOUNT(cbnn_col[k] ^ row[k]);
            } else {
                for (k = 0; k < kw; k++) pop += CBNN_POPCOUNT((cbnn_col[k] ^ row[k]) & cbnn_mask[k]);
            }
            word |= (uint32_t)(valid - 2 * (int32_t)pop >= L->thresholds[o]) << (o & 31u);
        }
        cbnn_put_word(out, at + j * 32u, word ^ L->flip[j], end - j * 32u);
    }
}
`,
  },
  conv3x3: {
    deps: ['conv_pixel'],
    code: String.raw`
static void cbnn_conv3x3(const cbnn_conv *L, const uint32_t *in, uint32_t *out)
{
    const uint32_t ho = L->same ? L->h : L->h - 2u, wo = L->same ? L->w : L->w - 2u;
    uint32_t y, x;
    memset(out, 0, CBNN_WORDS(ho * wo * L->oc) * sizeof(uint32_t));
    for (y = 0; y < ho; y++) {
        for (x = 0; x < wo; x++) cbnn_conv_pixel(L, in, y, x, out, (y * wo + x) * L->oc);
    }
}
`,
  },
  conv3x3_pool2: {
    deps: ['conv_pixel'],
    code: String.raw`
/* Conv then 2x2 max-pool (stride 2, floor): max over +-1 is an OR, so each conv pixel's bits are
 * ORed straight into its pooled pixel. */
static void cbnn_conv3x3_pool2(const cbnn_conv *L, const uint32_t *in, uint32_t *out)
{
    const uint32_t ho = L->same ? L->h : L->h - 2u, wo = L->same ? L->w : L->w - 2u;
    const uint32_t ph = ho / 2u, pw = wo / 2u;
    uint32_t y, x, d;
    memset(out, 0, CBNN_WORDS(ph * pw * L->oc) * sizeof(uint32_t));
    for (y = 0; y < ph; y++) {
        for (x = 0; x < pw; x++) {
            for (d = 0; d < 4u; d++) cbnn_conv_pixel(L, in, 2u * y + d / 2u, 2u * x + d % 2u, out, (y * pw + x) * L->oc);
        }
    }
}
`,
  },
  maxpool2: {
    deps: ['words', 'bits32', 'put_word'],
    code: String.raw`
/* 2x2 max-pool, stride 2 (floor), of h x w x c bits: an OR. */
static void cbnn_maxpool2(const uint32_t *in, uint32_t h, uint32_t w, uint32_t c, uint32_t *out)
{
    const uint32_t ho = h / 2u, wo = w / 2u;
    uint32_t y, x, j;
    memset(out, 0, CBNN_WORDS(ho * wo * c) * sizeof(uint32_t));
    for (y = 0; y < ho; y++) {
        for (x = 0; x < wo; x++) {
            for (j = 0; j < c; j += 32u) {
                const uint32_t take = c - j < 32u ? c - j : 32u, a = ((2u * y) * w + 2u * x) * c + j;
                const uint32_t v = cbnn_bits32(in, a, take) | cbnn_bits32(in, a + c, take) |
                                   cbnn_bits32(in, a + w * c, take) | cbnn_bits32(in, a + w * c + c, take);
                cbnn_put_word(out, (y * wo + x) * c + j, v, take);
            }
        }
    }
}
`,
  },
  mismatches: {
    deps: ['popcount'],
    code: String.raw`
static uint32_t cbnn_mismatches(const uint32_t *a, const uint32_t *b, uint32_t words)
{
    uint32_t k, pop = 0;
    for (k = 0; k < words; k++) pop += CBNN_POPCOUNT(a[k] ^ b[k]);
    return pop;
}
`,
  },
  dense: {
    deps: ['words', 'mismatches'],
    code: String.raw`
/* Binary dense: x = bits - 2 * mismatches (bits past the end are 0 on both sides). */
static void cbnn_dense(const uint32_t *in, uint32_t bits, const uint32_t *wt, uint32_t oc,
                       const int32_t *thr, const uint32_t *flip, uint32_t *out)
{
    const uint32_t kw = CBNN_WORDS(bits), ow = CBNN_WORDS(oc);
    uint32_t j, o;
    for (j = 0; j < ow; j++) {
        const uint32_t end = (j + 1u) * 32u < oc ? (j + 1u) * 32u : oc;
        uint32_t word = 0;
        for (o = j * 32u; o < end; o++) {
            const int32_t x = (int32_t)bits - 2 * (int32_t)cbnn_mismatches(in, wt + o * kw, kw);
            word |= (uint32_t)(x >= thr[o]) << (o & 31u);
        }
        out[j] = word ^ flip[j];
    }
}
`,
  },
  dense_out: {
    deps: ['words', 'mismatches'],
    code: String.raw`
/* Last layer: score = scale * x + bias, in float32 like the engine. The product goes through a
 * volatile so that no compiler fuses it with the addition (an FMA rounds once and can differ). */
static void cbnn_dense_out(const uint32_t *in, uint32_t bits, const uint32_t *wt, uint32_t oc,
                           const float *scale, const float *bias, float *scores)
{
    const uint32_t kw = CBNN_WORDS(bits);
    uint32_t o;
    for (o = 0; o < oc; o++) {
        const int32_t x = (int32_t)bits - 2 * (int32_t)cbnn_mismatches(in, wt + o * kw, kw);
        volatile float product = scale[o] * (float)x;
        scores[o] = product + bias[o];
    }
}
`,
  },
};

const ORDER = Object.keys(SNIPPETS) as CKernel[];

/** The snippets `used` needs, dependencies first, each once, in a fixed order (same bytes). */
export function cKernels(used: Iterable<CKernel>): string {
  const need = new Set<CKernel>();
  const add = (k: CKernel): void => {
    if (need.has(k)) return;
    need.add(k);
    SNIPPETS[k].deps.forEach(add);
  };
  for (const k of used) add(k);
  return ORDER.filter((k) => need.has(k))
    .map((k) => SNIPPETS[k].code)
    .join('');
}

/** The example program: raw images on stdin, one predicted class per line on stdout. */
export const C_MAIN = String.raw`/* Example: predict raw images read from stdin.
 *
 *   cc -std=c99 -O2 main.c model.c -o predict
 *   ./predict < images.u8            one predicted class index per line
 *   ./predict --scores < images.u8   the class, then the CBNN_CLASSES scores
 *
 * stdin holds N images of CBNN_HEIGHT x CBNN_WIDTH x CBNN_CHANNELS bytes each (channels last,
 * one uint8 per channel), back to back. A byte count that is not a whole number of images is an
 * error (exit 3) once the whole images before it have been predicted. */
#include <stdio.h>
#include <string.h>
#include "model.h"

int main(int argc, char **argv)
{
    static uint8_t image[CBNN_INPUT_BYTES];
    float scores[CBNN_CLASSES];
    unsigned long images = 0;
    int with_scores = 0, c;
    if (argc == 2 && strcmp(argv[1], "--scores") == 0) {
        with_scores = 1;
    } else if (argc != 1) {
        fprintf(stderr, "usage: %s [--scores] < images (N x %d bytes)\n", argv[0], CBNN_INPUT_BYTES);
        return 2;
    }
    for (;;) {
        const size_t got = fread(image, 1, sizeof image, stdin);
        if (got == sizeof image) {
            const int cls = cbnn_predict(image, scores);
            printf("%d", cls);
            if (with_scores) {
                for (c = 0; c < CBNN_CLASSES; c++) printf(" %.9g", (double)scores[c]);
            }
            printf("\n");
            images++;
            continue;
        }
        if (ferror(stdin)) {
            perror("reading stdin");
            return 1;
        }
        if (got != 0) {
            fprintf(stderr,
                    "stdin holds %lu bytes: not a whole number of %dx%dx%d = %d-byte images "
                    "(%lu whole images, then %lu bytes left over)\n",
                    images * (unsigned long)CBNN_INPUT_BYTES + (unsigned long)got, CBNN_HEIGHT, CBNN_WIDTH,
                    CBNN_CHANNELS, CBNN_INPUT_BYTES, images, (unsigned long)got);
            return 3;
        }
        return 0;
    }
}
`;
