/**
 * The model-independent part of the generated model.c: bit helpers and one loop per layer kind,
 * as snippets with their dependencies, so model.c holds only what the model uses (-Wall
 * -Werror rejects an unused static function). Plain C99, only <stdint.h> and <string.h>, no
 * malloc, integer math only (the last layer's scale and bias excepted). Activations are packed
 * like the engine's: channels last, 32 channels per uint32 word, bit 1 = +1, padding bits 0;
 * every kernel writes whole words so padding stays 0.
 */
export type CKernel = 'popcount' | 'words' | 'put_bits' | 'fill_ones' | 'slice' | 'conv3x3' | 'maxpool2' | 'flatten' | 'mismatches' | 'dense' | 'dense_out';

interface Snippet {
  deps: CKernel[];
  code: string;
}

const SNIPPETS: Record<CKernel, Snippet> = {
  popcount: {
    deps: [],
    code: String.raw`
/* Popcount: the compiler's builtin where it has one (one instruction on most targets), else the
 * classic SWAR sequence. Define CBNN_PORTABLE_POPCOUNT to force the portable one. */
#if (defined(__GNUC__) || defined(__clang__)) && !defined(CBNN_PORTABLE_POPCOUNT)
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
  put_bits: {
    deps: ['words'],
    code: String.raw`
/* OR the n bits of src (word aligned; its bits past n are 0) into dst from bit "at". The second
 * word is touched only when bits spill into it, so dst is never read or written past at + n. */
static void cbnn_put_bits(uint32_t *dst, uint32_t at, const uint32_t *src, uint32_t n)
{
    uint32_t i;
    const uint32_t words = CBNN_WORDS(n), s = at & 31u;
    uint32_t *d = dst + (at >> 5);
    for (i = 0; i < words; i++) {
        const uint32_t v = src[i];
        d[i] |= v << s;
        if (s != 0u && (v >> (32u - s)) != 0u) d[i + 1u] |= v >> (32u - s);
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
/* Bit-slice raw 8-bit pixels (H x W x C, channels last) into the kept planes: plane k is bit
 * cbnn_plane_bit[k] of channel cbnn_plane_channel[k], packed at bit k of the pixel's words. */
static void cbnn_slice(const uint8_t *pixels, uint32_t *out)
{
    uint32_t p, k;
    memset(out, 0, sizeof(uint32_t) * CBNN_HEIGHT * CBNN_WIDTH * CBNN_WORDS(CBNN_PLANES));
    for (p = 0; p < (uint32_t)(CBNN_HEIGHT * CBNN_WIDTH); p++) {
        const uint8_t *px = pixels + p * CBNN_CHANNELS;
        uint32_t *o = out + p * CBNN_WORDS(CBNN_PLANES);
        for (k = 0; k < CBNN_PLANES; k++) {
            o[k >> 5] |= (uint32_t)((px[cbnn_plane_channel[k]] >> cbnn_plane_bit[k]) & 1u) << (k & 31u);
        }
    }
}
`,
  },
  conv3x3: {
    deps: ['popcount', 'words', 'put_bits', 'fill_ones'],
    code: String.raw`
/* Binary 3x3 conv, stride 1. Per output pixel the window's valid taps are gathered into one bit
 * row (tap t at bits [t*c, (t+1)*c), like the exported weights) with a mask of the valid bits:
 * with 'same' padding a tap outside the image counts nothing, so x = valid bits - 2 * mismatches.
 * Output bit o = (x >= thr[o]) XOR flip bit o (batch norm + sign folded at export). */
static void cbnn_conv3x3(const uint32_t *in, uint32_t h, uint32_t w, uint32_t c, uint32_t same,
                         const uint32_t *wt, uint32_t oc, const int32_t *thr, const uint32_t *flip,
                         uint32_t *out, uint32_t *col, uint32_t *mask)
{
    const uint32_t inw = CBNN_WORDS(c), kw = CBNN_WORDS(9u * c), ow = CBNN_WORDS(oc);
    const uint32_t ho = same ? h : h - 2u, wo = same ? w : w - 2u;
    uint32_t y, x, t, j, o, k;
    for (y = 0; y < ho; y++) {
        for (x = 0; x < wo; x++) {
            uint32_t *dst = out + (y * wo + x) * ow;
            int32_t valid = 0;
            memset(col, 0, kw * sizeof(uint32_t));
            memset(mask, 0, kw * sizeof(uint32_t));
            for (t = 0; t < 9u; t++) {
                uint32_t iy = y + t / 3u, ix = x + t % 3u;
                if (same) {
                    if (iy == 0u || ix == 0u || iy > h || ix > w) continue;
                    iy -= 1u;
                    ix -= 1u;
                }
                cbnn_put_bits(col, t * c, in + (iy * w + ix) * inw, c);
                cbnn_fill_ones(mask, t * c, c);
                valid += (int32_t)c;
            }
            for (j = 0; j < ow; j++) {
                const uint32_t end = (j + 1u) * 32u < oc ? (j + 1u) * 32u : oc;
                uint32_t word = 0;
                for (o = j * 32u; o < end; o++) {
                    const uint32_t *row = wt + o * kw;
                    uint32_t pop = 0;
                    for (k = 0; k < kw; k++) pop += CBNN_POPCOUNT((col[k] ^ row[k]) & mask[k]);
                    word |= (uint32_t)(valid - 2 * (int32_t)pop >= thr[o]) << (o & 31u);
                }
                dst[j] = word ^ flip[j];
            }
        }
    }
}
`,
  },
  maxpool2: {
    deps: [],
    code: String.raw`
/* 2x2 max-pool, stride 2 (floor): max over +-1 is an OR of bits. */
static void cbnn_maxpool2(const uint32_t *in, uint32_t h, uint32_t w, uint32_t words, uint32_t *out)
{
    const uint32_t ho = h / 2u, wo = w / 2u;
    uint32_t y, x, k;
    for (y = 0; y < ho; y++) {
        for (x = 0; x < wo; x++) {
            const uint32_t *a = in + ((2u * y) * w + 2u * x) * words;
            const uint32_t *b = a + w * words;
            uint32_t *o = out + (y * wo + x) * words;
            for (k = 0; k < words; k++) o[k] = a[k] | a[words + k] | b[k] | b[words + k];
        }
    }
}
`,
  },
  flatten: {
    deps: ['words', 'put_bits'],
    code: String.raw`
/* Packed pixels (words(c) each) to one dense bit vector in (h*W + w)*C + c order. */
static void cbnn_flatten(const uint32_t *in, uint32_t pixels, uint32_t c, uint32_t *out)
{
    uint32_t p;
    memset(out, 0, CBNN_WORDS(pixels * c) * sizeof(uint32_t));
    for (p = 0; p < pixels; p++) cbnn_put_bits(out, p * c, in + p * CBNN_WORDS(c), c);
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
/* Binary dense: x = bits - 2 * mismatches (padding bits are 0 on both sides). */
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
  return ORDER.filter((k) => need.has(k)).map((k) => SNIPPETS[k].code).join('');
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
