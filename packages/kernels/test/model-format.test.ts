import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { CorruptArtifactError, InvalidInputError, encodeArtifact, ARTIFACT_HEADER_SIZE } from '@cbnn/core';
import {
  decodeEngineModel,
  encodeEngineModel,
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
    layers: [
      { type: 'conv_real', outC: 33, padding: 'same' },
      { type: 'conv', outC: 20, padding: 'valid' },
      { type: 'maxpool2' },
      { type: 'dense', outC: 37 },
    ],
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
    const file = path.join(tmp, 'v2.cbnn');
    const bytes = encodeEngineModel(smallModel());
    new DataView(bytes.buffer).setUint16(8, 2, true);
    fs.writeFileSync(file, bytes);
    expect(() => readEngineModel(file)).toThrow(/format version 2 is not supported/);
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
    expect(() => decodeEngineModel(encodeArtifact('MODL', 1, edited), 'edit.cbnn')).toThrow(CorruptArtifactError);
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
});
