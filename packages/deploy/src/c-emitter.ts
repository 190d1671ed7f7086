import { wordsForChannels, planeLabel } from '@cbnn/core';
import { activationShapes, type ActivationShape, type EngineModel } from '@cbnn/kernels';
import { C_MAIN, cKernels, type CKernel } from './c-runtime';
import { isBinaryLayer, layerBits, packRows, unsupportedLayer } from './layer-bits';

/**
 * Generates the C99 library of a model: model.h (shapes, planes, classes, cbnn_predict),
 * model.c (weights and integer thresholds as const arrays, one static activation buffer, the
 * kernels of c-runtime.ts), and the example main.c. Same model, same bytes.
 */
export interface CSources {
  'model.h': string;
  'model.c': string;
  'main.c': string;
  Makefile: string;
}

export interface CLayerSummary {
  index: number;
  type: string;
  /** Output activation shape (H x W x C bits). */
  output: ActivationShape;
  /** Bytes of this layer's const data (weights, thresholds, flip bits, scale, bias). */
  constBytes: number;
}

export interface CExport {
  sources: CSources;
  layers: CLayerSummary[];
  /** Bytes of all const data in model.c (layers + plane tables), before any compiler overhead. */
  constBytes: number;
  ram: {
    /** The static activation buffer (two ping-pong regions), bytes. */
    activationBytes: number;
    /** The conv window row and its valid-tap mask, bytes. */
    scratchBytes: number;
    totalBytes: number;
  };
}

export interface EmitOptions {
  /** Named in the generated files' headers (e.g. the model file and its sha256). */
  source?: string;
  /** For error messages. */
  file?: string;
}

const TARGET = 'C';

/** Hex words, 8 per line. */
function u32Array(words: ArrayLike<number>): string {
  const out: string[] = [];
  for (let i = 0; i < words.length; i += 8) {
    const row: string[] = [];
    for (let j = i; j < Math.min(words.length, i + 8); j++) row.push(`0x${(words[j] >>> 0).toString(16).padStart(8, '0')}u`);
    out.push(`    ${row.join(', ')}`);
  }
  return out.join(',\n');
}

function i32Array(values: ArrayLike<number>): string {
  const items = Array.from(values, (v) => (v === -2147483648 ? '(-2147483647 - 1)' : String(v)));
  const out: string[] = [];
  for (let i = 0; i < items.length; i += 12) out.push(`    ${items.slice(i, i + 12).join(', ')}`);
  return out.join(',\n');
}

/** A float32 as a C literal that reads back to the same float (9 significant digits suffice). */
function floatLiteral(v: number): string {
  if (Object.is(v, -0)) return '-0.0f';
  let s = Math.fround(v).toPrecision(9);
  if (!/[.e]/.test(s)) s += '.0';
  return `${s}f`;
}

function f32Array(values: ArrayLike<number>): string {
  const items = Array.from(values, floatLiteral);
  const out: string[] = [];
  for (let i = 0; i < items.length; i += 6) out.push(`    ${items.slice(i, i + 6).join(', ')}`);
  return out.join(',\n');
}

/** A C string literal: printable ASCII as is, everything else as octal escapes of its UTF-8 bytes. */
export function cString(s: string): string {
  let out = '"';
  for (const byte of Buffer.from(s, 'utf8')) {
    const ch = String.fromCharCode(byte);
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (byte >= 0x20 && byte < 0x7f && ch !== '?')
      out += ch; // '?' could start a trigraph
    else out += `\\${byte.toString(8).padStart(3, '0')}`;
  }
  return `${out}"`;
}

/**
 * Batch norm + sign arrive as `flip ? x <= t : x >= t`. For flip the test becomes
 * NOT(x >= t + 1), so every channel is `(x >= t') XOR flip`: one comparison per output and one
 * XOR per output word. t + 1 saturates at INT32_MAX, which no |x| <= 2^31 - 2 reaches: correct
 * for the engine's constant channels too.
 */
function foldThresholds(thresholds: Int32Array, flip: Uint8Array): { thr: Int32Array; flipWords: Uint32Array } {
  const thr = new Int32Array(thresholds.length);
  const flipWords = new Uint32Array(wordsForChannels(thresholds.length));
  for (let o = 0; o < thresholds.length; o++) {
    if (flip[o]) {
      thr[o] = thresholds[o] === 2147483647 ? 2147483647 : thresholds[o] + 1;
      flipWords[o >>> 5] |= 1 << (o & 31);
    } else {
      thr[o] = thresholds[o];
    }
  }
  return { thr, flipWords };
}

/** Words of an activation stored as one dense bit vector. */
const bitsWords = (s: ActivationShape): number => wordsForChannels(s.height * s.width * s.channels);

export function emitC(model: EngineModel, options: EmitOptions = {}): CExport {
  const shapes = activationShapes(model);
  const { input } = model;
  const channels = input.layout.channels.length;
  model.layers.forEach((layer, i) => {
    if (layer.type === 'conv_real')
      unsupportedLayer(model, i, TARGET, 'a real-valued (float) first layer needs float math, which the C library keeps to the last layer', options.file);
    if (!isBinaryLayer(layer) && layer.type !== 'maxpool2') unsupportedLayer(model, i, TARGET, 'no C kernel for this layer type', options.file);
  });
  if (input.features > 255 || channels > 255)
    unsupportedLayer(model, 0, TARGET, `${input.features} planes of ${channels} channels exceed the uint8 plane tables`, options.file);

  const data: string[] = [];
  const calls: string[] = [];
  const layers: CLayerSummary[] = [];
  let constBytes = 2 * input.features;
  // Activation k lives in ping-pong region k % 2; region sizes are the largest activation each holds.
  const regionWords = [0, 0];
  let act = 0;
  const region = (k: number): string => (k % 2 === 0 ? 'cbnn_act' : 'cbnn_act + CBNN_REGION0_WORDS');
  const place = (words: number): string => {
    act++;
    regionWords[act % 2] = Math.max(regionWords[act % 2], words);
    return region(act);
  };
  let scratchWords = 0;
  const used = new Set<CKernel>(['slice']);

  let shape: ActivationShape = { height: input.height, width: input.width, channels: input.features };
  regionWords[0] = bitsWords(shape);
  calls.push(`    cbnn_slice(pixels, ${region(0)});`);
  // A maxpool2 right after a conv is done inside the conv (never stored at full size).
  let fusedPool = false;

  model.layers.forEach((layer, i) => {
    const next = shapes[i];
    const name = `cbnn_l${i}`;
    let bytes = 0;
    const from = region(act);
    switch (layer.type) {
      case 'conv': {
        const { words, rowWords } = packRows(layerBits(layer));
        const { thr, flipWords } = foldThresholds(layer.thresholds, layer.flip);
        data.push(
          `/* layer ${i}: conv 3x3 ${layer.padding}, ${layer.inC} -> ${layer.outC} channels; weights [${layer.outC}][${rowWords}]: bit t*${layer.inC}+c = tap t, channel c */`,
        );
        data.push(`static const uint32_t ${name}_weights[${words.length}] = {\n${u32Array(words)}\n};`);
        data.push(`static const int32_t ${name}_thresholds[${thr.length}] = {\n${i32Array(thr)}\n};`);
        data.push(`static const uint32_t ${name}_flip[${flipWords.length}] = {\n${u32Array(flipWords)}\n};`);
        data.push(
          `static const cbnn_conv ${name} = { ${shape.height}u, ${shape.width}u, ${layer.inC}u, ${layer.padding === 'same' ? 1 : 0}u, ${layer.outC}u, ${name}_weights, ${name}_thresholds, ${name}_flip };`,
        );
        bytes = 4 * (words.length + thr.length + flipWords.length);
        scratchWords = Math.max(scratchWords, rowWords);
        fusedPool = model.layers[i + 1]?.type === 'maxpool2';
        const kernel: CKernel = fusedPool ? 'conv3x3_pool2' : 'conv3x3';
        used.add(kernel);
        const to = place(bitsWords(fusedPool ? shapes[i + 1] : next));
        calls.push(`    cbnn_${kernel}(&${name}, ${from}, ${to});`);
        break;
      }
      case 'maxpool2': {
        if (fusedPool) {
          fusedPool = false;
          break;
        }
        used.add('maxpool2');
        const to = place(bitsWords(next));
        calls.push(`    cbnn_maxpool2(${from}, ${shape.height}u, ${shape.width}u, ${shape.channels}u, ${to});`);
        break;
      }
      case 'dense':
      case 'dense_out': {
        // Activations are already in the flatten order (h*W + w)*C + c.
        const { words } = packRows(layerBits(layer));
        data.push(`/* layer ${i}: ${layer.type}, ${layer.inBits} -> ${layer.outC}; weights [${layer.outC}][${wordsForChannels(layer.inBits)}] */`);
        data.push(`static const uint32_t ${name}_weights[${words.length}] = {\n${u32Array(words)}\n};`);
        used.add(layer.type);
        if (layer.type === 'dense') {
          const { thr, flipWords } = foldThresholds(layer.thresholds, layer.flip);
          data.push(`static const int32_t ${name}_thresholds[${thr.length}] = {\n${i32Array(thr)}\n};`);
          data.push(`static const uint32_t ${name}_flip[${flipWords.length}] = {\n${u32Array(flipWords)}\n};`);
          bytes = 4 * (words.length + thr.length + flipWords.length);
          const to = place(wordsForChannels(layer.outC));
          calls.push(`    cbnn_dense(${from}, ${layer.inBits}u, ${name}_weights, ${layer.outC}u, ${name}_thresholds, ${name}_flip, ${to});`);
        } else {
          data.push(`static const float ${name}_scale[${layer.outC}] = {\n${f32Array(layer.scale)}\n};`);
          data.push(`static const float ${name}_bias[${layer.outC}] = {\n${f32Array(layer.bias)}\n};`);
          bytes = 4 * (words.length + 2 * layer.outC);
          calls.push(`    cbnn_dense_out(${from}, ${layer.inBits}u, ${name}_weights, ${layer.outC}u, ${name}_scale, ${name}_bias, s);`);
        }
        break;
      }
    }
    layers.push({ index: i, type: layer.type, output: next, constBytes: bytes });
    constBytes += bytes;
    shape = next;
  });

  const scratch = scratchWords > 0 ? scratchWords + 1 : 0;
  const activationWords = regionWords[0] + regionWords[1];
  const planeList = input.layout.planes.map((p) => planeLabel(p)).join(', ');
  const generatedBy = `Generated by 'cbnn export c'${options.source ? ` from ${options.source}` : ''}. Do not edit.`;

  const header = `/* ${generatedBy}
 * Compact binary neural network: ${model.layers.length} layers, ${model.classNames.length} classes.
 * Input: ${input.height}x${input.width}x${channels} uint8 pixels (channels last: ${input.layout.channels.join(', ')}).
 * Kept bit planes (${input.features}): ${planeList}. */
#ifndef CBNN_MODEL_H
#define CBNN_MODEL_H

#include <stdint.h>

#define CBNN_HEIGHT ${input.height}
#define CBNN_WIDTH ${input.width}
#define CBNN_CHANNELS ${channels}
/* Bytes of one input image. */
#define CBNN_INPUT_BYTES ${input.height * input.width * channels}
#define CBNN_PLANES ${input.features}
#define CBNN_CLASSES ${model.classNames.length}
/* Static RAM of model.c: activation buffer + conv scratch. */
#define CBNN_RAM_BYTES ${4 * (activationWords + 2 * scratch)}

/* Plane k of the network's input is bit cbnn_plane_bit[k] (7 = most significant) of channel
 * cbnn_plane_channel[k]. */
extern const uint8_t cbnn_plane_channel[CBNN_PLANES];
extern const uint8_t cbnn_plane_bit[CBNN_PLANES];
extern const char *const cbnn_channel_names[CBNN_CHANNELS];
extern const char *const cbnn_class_names[CBNN_CLASSES];

/* Classify one image of CBNN_INPUT_BYTES bytes (H x W x C, channels last). Returns the index of
 * the highest score (the first on ties) and, unless scores is NULL, writes the CBNN_CLASSES
 * scores. Uses one static activation buffer: not reentrant, no heap. */
int cbnn_predict(const uint8_t *pixels, float *scores);

#endif
`;

  const source = `/* ${generatedBy} */
#include <stdint.h>
#include <string.h>
#include "model.h"

const uint8_t cbnn_plane_channel[CBNN_PLANES] = { ${input.layout.planes.map((p) => p.channelIndex).join(', ')} };
const uint8_t cbnn_plane_bit[CBNN_PLANES] = { ${input.layout.planes.map((p) => p.bit).join(', ')} };
const char *const cbnn_channel_names[CBNN_CHANNELS] = { ${input.layout.channels.map(cString).join(', ')} };
const char *const cbnn_class_names[CBNN_CLASSES] = { ${model.classNames.map(cString).join(', ')} };

/* Activations: region 0 holds the even steps' outputs, region 1 the odd ones'. */
#define CBNN_REGION0_WORDS ${regionWords[0]}u
static uint32_t cbnn_act[${activationWords}];
${
  scratch > 0
    ? `/* A conv window's bit row and the mask of its valid taps. One word more than the row needs:
 * no write reaches it, but GCC's -Warray-bounds cannot see that a gather never spills past the
 * row when the row is one word. */\nstatic uint32_t cbnn_col[${scratch}];\nstatic uint32_t cbnn_mask[${scratch}];\n`
    : ''
}${cKernels(used)}
${data.join('\n')}

int cbnn_predict(const uint8_t *pixels, float *scores)
{
    float local[CBNN_CLASSES];
    float *s = scores != NULL ? scores : local;
    int c, best = 0;
${calls.join('\n')}
    for (c = 1; c < CBNN_CLASSES; c++) {
        if (s[c] > s[best]) best = c;
    }
    return best;
}
`;

  const makefile = `# ${generatedBy}
CC ?= cc
CFLAGS ?= -std=c99 -O2 -Wall -Wextra

predict: main.c model.c model.h
\t$(CC) $(CFLAGS) main.c model.c -o $@

clean:
\trm -f predict
`;

  return {
    sources: { 'model.h': header, 'model.c': source, 'main.c': C_MAIN, Makefile: makefile },
    layers,
    constBytes,
    ram: { activationBytes: 4 * activationWords, scratchBytes: 8 * scratch, totalBytes: 4 * (activationWords + 2 * scratch) },
  };
}
