import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { CorruptArtifactError, InvalidInputError, encodeArtifact, ARTIFACT_HEADER_SIZE } from '@cbnn/core';
import {
  ENGINE_MODEL_FORMAT_VERSION,
  decodeEngineModel,
  encodeEngineModel,
  layerFileBytes,
  packWeightBits,
  unpackWeightBits,
  readEngineModel,
  randomEngineModel,
  vggSmallLayers,
  writeEngineModel,
  type EngineModel,
} from '../src';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cbnn-kernels-format-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function smallModel(seed = 3): EngineModel {
  return randomEngineModel({
    height: 9,
    width: 7,
    features: 5,
    classes: 3,
    seed,
    layers: [{ type: 'conv_real', outC: 33, padding: 'same' }, { type: 'conv', outC: 20, padding: 'valid' }, { type: 'maxpool2' }, { type: 'dense', outC: 37 }],
  });
}

describe('engine model file', () => {
  it('round-trips every layer type exactly', () => {
    const file = path.join(tmp, 'small.cbnn');
    const model = { ...smallModel(), meta: { producer: 'test' } };
    writeEngineModel(file, model);
    const back = readEngineModel(file);
    expect(back).toEqual(model);
    expect(back.layers[1]).toMatchObject({ type: 'conv', inC: 33, outC: 20, padding: 'valid' });
  });

  it('round-trips random VGG-small shaped models', () => {
    fc.assert(
      fc.property(fc.constantFrom(0.25, 0.5), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 0, max: 1000 }), (w, features, seed) => {
        const model = randomEngineModel({ height: 12, width: 12, features, classes: 10, seed, layers: vggSmallLayers(w) });
        expect(decodeEngineModel(encodeEngineModel(model), 'mem')).toEqual(model);
      }),
      { numRuns: 10 },
    );
  });

  it('rejects a truncated file', () => {
    const file = path.join(tmp, 'trunc.cbnn');
    const bytes = encodeEngineModel(smallModel());
    fs.writeFileSync(file, bytes.subarray(0, bytes.length - 10));
    expect(() => readEngineModel(file)).toThrow(CorruptArtifactError);
    expect(() => readEngineModel(file)).toThrow(/truncated/);
    fs.writeFileSync(file, bytes.subarray(0, 20));
    expect(() => readEngineModel(file)).toThrow(/shorter than the 64-byte/);
  });

  it('rejects a tampered file (checksum)', () => {
    const file = path.join(tmp, 'tampered.cbnn');
    const bytes = encodeEngineModel(smallModel());
    bytes[bytes.length - 5] ^= 0x10;
    fs.writeFileSync(file, bytes);
    expect(() => readEngineModel(file)).toThrow(/checksum mismatch/);
  });

  it('rejects another format version and another kind', () => {
    const file = path.join(tmp, 'v3.cbnn');
    const bytes = encodeEngineModel(smallModel());
    new DataView(bytes.buffer).setUint16(8, 3, true);
    fs.writeFileSync(file, bytes);
    expect(() => readEngineModel(file)).toThrow(/format version 3 is not supported \(this build reads version 1, 2\)/);
    try {
      readEngineModel(file);
    } catch (e) {
      expect((e as CorruptArtifactError).hint).toMatch(/rebuild/);
    }
    const dset = encodeArtifact('DSET', 1, bytes.subarray(ARTIFACT_HEADER_SIZE));
    expect(() => decodeEngineModel(dset, 'x.cbnn')).toThrow(/expected a 'MODL' artifact/);
  });

  it('rejects a layer list that disagrees with the arrays (valid checksum)', () => {
    const bytes = encodeEngineModel(smallModel());
    const payload = bytes.subarray(ARTIFACT_HEADER_SIZE);
    const len = new DataView(payload.buffer, payload.byteOffset).getUint32(0, true);
    const meta = JSON.parse(Buffer.from(payload.subarray(4, 4 + len)).toString());
    meta.layers[1].outC = 21; // more weights than stored, and the next layer's input disagrees
    const json = Buffer.from(JSON.stringify(meta).padEnd(len, ' '));
    const edited = new Uint8Array(payload);
    edited.set(json.subarray(0, len), 4);
    expect(json.length).toBe(len);
    expect(() => decodeEngineModel(encodeArtifact('MODL', ENGINE_MODEL_FORMAT_VERSION, edited), 'edit.cbnn')).toThrow(CorruptArtifactError);
  });

  it('rejects inconsistent shapes with the field named', () => {
    const m = smallModel();
    const dense = m.layers[3] as Extract<EngineModel['layers'][number], { type: 'dense' }>;
    const broken: EngineModel = { ...m, layers: [...m.layers.slice(0, 3), { ...dense, inBits: dense.inBits + 1 }, m.layers[4]] };
    expect(() => writeEngineModel(path.join(tmp, 'x.cbnn'), broken)).toThrow(InvalidInputError);
    try {
      encodeEngineModel(broken);
    } catch (e) {
      expect((e as InvalidInputError).location.field).toBe('layers[3].inBits');
    }
    const wrongClasses = { ...m, classNames: ['a', 'b'] };
    expect(() => encodeEngineModel(wrongClasses)).toThrow(/3 outputs but the model names 2 classes/);
    const conv = m.layers[1] as Extract<EngineModel['layers'][number], { type: 'conv' }>;
    const badFlip = { ...m, layers: m.layers.map((l, i) => (i === 1 ? { ...conv, flip: new Uint8Array(conv.outC).fill(2) } : l)) };
    expect(() => encodeEngineModel(badFlip)).toThrow(/flip values must be 0 or 1/);
    const dirty = new Uint32Array(conv.weights);
    dirty[1] |= 0x80000000; // inC = 33: word 1 holds channel 32 only
    const badPad = { ...m, layers: m.layers.map((l, i) => (i === 1 ? { ...conv, weights: dirty } : l)) };
    expect(() => encodeEngineModel(badPad)).toThrow(/padding bits/);
    const short = { ...m, layers: m.layers.map((l, i) => (i === 1 ? { ...conv, thresholds: new Int32Array(3) } : l)) };
    expect(() => encodeEngineModel(short)).toThrow(/expected 20 values/);
    const noOut = { ...m, layers: m.layers.slice(0, 4) };
    expect(() => encodeEngineModel(noOut)).toThrow(/last layer must be 'dense_out'/);
  });

  it('stores binary weights as dense bit streams (version 2) and still reads version 1 files', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 70 }), fc.integer({ min: 0, max: 1000 }), (bits, rows, seed) => {
        const model = randomEngineModel({ height: 1, width: 1, features: bits, classes: 2, seed, layers: [{ type: 'dense', outC: rows }] });
        const words = (model.layers[0] as Extract<EngineModel['layers'][number], { type: 'dense' }>).weights;
        const dense = packWeightBits(words, rows, bits);
        expect(dense.length).toBe(Math.ceil((rows * bits) / 8));
        const back = unpackWeightBits(dense, rows, bits);
        expect(back.words).toEqual(words);
        expect(back.trailingBitsZero).toBe(true);
        expect(decodeEngineModel(encodeEngineModel(model, 1), 'v1.cbnn')).toEqual(model);
      }),
      { numRuns: 40 },
    );
    // bit i of the stream is bit (i % bits) of row i / bits: rows of 3 bits 0b101, 0b011
    expect(Array.from(packWeightBits(Uint32Array.of(0b101, 0b011), 2, 3))).toEqual([0b011101]);
    const m = smallModel();
    const v1 = path.join(tmp, 'v1.cbnn');
    fs.writeFileSync(v1, encodeEngineModel(m, 1));
    expect(readEngineModel(v1)).toEqual(m);
    // a set bit past the end of a weight stream is damage, even with a valid checksum
    const bytes = encodeEngineModel(randomEngineModel({ height: 1, width: 1, features: 3, classes: 2, seed: 1, layers: [{ type: 'dense', outC: 3 }] }));
    const payload = bytes.slice(ARTIFACT_HEADER_SIZE);
    const json = new DataView(payload.buffer).getUint32(0, true);
    payload[Math.ceil((4 + json) / 8) * 8 + 1] |= 0x80; // 3 rows x 3 bits = 9 bits: bit 15 is past the end
    expect(() => decodeEngineModel(encodeArtifact('MODL', 2, payload), 'x.cbnn')).toThrow(/bits past the end of its weight stream/);
  });

  it('at equal width, fewer planes make a smaller file by exactly what the planes weigh', () => {
    // the demo's compact shape: VGG-small w=0.19 (convs of 12 and 24 channels, dense 97) on 1 and on 6 planes
    const sizeOf = (features: number): { file: number; model: EngineModel } => {
      const model = randomEngineModel({ height: 28, width: 28, features, classes: 10, seed: 5, layers: vggSmallLayers(0.19) });
      const file = path.join(tmp, `p${features}.cbnn`);
      writeEngineModel(file, model);
      return { file: fs.statSync(file).size, model };
    };
    const one = sizeOf(1);
    const six = sizeOf(6);
    const first = (m: EngineModel): EngineModel['layers'][number] => m.layers[0];
    // the first layer: 12 x 9 taps x P bits (+ 12 thresholds and flips), 4-byte aligned
    expect(layerFileBytes(first(one.model))).toBe(Math.ceil((12 * 9 * 1) / 8 / 4) * 4 + 12 * 4 + 12);
    expect(layerFileBytes(first(six.model))).toBe(Math.ceil((12 * 9 * 6) / 8 / 4) * 4 + 12 * 4 + 12);
    // every other layer weighs the same
    one.model.layers.slice(1).forEach((l, i) => expect(layerFileBytes(l)).toBe(layerFileBytes(six.model.layers[i + 1])));
    // the whole file differs by the first layer's weights and the 5 more planes in the JSON layout
    const jsonOf = (m: EngineModel): number => {
      const bytes = encodeEngineModel(m);
      return new DataView(bytes.buffer, bytes.byteOffset + ARTIFACT_HEADER_SIZE).getUint32(0, true);
    };
    const align8 = (n: number): number => Math.ceil(n / 8) * 8;
    const weights = layerFileBytes(first(six.model)) - layerFileBytes(first(one.model));
    expect(weights).toBe(84 - 16);
    expect(six.file - one.file).toBe(weights + align8(4 + jsonOf(six.model)) - align8(4 + jsonOf(one.model)));
    // in the old layout (one 32-bit word per tap) the planes weighed nothing
    expect(layerFileBytes(first(six.model), 1)).toBe(layerFileBytes(first(one.model), 1));
  });
});
