import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { InvalidInputError, readDataset } from '@cbnn/core';
import { buildDataset, datasetParamsSchema } from '@cbnn/bitslice';
import { jpegBytes, loadSourceFully, mnistDigits, pixelsOf, pngBytes, sourceError, tempDir, writeDigitFolder, type ImageSet } from './fixtures';

const NAMES = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];
const params = (paths: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  datasetParamsSchema.parse({ source: 'images', paths: { color: 'grey', ...paths }, ...extra });
const digit = (set: ImageSet, i: number) => set.pixels.subarray(i * 784, (i + 1) * 784);

const loadError = (p: Record<string, unknown>, extra: Record<string, unknown> = {}) => sourceError(params(p, extra));

/** Pixels of each stored record keyed by the file it came from (files.txt order = record order per pool). */
function recordsByFile(dir: string): Map<string, { label: number; pixels: Buffer }> {
  const { source } = loadSourceFully(params({ dir }));
  const names = source
    .fileList!.trim()
    .split('\n')
    .map((l) => l.slice(66));
  const size = source.shape.height * source.shape.width * source.shape.channels;
  return new Map(names.map((n, i) => [n, { label: source.train.labels[i], pixels: Buffer.from(pixelsOf(source).subarray(i * size, (i + 1) * size)) }]));
}

describe('images source', () => {
  const digits = mnistDigits(3);
  const root = tempDir('images-source-');
  const dir = path.join(root, 'digits');
  const files = writeDigitFolder(dir, digits, NAMES);

  it('reads grey PNG class folders back to exactly the digits written, classes in sorted folder order', () => {
    const { source, malformed } = loadSourceFully(params({ dir }));
    expect(malformed.count).toBe(0);
    expect(source.classNames).toEqual([...NAMES].sort());
    expect(source.shape).toEqual({ height: 28, width: 28, channels: 1 });
    expect(source.train.count).toBe(30);
    const byFile = recordsByFile(dir);
    files.forEach((file, i) => {
      const rec = byFile.get(path.relative(dir, file).split(path.sep).join('/'))!;
      expect(source.classNames[rec.label]).toBe(NAMES[digits.labels[i]]);
      expect(rec.pixels.equals(Buffer.from(digit(digits, i)))).toBe(true);
    });
  });

  it('writes files.txt (sha256sum format) into the dataset and names its hash in the manifest; splits are stratified', () => {
    const out = path.join(root, 'ds');
    const manifest = buildDataset(out, params({ dir }, { seed: 3, fractions: { validation: 0.5, test: 1 / 3 } }));
    const list = fs.readFileSync(path.join(out, 'files.txt'), 'utf8');
    const lines = list.trim().split('\n');
    expect(lines).toHaveLength(30);
    for (const line of lines) {
      const [hex, name] = line.split('  ');
      expect(
        createHash('sha256')
          .update(fs.readFileSync(path.join(dir, name)))
          .digest('hex'),
      ).toBe(hex);
    }
    expect(manifest.source.files).toEqual([`files.txt sha256:${createHash('sha256').update(list).digest('hex')}`]);
    expect(manifest.source.description).toMatch(/30 files in 10 class folders .*no resize/);
    expect(manifest.splits.test.perClass).toEqual(new Array(10).fill(1));
    expect(manifest.splits.validation.perClass).toEqual(new Array(10).fill(1));
    // Every stored record is one of the digits, with its class.
    const ds = readDataset(out);
    const known = new Map(files.map((_, i) => [Buffer.from(digit(digits, i)).toString('hex'), NAMES[digits.labels[i]]]));
    for (let r = 0; r < 30; r++)
      expect(known.get(Buffer.from(ds.images.subarray(r * 784, (r + 1) * 784)).toString('hex'))).toBe(ds.manifest.classNames[ds.labels[r]]);
  });

  it('respects a train/ test/ layout as the canonical test split', () => {
    const split = path.join(root, 'split');
    const seen = new Array<number>(10).fill(0);
    const isTest = Array.from(digits.labels, (l) => ++seen[l] === 3);
    const subset = (keep: boolean): ImageSet => {
      const idx = isTest.flatMap((t, i) => (t === keep ? [i] : []));
      const pixels = new Uint8Array(idx.length * 784);
      idx.forEach((i, k) => pixels.set(digit(digits, i), k * 784));
      return { ...digits, count: idx.length, pixels, labels: Uint8Array.from(idx, (i) => digits.labels[i]) };
    };
    writeDigitFolder(path.join(split, 'train'), subset(false), NAMES);
    writeDigitFolder(path.join(split, 'test'), subset(true), NAMES);
    const { source } = loadSourceFully(params({ dir: split }));
    expect(source.train.count).toBe(20);
    expect(source.test!.count).toBe(10);
    const manifest = buildDataset(path.join(root, 'ds-split'), params({ dir: split }, { seed: 1 }));
    expect(manifest.splits.test.count).toBe(10);
    expect(manifest.splitMethod).toMatch(/^canonical test split/);
    expect(source.fileList).toMatch(/ {2}test\/zero\/\d{4}\.png\n/);
  });

  it('converts RGB to grey (luma) and grey to RGB, keeping grey-as-RGB exact', () => {
    const rgbDir = path.join(root, 'rgb');
    writeDigitFolder(rgbDir, digits, NAMES, (p) =>
      pngBytes(
        28,
        28,
        3,
        Array.from(p).flatMap((v) => [v, v, v]),
      ),
    );
    const grey = loadSourceFully(params({ dir: rgbDir })).source;
    expect(Buffer.from(pixelsOf(grey)).equals(Buffer.from(pixelsOf(loadSourceFully(params({ dir })).source)))).toBe(true);
    const rgb = loadSourceFully(params({ dir, color: 'rgb' })).source;
    expect(rgb.channelNames).toEqual(['r', 'g', 'b']);
    expect(Array.from(pixelsOf(rgb).subarray(0, 28 * 28 * 3)).filter((_, i) => i % 3 === 0)).toEqual(Array.from(pixelsOf(grey).subarray(0, 784)));
    // A coloured pixel: PIL's integer luma of (200, 100, 50) is 124.
    const one = path.join(root, 'one-colour');
    for (const c of ['a', 'b']) {
      fs.mkdirSync(path.join(one, c), { recursive: true });
      fs.writeFileSync(path.join(one, c, 'p.png'), pngBytes(1, 1, 3, [200, 100, 50]));
    }
    expect(Array.from(pixelsOf(loadSourceFully(params({ dir: one })).source))).toEqual([124, 124]);
  });

  it('resizes with the method named in the manifest, and refuses mixed sizes without size', () => {
    const mixed = path.join(root, 'mixed');
    writeDigitFolder(mixed, digits, NAMES);
    const odd = path.join(mixed, 'seven', 'odd.png');
    fs.writeFileSync(odd, pngBytes(2, 4, 1, [0, 10, 20, 30, 40, 50, 60, 70]));
    const e = loadError({ dir: mixed });
    expect(e.location.file).toBe(odd);
    expect(e.message).toMatch(/image is 2x4 \(height x width\), but .* is 28x28/);
    const area = loadSourceFully(params({ dir: mixed, size: [1, 2], resize: 'area' })).source;
    expect(area.shape).toEqual({ height: 1, width: 2, channels: 1 });
    expect(area.description).toMatch(/resized to 1x2 \(area average/);
    const names = area
      .fileList!.trim()
      .split('\n')
      .map((l) => l.slice(66));
    const k = names.indexOf('seven/odd.png');
    expect(Array.from(pixelsOf(area).subarray(k * 2, k * 2 + 2))).toEqual([Math.round((0 + 10 + 40 + 50) / 4), Math.round((20 + 30 + 60 + 70) / 4)]);
    const bilinear = loadSourceFully(params({ dir: mixed, size: 56 })).source;
    expect(bilinear.shape).toEqual({ height: 56, width: 56, channels: 1 });
    expect(bilinear.description).toMatch(/bilinear, half-pixel centres/);
  });

  it('decodes JPEG files (lossy: close to the digits, not equal)', () => {
    const jpg = path.join(root, 'jpeg');
    writeDigitFolder(jpg, digits, NAMES, (p) => jpegBytes(28, 28, p, 100));
    const byFile = recordsByFile(jpg);
    let diff = 0;
    files.forEach((file, i) => {
      const rec = byFile.get(path.relative(dir, file).split(path.sep).join('/'))!;
      for (let p = 0; p < 784; p++) diff += Math.abs(rec.pixels[p] - digits.pixels[i * 784 + p]);
    });
    expect(diff / (30 * 784)).toBeLessThan(2);
  });

  it('converts 16-bit PNGs with a warning and says so in the manifest', () => {
    const deep = path.join(root, 'deep');
    for (const c of ['a', 'b']) {
      fs.mkdirSync(path.join(deep, c), { recursive: true });
      fs.writeFileSync(path.join(deep, c, 'p.png'), pngBytes(1, 2, 1, [1000, 65535], 16));
    }
    const { source } = loadSourceFully(params({ dir: deep }));
    expect(Array.from(pixelsOf(source))).toEqual([4, 255, 4, 255]);
    expect(source.description).toMatch(/2 16-bit PNGs converted to 8 bits as round\(v \* 255 \/ 65535\)/);
  });

  describe('bad input', () => {
    const bad = (name: string, setup: (d: string) => void): string => {
      const d = path.join(root, name);
      writeDigitFolder(d, digits, NAMES);
      setup(d);
      return d;
    };

    it('names a truncated PNG, a corrupt PNG, a truncated JPEG and a file that is not an image', () => {
      const cases: [string, (f: string) => void, RegExp][] = [
        ['truncated-png', (f) => fs.writeFileSync(f, fs.readFileSync(f).subarray(0, 60)), /corrupt or truncated PNG/],
        [
          'corrupt-png',
          (f) => {
            const b = fs.readFileSync(f);
            b[45] ^= 0xff;
            b[46] ^= 0xff;
            fs.writeFileSync(f, b);
          },
          /corrupt or truncated PNG/,
        ],
        ['truncated-jpeg', (f) => fs.writeFileSync(f, jpegBytes(28, 28, digit(digits, 0)).subarray(0, 300)), /corrupt or truncated JPEG/],
        ['text', (f) => fs.writeFileSync(f, 'not an image\n'), /not a PNG or JPEG image \(first bytes 6e 6f 74/],
        // IHDR claims 20000x20000: refused before the decoder allocates 1.6 GB.
        [
          'huge',
          (f) => {
            const b = fs.readFileSync(f);
            b.writeUInt32BE(20000, 16);
            b.writeUInt32BE(20000, 20);
            fs.writeFileSync(f, b);
          },
          /PNG of 20000x20000 pixels is larger than the 64 Mpixel limit/,
        ],
      ];
      for (const [name, damage, reason] of cases) {
        let victim = '';
        const d = bad(name, (x) => {
          victim = path.join(x, 'four', fs.readdirSync(path.join(x, 'four'))[1]);
          damage(victim);
        });
        const e = loadError({ dir: d });
        expect(e.location.file).toBe(victim);
        expect(e.message).toMatch(reason);
        expect(e.exitCode).toBe(3);
        const out = path.join(root, `out-${name}`);
        expect(() => buildDataset(out, params({ dir: d }))).toThrow(InvalidInputError);
        expect(fs.existsSync(out)).toBe(false);
      }
    });

    it('refuses an empty class folder and two class folders that normalise to one name', () => {
      const empty = bad('empty-class', (d) => fs.mkdirSync(path.join(d, 'ten')));
      expect(loadError({ dir: empty }).message).toMatch(/class folder 'ten' holds no file/);
      const clash = bad('clash', (d) => {
        fs.mkdirSync(path.join(d, 'Seven'));
        fs.copyFileSync(files[0], path.join(d, 'Seven', 'x.png'));
      });
      const e = loadError({ dir: clash });
      expect(e.message).toMatch(/class folders 'Seven' and 'seven' are the same class name 'seven' after normalisation/);
      expect(e.location.file).toBe(path.join(clash, 'seven'));
    });

    it('with skipBad accepts a folder with 1% bad files and lists every skipped file in the manifest', () => {
      const many = mnistDigits(20);
      const d = path.join(root, 'skip');
      const written = writeDigitFolder(d, many, NAMES);
      fs.writeFileSync(written[7], 'garbage');
      fs.writeFileSync(written[150], fs.readFileSync(written[150]).subarray(0, 50));
      // Without skipBad the first bad file in listing order (classes sorted: 'seven' < 'zero') stops the load.
      expect(loadError({ dir: d }).location.file).toBe(written[150]);
      const out = path.join(root, 'ds-skip');
      const manifest = buildDataset(out, params({ dir: d, skipBad: true }));
      expect(manifest.malformed.count).toBe(2);
      const rel = (f: string) => path.relative(d, f).split(path.sep).join('/');
      expect(manifest.malformed.records.map((r) => r.file).sort()).toEqual([rel(written[7]), rel(written[150])].sort());
      expect(manifest.malformed.records.map((r) => r.reason).sort()).toEqual([
        expect.stringMatching(/corrupt or truncated PNG/),
        expect.stringMatching(/not a PNG or JPEG/),
      ]);
      expect(fs.readFileSync(path.join(out, 'files.txt'), 'utf8').trim().split('\n')).toHaveLength(198);
      // Past maxMalformedFraction the folder is refused even with skipBad.
      expect(() => loadSourceFully(params({ dir: d, skipBad: true }, { maxMalformedFraction: 0.005 }))).toThrow(/2 of 200 records \(1\.000%\) are malformed/);
    });
  });
});
