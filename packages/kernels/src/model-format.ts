import * as fs from 'node:fs';
import { z } from 'zod';
import {
  CorruptArtifactError,
  InvalidInputError,
  decodeArtifact,
  encodeArtifact,
  parseOrThrow,
  wordsForChannels,
  writeFileAtomicSync,
  type PlaneLayout,
} from '@cbnn/core';

/**
 * The engine model file `model.cbnn` (docs/contracts.md, "Engine model file"): core's artifact
 * header with kind `MODL`, then this payload (little-endian):
 *
 *    0  4  byte length L of the JSON block
 *    4  L  JSON block (UTF-8): format tag, input, class names, layer list without arrays
 *    .  .  zero padding to a multiple of 8 bytes
 *    .  .  the layers' arrays, in layer order; within a layer in the order they are listed in
 *          `layerArrays`; every array starts on a 4-byte boundary (zero padding between).
 *          Array lengths are implied by the shapes, so the payload length is checked exactly.
 *
 * Version 2 stores every binary weight array as a dense bit stream over its real bits: conv
 * weights as outC x 9 taps x inC bits (bit ((o*9 + t)*inC + c), tap t = dy*3 + dx), dense
 * weights as outC x inBits bits; bit i in byte i >> 3 at bit i & 7, bit 1 = +1, ceil(bits/8)
 * bytes. So the first layer on P kept planes weighs 9*P bits per output channel, and a model on
 * fewer planes is smaller by exactly what the planes weigh (plus their entries in the JSON
 * layout). Version 1 stored them in core's packing, one 32-bit word per 32 channels of every
 * tap or row (a first layer on 1 to 32 planes weighed the same); it is still read.
 *
 * In memory (the interfaces below, what readEngineModel returns and the kernels and exporters
 * use) binary weights are always in core's packing: [rows][words(bits)] u32, 32 channels per
 * word, padding bits 0. The dense stream exists only in the file. A weight word whose padding
 * bits are not 0 is rejected because the kernels rely on it.
 */
export const ENGINE_MODEL_KIND = 'MODL';
export const ENGINE_MODEL_FORMAT_VERSION = 2;
/** Versions readEngineModel reads: 1 (word-per-tap weights) and 2 (dense bit streams). */
export const ENGINE_MODEL_READ_VERSIONS: readonly number[] = [1, 2];
export const ENGINE_MODEL_FILE = 'model.cbnn';
const FORMAT_TAG = 'cbnn.engine-model';

export type Padding = 'same' | 'valid';

/**
 * Binary conv 3x3 stride 1 on packed bits. weights [outC][3][3][words(inC)] u32 in core's
 * packing (channel c of tap (dy, dx) of output o at bit c % 32 of word
 * ((o*3 + dy)*3 + dx)*words(inC) + c/32; padding bits 0), in memory for every layer, the first
 * one on planes included (its inC = the kept planes, in the order of input.layout.planes).
 * thresholds/flip: the folded batch norm + sign, bit = flip ? x <= t : x >= t.
 */
export interface ConvLayer {
  type: 'conv';
  inC: number;
  outC: number;
  padding: Padding;
  weights: Uint32Array;
  thresholds: Int32Array;
  flip: Uint8Array;
}

/** Real-valued first layer on ±1 planes. weights [outC][3][3][inC]; bit = scale*x + bias >= 0. */
export interface ConvRealLayer {
  type: 'conv_real';
  inC: number;
  outC: number;
  padding: Padding;
  weights: Float32Array;
  scale: Float32Array;
  bias: Float32Array;
}

/** 2x2 stride 2 (floor) max-pool: an OR of bits. */
export interface MaxPoolLayer {
  type: 'maxpool2';
}

/** Binary dense on the flattened (h*W + w)*C + c bits. weights [outC][words(inBits)] u32, core's packing. */
export interface DenseLayer {
  type: 'dense';
  inBits: number;
  outC: number;
  weights: Uint32Array;
  thresholds: Int32Array;
  flip: Uint8Array;
}

/** Last layer: real scores = scale*x + bias. weights [outC][words(inBits)]. */
export interface DenseOutLayer {
  type: 'dense_out';
  inBits: number;
  outC: number;
  weights: Uint32Array;
  scale: Float32Array;
  bias: Float32Array;
}

export type EngineLayer = ConvLayer | ConvRealLayer | MaxPoolLayer | DenseLayer | DenseOutLayer;
export type EngineLayerType = EngineLayer['type'];
/** The layer types the engine runs, in the order docs/contracts.md lists them. */
export const ENGINE_LAYER_TYPES: readonly EngineLayerType[] = ['conv', 'conv_real', 'maxpool2', 'dense', 'dense_out'];

export interface EngineModelInput {
  height: number;
  width: number;
  /** Dataset channel names and the ordered planes (features) the model reads. */
  layout: PlaneLayout;
  /** = layout.planes.length */
  features: number;
}

export interface EngineModel {
  input: EngineModelInput;
  classNames: string[];
  layers: EngineLayer[];
  /** Free-form provenance (producer, arch, width, ...); not used by the engine. */
  meta?: Record<string, unknown>;
}

/** Activation shape between layers: H x W x C bits (after a dense layer, 1 x 1 x outC). */
export interface ActivationShape {
  height: number;
  width: number;
  channels: number;
}

type ArrayKind = 'u32' | 'i32' | 'u8' | 'f32';
interface ArraySpec {
  name: string;
  kind: ArrayKind;
  length: number;
}

/** Arrays of each layer, in file order, with the length its shape implies. */
export function layerArrays(layer: EngineLayer): ArraySpec[] {
  switch (layer.type) {
    case 'conv':
      return [
        { name: 'weights', kind: 'u32', length: layer.outC * 9 * wordsForChannels(layer.inC) },
        { name: 'thresholds', kind: 'i32', length: layer.outC },
        { name: 'flip', kind: 'u8', length: layer.outC },
      ];
    case 'conv_real':
      return [
        { name: 'weights', kind: 'f32', length: layer.outC * 9 * layer.inC },
        { name: 'scale', kind: 'f32', length: layer.outC },
        { name: 'bias', kind: 'f32', length: layer.outC },
      ];
    case 'maxpool2':
      return [];
    case 'dense':
      return [
        { name: 'weights', kind: 'u32', length: layer.outC * wordsForChannels(layer.inBits) },
        { name: 'thresholds', kind: 'i32', length: layer.outC },
        { name: 'flip', kind: 'u8', length: layer.outC },
      ];
    case 'dense_out':
      return [
        { name: 'weights', kind: 'u32', length: layer.outC * wordsForChannels(layer.inBits) },
        { name: 'scale', kind: 'f32', length: layer.outC },
        { name: 'bias', kind: 'f32', length: layer.outC },
      ];
  }
}

const BYTES: Record<ArrayKind, number> = { u32: 4, i32: 4, u8: 1, f32: 4 };

/** A binary weight array as rows of `bits` bits: [rows][words(bits)] in memory. */
function weightRows(layer: EngineLayer): { rows: number; bits: number } | undefined {
  switch (layer.type) {
    case 'conv':
      return { rows: layer.outC * 9, bits: layer.inC };
    case 'dense':
    case 'dense_out':
      return { rows: layer.outC, bits: layer.inBits };
    default:
      return undefined;
  }
}

/** Bytes of an array in a file of `version` (before the 4-byte alignment of the next array). */
function fileBytes(layer: EngineLayer, spec: ArraySpec, version: number): number {
  const w = spec.name === 'weights' && version >= 2 ? weightRows(layer) : undefined;
  return w ? Math.ceil((w.rows * w.bits) / 8) : spec.length * BYTES[spec.kind];
}

/** Core-packed rows [rows][words(bits)] -> one dense little-endian bit stream of rows*bits bits. */
export function packWeightBits(words: Uint32Array, rows: number, bits: number): Uint8Array {
  const wpr = wordsForChannels(bits);
  const total = rows * bits;
  const dense = new Uint32Array(Math.ceil(total / 32) + 1);
  let at = 0;
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < wpr; k++) {
      const n = Math.min(32, bits - k * 32);
      const v = n === 32 ? words[r * wpr + k] : words[r * wpr + k] & ((1 << n) - 1);
      const sh = at & 31;
      dense[at >>> 5] |= v << sh;
      if (sh > 0) dense[(at >>> 5) + 1] |= v >>> (32 - sh);
      at += n;
    }
  }
  return new Uint8Array(dense.buffer, 0, Math.ceil(total / 8));
}

/** The inverse of packWeightBits; `bytes` may be unaligned. Bits past rows*bits must be 0. */
export function unpackWeightBits(bytes: Uint8Array, rows: number, bits: number): { words: Uint32Array; trailingBitsZero: boolean } {
  const wpr = wordsForChannels(bits);
  const total = rows * bits;
  const dense = new Uint32Array(Math.ceil(total / 32) + 1);
  new Uint8Array(dense.buffer).set(bytes.subarray(0, Math.ceil(total / 8)));
  const words = new Uint32Array(rows * wpr);
  let at = 0;
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < wpr; k++) {
      const n = Math.min(32, bits - k * 32);
      const sh = at & 31;
      let v = dense[at >>> 5] >>> sh;
      if (sh > 0) v |= dense[(at >>> 5) + 1] << (32 - sh);
      words[r * wpr + k] = (n === 32 ? v : v & ((1 << n) - 1)) >>> 0;
      at += n;
    }
  }
  const rem = total % 8;
  const trailingBitsZero = rem === 0 || bytes[Math.ceil(total / 8) - 1] >> rem === 0;
  return { words, trailingBitsZero };
}

/** Bytes of each layer's arrays in a file of the current version (alignment padding included). */
export function layerFileBytes(layer: EngineLayer, version = ENGINE_MODEL_FORMAT_VERSION): number {
  return layerArrays(layer).reduce((s, spec) => s + align(fileBytes(layer, spec, version), 4), 0);
}
const align = (n: number, a: number): number => Math.ceil(n / a) * a;

const positiveInt = z.number().int().positive();
const layerMetaSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('conv'), inC: positiveInt, outC: positiveInt, padding: z.enum(['same', 'valid']) }),
  z.object({ type: z.literal('conv_real'), inC: positiveInt, outC: positiveInt, padding: z.enum(['same', 'valid']) }),
  z.object({ type: z.literal('maxpool2') }),
  z.object({ type: z.literal('dense'), inBits: positiveInt, outC: positiveInt }),
  z.object({ type: z.literal('dense_out'), inBits: positiveInt, outC: positiveInt }),
]);

const metaSchema = z.object({
  format: z.literal(FORMAT_TAG),
  input: z.object({
    height: positiveInt,
    width: positiveInt,
    features: positiveInt,
    layout: z.object({
      channels: z.array(z.string().min(1)).min(1),
      planes: z.array(z.object({ channel: z.string().min(1), channelIndex: z.number().int().min(0), bit: z.number().int().min(0).max(7) })).min(1),
    }),
  }),
  classNames: z.array(z.string()).min(2),
  layers: z.array(layerMetaSchema).min(1),
  meta: z.record(z.string(), z.unknown()).optional(),
});

function bad(message: string, file: string, field?: string): never {
  throw new InvalidInputError(message, { file, field });
}

/**
 * Check that the model is consistent: plane layout, layer chain shapes, array lengths, flip
 * values, weight padding bits, finite floats. Returns the activation shape after each layer
 * (index i = output of layer i). `source` names the file (or 'model') in error messages.
 */
export function validateEngineModel(model: EngineModel, source = 'model'): ActivationShape[] {
  const { input, layers, classNames } = model;
  if (!Number.isInteger(input.height) || input.height < 1 || !Number.isInteger(input.width) || input.width < 1) {
    bad(`input size must be positive integers, got ${input.height}x${input.width}`, source, 'input');
  }
  if (input.features !== input.layout.planes.length) {
    bad(`input.features is ${input.features} but the plane layout lists ${input.layout.planes.length} planes`, source, 'input.features');
  }
  input.layout.planes.forEach((p, i) => {
    if (input.layout.channels[p.channelIndex] !== p.channel) {
      bad(
        `plane ${i} names channel '${p.channel}' at index ${p.channelIndex}, but channel ${p.channelIndex} is '${input.layout.channels[p.channelIndex]}'`,
        source,
        `input.layout.planes[${i}]`,
      );
    }
  });
  if (classNames.length < 2) bad(`a model needs at least 2 classes, got ${classNames.length}`, source, 'classNames');
  if (layers.length === 0) bad('the model has no layers', source, 'layers');

  const shapes: ActivationShape[] = [];
  let shape: ActivationShape = { height: input.height, width: input.width, channels: input.features };
  let flattened = false;
  layers.forEach((layer, i) => {
    const field = `layers[${i}]`;
    const last = i === layers.length - 1;
    if (layer.type === 'dense_out' && !last) bad(`'dense_out' must be the last layer, found at index ${i} of ${layers.length}`, source, field);
    if (last && layer.type !== 'dense_out') bad(`the last layer must be 'dense_out' (real scores), found '${layer.type}'`, source, field);
    switch (layer.type) {
      case 'conv':
      case 'conv_real': {
        if (layer.type === 'conv_real' && i !== 0) bad(`'conv_real' is only allowed as the first layer, found at index ${i}`, source, field);
        if (flattened) bad(`'${layer.type}' after a dense layer`, source, field);
        if (layer.inC !== shape.channels) bad(`inC is ${layer.inC} but the layer's input has ${shape.channels} channels`, source, `${field}.inC`);
        checkPositive(layer.outC, source, `${field}.outC`);
        if (layer.padding !== 'same' && layer.padding !== 'valid')
          bad(`padding must be 'same' or 'valid', got '${String(layer.padding)}'`, source, `${field}.padding`);
        const shrink = layer.padding === 'valid' ? 2 : 0;
        if (shape.height - shrink < 1 || shape.width - shrink < 1) {
          bad(`a 'valid' 3x3 conv needs at least 3x3 input, got ${shape.height}x${shape.width}`, source, field);
        }
        shape = { height: shape.height - shrink, width: shape.width - shrink, channels: layer.outC };
        break;
      }
      case 'maxpool2':
        if (flattened) bad(`'maxpool2' after a dense layer`, source, field);
        if (shape.height < 2 || shape.width < 2) bad(`'maxpool2' needs at least 2x2 input, got ${shape.height}x${shape.width}`, source, field);
        shape = { height: Math.floor(shape.height / 2), width: Math.floor(shape.width / 2), channels: shape.channels };
        break;
      case 'dense':
      case 'dense_out': {
        const bits = shape.height * shape.width * shape.channels;
        if (layer.inBits !== bits) {
          bad(
            `inBits is ${layer.inBits} but the flattened input has ${shape.height}*${shape.width}*${shape.channels} = ${bits} bits`,
            source,
            `${field}.inBits`,
          );
        }
        checkPositive(layer.outC, source, `${field}.outC`);
        flattened = true;
        shape = { height: 1, width: 1, channels: layer.outC };
        break;
      }
      default:
        bad(`unknown layer type '${(layer as { type: string }).type}': the engine runs ${ENGINE_LAYER_TYPES.join(', ')}`, source, `${field}.type`);
    }
    checkArrays(layer, source, field);
    shapes.push(shape);
  });
  const out = layers[layers.length - 1] as DenseOutLayer;
  if (out.outC !== classNames.length)
    bad(`the last layer has ${out.outC} outputs but the model names ${classNames.length} classes`, source, `layers[${layers.length - 1}].outC`);
  return shapes;
}

function checkPositive(n: number, source: string, field: string): void {
  if (!Number.isInteger(n) || n < 1) bad(`must be a positive integer, got ${n}`, source, field);
}

const CTOR: Record<ArrayKind, new (n: number) => Uint32Array | Int32Array | Uint8Array | Float32Array> = {
  u32: Uint32Array,
  i32: Int32Array,
  u8: Uint8Array,
  f32: Float32Array,
};

function checkArrays(layer: EngineLayer, source: string, field: string): void {
  const record = layer as unknown as Record<string, unknown>;
  for (const spec of layerArrays(layer)) {
    const arr = record[spec.name];
    const f = `${field}.${spec.name}`;
    if (!(arr instanceof CTOR[spec.kind])) bad(`expected a ${CTOR[spec.kind].name}`, source, f);
    const typed = arr as ArrayLike<number>;
    if (typed.length !== spec.length) bad(`expected ${spec.length} values for this shape, got ${typed.length}`, source, f);
    if (spec.kind === 'f32') {
      for (let i = 0; i < typed.length; i++) if (!Number.isFinite(typed[i])) bad(`value ${i} is not finite (${typed[i]})`, source, f);
    }
    if (spec.name === 'flip') {
      for (let i = 0; i < typed.length; i++) if (typed[i] > 1) bad(`flip values must be 0 or 1, value ${i} is ${typed[i]}`, source, f);
    }
  }
  if (layer.type === 'conv' || layer.type === 'dense' || layer.type === 'dense_out') {
    const bits = layer.type === 'conv' ? layer.inC : layer.inBits;
    const words = wordsForChannels(bits);
    const rem = bits % 32;
    if (rem !== 0) {
      const mask = ~((1 << rem) - 1) >>> 0;
      for (let g = words - 1; g < layer.weights.length; g += words) {
        if ((layer.weights[g] & mask) !== 0) {
          bad(`padding bits (channels ${bits}..${words * 32 - 1}) of weight word ${g} are not 0`, source, `${field}.weights`);
        }
      }
    }
  }
}

/**
 * Serialise a model (validated first) to the artifact bytes, header included. `version` 1 (the
 * old word-per-tap layout) exists for tests of the reader; files are written in version 2.
 */
export function encodeEngineModel(model: EngineModel, version: number = ENGINE_MODEL_FORMAT_VERSION): Uint8Array {
  if (!ENGINE_MODEL_READ_VERSIONS.includes(version)) throw new Error(`engine model format version ${version} cannot be written`);
  validateEngineModel(model);
  const meta = {
    format: FORMAT_TAG,
    input: {
      height: model.input.height,
      width: model.input.width,
      features: model.input.features,
      layout: {
        channels: [...model.input.layout.channels],
        planes: model.input.layout.planes.map((p) => ({ channel: p.channel, channelIndex: p.channelIndex, bit: p.bit })),
      },
    },
    classNames: [...model.classNames],
    layers: model.layers.map(layerMeta),
    ...(model.meta ? { meta: model.meta } : {}),
  };
  const json = Buffer.from(JSON.stringify(meta), 'utf8');
  let offset = align(4 + json.length, 8);
  const placements: Array<{ offset: number; bytes: Uint8Array }> = [];
  for (const layer of model.layers) {
    const record = layer as unknown as Record<string, ArrayBufferView>;
    for (const spec of layerArrays(layer)) {
      const view = record[spec.name];
      const w = spec.name === 'weights' && version >= 2 ? weightRows(layer) : undefined;
      const bytes = w ? packWeightBits(view as Uint32Array, w.rows, w.bits) : new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
      placements.push({ offset, bytes });
      offset = align(offset + fileBytes(layer, spec, version), 4);
    }
  }
  const payload = new Uint8Array(offset);
  new DataView(payload.buffer).setUint32(0, json.length, true);
  payload.set(json, 4);
  // Typed arrays are little-endian on every platform Node runs on; the format is little-endian.
  for (const p of placements) payload.set(p.bytes, p.offset);
  return encodeArtifact(ENGINE_MODEL_KIND, version, payload);
}

function layerMeta(layer: EngineLayer): z.infer<typeof layerMetaSchema> {
  switch (layer.type) {
    case 'conv':
    case 'conv_real':
      return { type: layer.type, inC: layer.inC, outC: layer.outC, padding: layer.padding };
    case 'maxpool2':
      return { type: 'maxpool2' };
    case 'dense':
    case 'dense_out':
      return { type: layer.type, inBits: layer.inBits, outC: layer.outC };
  }
}

/** Parse artifact bytes: header, version, checksum, JSON block, arrays, consistency. */
export function decodeEngineModel(bytes: Uint8Array, file: string): EngineModel {
  const { header, payload } = decodeArtifact(bytes, file, { kind: ENGINE_MODEL_KIND, versions: [...ENGINE_MODEL_READ_VERSIONS] });
  const version = header.version;
  if (payload.length < 4) throw new CorruptArtifactError(`engine model payload is ${payload.length} bytes, too short for its JSON block length`, file);
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const jsonLength = view.getUint32(0, true);
  if (4 + jsonLength > payload.length) {
    throw new CorruptArtifactError(`engine model JSON block of ${jsonLength} bytes runs past the ${payload.length}-byte payload`, file);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(payload.subarray(4, 4 + jsonLength)).toString('utf8'));
  } catch (e) {
    throw new CorruptArtifactError(`engine model JSON block does not parse: ${(e as Error).message}`, file);
  }
  const meta = parseOrThrow(metaSchema, raw, 'engine model header block', { file });
  let offset = align(4 + jsonLength, 8);
  const layers: EngineLayer[] = meta.layers.map((lm) => {
    const layer = { ...lm } as Record<string, unknown>;
    for (const spec of layerArrays(lm as EngineLayer)) {
      const byteLength = fileBytes(lm as EngineLayer, spec, version);
      if (offset + byteLength > payload.length) {
        throw new CorruptArtifactError(`engine model arrays need more than the ${payload.length}-byte payload (the layer list and the arrays disagree)`, file);
      }
      const w = spec.name === 'weights' && version >= 2 ? weightRows(lm as EngineLayer) : undefined;
      if (w) {
        const unpacked = unpackWeightBits(payload.subarray(offset, offset + byteLength), w.rows, w.bits);
        if (!unpacked.trailingBitsZero)
          throw new CorruptArtifactError(`engine model layer '${lm.type}': bits past the end of its weight stream are not 0`, file);
        layer[spec.name] = unpacked.words;
      } else {
        // Copy into a fresh, aligned buffer: the engine keeps these, and the file buffer may not be aligned.
        const copy = new CTOR[spec.kind](spec.length);
        new Uint8Array(copy.buffer).set(payload.subarray(offset, offset + byteLength));
        layer[spec.name] = copy;
      }
      offset = align(offset + byteLength, 4);
    }
    return layer as unknown as EngineLayer;
  });
  if (offset !== payload.length) {
    throw new CorruptArtifactError(`engine model payload is ${payload.length} bytes but its layers account for ${offset}`, file);
  }
  const model: EngineModel = {
    input: meta.input,
    classNames: meta.classNames,
    layers,
    ...(meta.meta ? { meta: meta.meta } : {}),
  };
  validateEngineModel(model, file);
  return model;
}

/** Write `model.cbnn` atomically (validated first: an inconsistent model is never written). */
export function writeEngineModel(file: string, model: EngineModel): void {
  let bytes: Uint8Array;
  try {
    bytes = encodeEngineModel(model);
  } catch (e) {
    if (e instanceof InvalidInputError) throw new InvalidInputError(e.message, { ...e.location, file }, e.hint);
    throw e;
  }
  writeFileAtomicSync(file, bytes);
}

/** Read and validate `model.cbnn`; any damage is a CorruptArtifactError or InvalidInputError naming the file. */
export function readEngineModel(file: string): EngineModel {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new CorruptArtifactError(`cannot read engine model: ${(e as Error).message}`, file);
  }
  return decodeEngineModel(bytes, file);
}

/** Activation shapes of a (validated) model: index i = output of layer i. */
export function activationShapes(model: EngineModel): ActivationShape[] {
  return validateEngineModel(model);
}
