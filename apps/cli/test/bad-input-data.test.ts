import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { encodeNpy } from '@cbnn/bitslice';

// Bad input data through the built `cbnn run`: the dataset stage's InvalidInputError crosses the
// stage worker process and the run exits 3 (not 4), naming the file and the reason, with nothing
// of the stage in the store.
const CLI = path.join(__dirname, '..', 'dist', 'main.js');

/** A grey 8-bit PNG (node's zlib is all a valid PNG needs). */
function greyPng(size: number, value: number): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(zlib.crc32(body), body.length + 4);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth; colour type 0 (grey), compression, filter, interlace 0
  const rows = Buffer.alloc(size * (size + 1), value);
  for (let y = 0; y < size; y++) rows[y * (size + 1)] = 0; // filter type None
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]);
}

/** Two class folders of 3 good 8x8 PNGs each; `spoil` then damages the folder. */
function photoFolder(root: string, spoil: (dir: string) => void): string {
  const dir = path.join(root, 'photos');
  for (const [c, name] of ['cat', 'dog'].entries()) {
    fs.mkdirSync(path.join(dir, name), { recursive: true });
    for (let i = 0; i < 3; i++) fs.writeFileSync(path.join(dir, name, `${i}.png`), greyPng(8, 40 * c + i));
  }
  spoil(dir);
  return dir;
}

function runData(root: string, source: string): { code: number | null; stderr: string; store: string } {
  const file = path.join(root, 'p.yaml');
  fs.writeFileSync(file, `name: bad-data\nstages:\n  data:\n    uses: bitslice.dataset\n    with: ${source}\n`);
  const store = path.join(root, 'store');
  const r = spawnSync(process.execPath, [CLI, 'run', file, '--store', store], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stderr: r.stderr, store };
}

/** Files below `dir` (none when it does not exist). */
function filesUnder(dir: string): string[] {
  return fs.existsSync(dir)
    ? fs
        .readdirSync(dir, { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => e.name)
    : [];
}

describe('bad input data: cbnn run exits 3 naming the file, nothing stored', () => {
  const cases: { name: string; spoil: (dir: string) => void; file: string; reason: RegExp }[] = [
    {
      name: 'a corrupt PNG (truncated in its image data)',
      spoil: (dir) => {
        const bytes = greyPng(8, 7);
        fs.writeFileSync(path.join(dir, 'dog', '2.png'), bytes.subarray(0, bytes.length - 20));
      },
      file: 'dog/2.png',
      reason: /PNG/,
    },
    {
      name: 'a file that is not an image',
      spoil: (dir) => fs.writeFileSync(path.join(dir, 'cat', 'notes.png'), 'shopping list\n'),
      file: 'cat/notes.png',
      reason: /not a PNG or JPEG image/,
    },
    {
      name: 'an empty class folder',
      spoil: (dir) => fs.mkdirSync(path.join(dir, 'emu')),
      file: 'emu',
      reason: /class folder 'emu' holds no file/,
    },
  ];
  for (const c of cases) {
    it(
      c.name,
      () => {
        const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cbnn-bad-data-'));
        photoFolder(root, c.spoil);
        const r = runData(root, '{ source: images, paths: { dir: photos, color: grey } }');
        expect(r.code).toBe(3);
        const failure = r.stderr.split('\n').find((l) => l.includes('✖ data: failed'));
        expect(failure).toContain(c.file);
        expect(failure).toMatch(c.reason);
        expect(r.stderr).not.toMatch(/^\s+at /m);
        expect(filesUnder(path.join(r.store, 'objects'))).toEqual([]);
        expect(filesUnder(path.join(r.store, 'runs'))).toEqual([]);
        expect(fs.existsSync(path.join(r.store, 'out', 'data'))).toBe(false);
      },
      120_000,
    );
  }

  it('a float .npy', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cbnn-bad-npy-'));
    fs.writeFileSync(path.join(root, 'images.npy'), encodeNpy('<f4', [4, 8, 8], new Uint8Array(4 * 64 * 4)));
    fs.writeFileSync(path.join(root, 'labels.npy'), encodeNpy('|u1', [4], Uint8Array.from([0, 1, 0, 1])));
    const r = runData(root, '{ source: npy, paths: { images: images.npy, labels: labels.npy } }');
    expect(r.code).toBe(3);
    const failure = r.stderr.split('\n').find((l) => l.includes('✖ data: failed'));
    expect(failure).toContain('images.npy');
    expect(failure).toMatch(/float|<f4|uint8/);
    expect(filesUnder(path.join(r.store, 'objects'))).toEqual([]);
    expect(filesUnder(path.join(r.store, 'runs'))).toEqual([]);
  }, 120_000);

  it('with a stage failing for another reason as well, the run exits 4 (a crash outranks the data)', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cbnn-bad-mixed-'));
    photoFolder(root, (dir) => fs.writeFileSync(path.join(dir, 'cat', 'notes.png'), 'shopping list\n'));
    const file = path.join(root, 'p.yaml');
    fs.writeFileSync(
      file,
      'name: mixed\nstages:\n  data:\n    uses: bitslice.dataset\n    with: { source: images, paths: { dir: photos, color: grey } }\n  crash:\n    cmd: exit 9\n    outs: [x]\n',
    );
    const r = spawnSync(process.execPath, [CLI, 'run', file, '--store', path.join(root, 'store'), '--keep-going'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.stderr).toContain('cat/notes.png');
    expect(r.stderr).toContain('exited with code 9');
    expect(r.status).toBe(4);
  }, 120_000);
});
