import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { zipSync } from 'fflate';
import { buildDataset, datasetParamsSchema, encodeNpy } from '@cbnn/bitslice';
import { mnistDigits, pngBytes, tempDir, writeDigitFolder } from './fixtures';

// The dataset files, byte for byte, for inputs the tests write: the expected hashes were taken
// from the in-memory builder (commit 18f5f72) before sources streamed records from their files,
// so any change in what a dataset holds (record order, split, files.txt, manifest) shows here.
const NAMES = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];

function hashes(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of fs.readdirSync(dir).sort())
    out[name] = createHash('sha256')
      .update(fs.readFileSync(path.join(dir, name)))
      .digest('hex')
      .slice(0, 16);
  return out;
}

describe('dataset bytes are those of the in-memory builder', () => {
  const root = tempDir('dataset-bytes-');
  const digits = mnistDigits(5);
  const build = (name: string, p: Record<string, unknown>): Record<string, string> => {
    const out = path.join(root, `out-${name}`);
    buildDataset(out, datasetParamsSchema.parse(p));
    return hashes(out);
  };
  const folder = path.join(root, 'digits');
  const files = writeDigitFolder(folder, digits, NAMES);

  const cases: Record<string, () => Record<string, unknown>> = {
    'images, class folders, stratified split': () => ({
      source: 'images',
      paths: { dir: folder, color: 'grey' },
      seed: 3,
      fractions: { validation: 0.25, test: 0.2 },
    }),
    'images, train/ and test/ folders': () => {
      const dir = path.join(root, 'splits');
      files.forEach((f, i) => {
        const to = path.join(dir, i % 5 === 4 ? 'test' : 'train', path.relative(folder, f));
        fs.mkdirSync(path.dirname(to), { recursive: true });
        fs.copyFileSync(f, to);
      });
      return { source: 'images', paths: { dir, color: 'grey' }, seed: 1 };
    },
    'images, skipBad with a file that is not an image': () => {
      const dir = path.join(root, 'skip');
      writeDigitFolder(dir, digits, NAMES);
      fs.writeFileSync(path.join(dir, 'four', '0099.png'), 'garbage');
      return { source: 'images', paths: { dir, color: 'grey', skipBad: true }, maxMalformedFraction: 0.1, seed: 2 };
    },
    'images, rgb resized (area), 16-bit PNGs, limit per class': () => {
      const dir = path.join(root, 'rgb');
      writeDigitFolder(dir, digits, NAMES);
      fs.writeFileSync(
        path.join(dir, 'zero', 'wide16.png'),
        pngBytes(3, 5, 1, [0, 1000, 9000, 30000, 65535, 1, 2, 3, 4, 5, 60000, 50000, 40000, 20000, 10], 16),
      );
      return { source: 'images', paths: { dir, color: 'rgb', size: [14, 20], resize: 'area' }, limit: { perClass: 3 }, seed: 4 };
    },
    'npy files, a label outside the classes': () => {
      const images = path.join(root, 'images.npy');
      const labels = path.join(root, 'labels.npy');
      fs.writeFileSync(images, encodeNpy('|u1', [digits.count, 28, 28], digits.pixels));
      fs.writeFileSync(labels, encodeNpy('<i8', [digits.count], new Uint8Array(BigInt64Array.from(digits.labels, (l) => BigInt(l)).buffer)));
      return { source: 'npy', paths: { images, labels, classes: NAMES.slice(0, 9) }, maxMalformedFraction: 0.2, seed: 5 };
    },
    'npz, deflated': () => {
      const file = path.join(root, 'data.npz');
      const entries = { 'images.npy': encodeNpy('|u1', [digits.count, 28, 28], digits.pixels), 'labels.npy': encodeNpy('|u1', [digits.count], digits.labels) };
      fs.writeFileSync(file, zipSync(entries, { level: 6, mtime: new Date('2026-01-01T00:00:00Z') }));
      return { source: 'npy', paths: { file }, seed: 6 };
    },
    'mnist package, limit per class': () => ({ source: 'mnist', limit: { perClass: 4 }, seed: 7 }),
  };
  const expected: Record<string, Record<string, string>> = {
    'images, class folders, stratified split': {
      'dataset.json': 'a98cc4a0397d3511',
      'files.txt': 'a18b3283ca807605',
      'images.bin': 'de9061bd231dc0f0',
      'labels.bin': '74e9b0d553ac132f',
    },
    'images, train/ and test/ folders': {
      'dataset.json': '1b10e0911f4fe65d',
      'files.txt': 'c15522ad1a87094f',
      'images.bin': '4d7b13f1e1933100',
      'labels.bin': '3986fd9098d02e2e',
    },
    'images, skipBad with a file that is not an image': {
      'dataset.json': '75b23a28e528b2d5',
      'files.txt': 'a18b3283ca807605',
      'images.bin': '1aa904bc2d9d6413',
      'labels.bin': '2ad74fc311b336bc',
    },
    'images, rgb resized (area), 16-bit PNGs, limit per class': {
      'dataset.json': '79c9d279398e003a',
      'files.txt': 'e9d39f652feedf3f',
      'images.bin': '6830e992be5d47aa',
      'labels.bin': 'c52a7571586334be',
    },
    'npy files, a label outside the classes': { 'dataset.json': 'c0014c664752c66a', 'images.bin': '713eb3ccdf1e1a68', 'labels.bin': 'e0395e222b34fb03' },
    'npz, deflated': { 'dataset.json': '464bfb5082b14e4e', 'images.bin': '02bfc01d397d7b77', 'labels.bin': '9ee4d3179d48b7a2' },
    'mnist package, limit per class': { 'dataset.json': 'bdb9d28ccaa70e7f', 'images.bin': '9e1bdd4cc85eaa1f', 'labels.bin': 'd3cfc1f109d1d28b' },
  };

  for (const [name, params] of Object.entries(cases)) {
    it(name, () => {
      expect(build(name.replace(/\W+/g, '-'), params())).toEqual(expected[name]);
    });
  }
});
