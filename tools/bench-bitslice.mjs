#!/usr/bin/env node
// Benchmark of @cbnn/bitslice (not a test): time and peak RSS to build the Fashion-MNIST dataset
// artifact, then the batch iterators' throughput over whole splits.
//
//   (cd packages/bitslice && npx tsc -b) && node tools/bench-bitslice.mjs [--runs 3] [--batch 128] [--keep DIR]
//
// Targets (issue 3): peak RSS < 1 GB; a full pass of the iterator < 2% of a training epoch (VGG-small
// w=0.5 trains at ~230 samples/s, so 60,000 images take ~260 s and the iterator must do them in < ~5 s).
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bitslice = require(path.join(root, 'packages/bitslice/dist/index.js'));
const core = require(path.join(root, 'packages/core/dist/index.js'));

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const runs = Number(option('runs', '3'));
const batchSize = Number(option('batch', '128'));
const keep = option('keep', undefined);

const rssMB = () => process.resourceUsage().maxRSS / 1024; // maxRSS is in KiB
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const spread = (xs) => `${Math.min(...xs).toFixed(3)}..${Math.max(...xs).toFixed(3)}`;

const outDir = keep ?? fs.mkdtempSync(path.join(os.tmpdir(), 'bench-bitslice-'));
const startRss = rssMB();
let t = process.hrtime.bigint();
const manifest = bitslice.buildDataset(outDir, { source: 'fashion-mnist', seed: 1 });
const buildSeconds = Number(process.hrtime.bigint() - t) / 1e9;
const buildRss = rssMB();
const { train, validation, test } = manifest.splits;
console.log(
  `node ${process.version}, ${os.cpus().length} cpus (${os.cpus()[0]?.model ?? '?'}), load average ${os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}`,
);
console.log(`build fashion-mnist artifact: ${buildSeconds.toFixed(2)} s, peak RSS ${buildRss.toFixed(0)} MB (process start ${startRss.toFixed(0)} MB)`);
console.log(`  train ${train.count}, validation ${validation.count}, test ${test.count}, malformed ${manifest.malformed.count}; ${outDir}`);

t = process.hrtime.bigint();
const dataset = core.readDataset(outDir);
console.log(`readDataset (checksums): ${(Number(process.hrtime.bigint() - t) / 1e9).toFixed(2)} s`);

const layouts = {
  'all 8 planes': core.resolvePlanes(core.allPlanes(['grey']), ['grey']),
  '4 planes [7,6,5,4]': core.resolvePlanes({ grey: [7, 6, 5, 4] }, ['grey']),
};
const rows = [];
const measure = (name, makeIterator) => {
  const seconds = [];
  let images = 0;
  for (let r = 0; r < runs; r++) {
    const start = process.hrtime.bigint();
    images = 0;
    let checksum = 0;
    for (const batch of makeIterator(r)) {
      images += batch.count;
      checksum += batch.x[0]; // keep the work observable
    }
    seconds.push(Number(process.hrtime.bigint() - start) / 1e9);
    if (Number.isNaN(checksum)) throw new Error('unreachable');
  }
  const s = median(seconds);
  rows.push({ name, images, s, spread: spread(seconds) });
};
for (const [layoutName, layout] of Object.entries(layouts)) {
  measure(`packedPlaneBatches, ${layoutName}`, (epoch) => bitslice.packedPlaneBatches(dataset, { split: 'train', layout, batchSize, shuffle: true, epoch }));
  measure(`planeBatches (float ±1), ${layoutName}`, (epoch) => bitslice.planeBatches(dataset, { split: 'train', layout, batchSize, shuffle: true, epoch }));
}
measure('scaledPixelBatches', (epoch) => bitslice.scaledPixelBatches(dataset, { split: 'train', batchSize, shuffle: true, epoch }));

const epochSeconds = 60000 / 230;
console.log(`\niterators over the train split (shuffled, batch ${batchSize}), median of ${runs} runs [min..max s]:`);
for (const r of rows) {
  const perSixtyK = (r.s * 60000) / r.images;
  console.log(
    `  ${r.name.padEnd(44)} ${String(Math.round(r.images / r.s)).padStart(9)} images/s  ${r.s.toFixed(3)} s for ${r.images} [${r.spread}]  ` +
      `${((100 * perSixtyK) / epochSeconds).toFixed(2)}% of a ${epochSeconds.toFixed(0)} s epoch (60,000 images at 230/s)`,
  );
}
console.log(`\npeak RSS over the whole run: ${rssMB().toFixed(0)} MB (target < 1024 MB)`);
if (!keep) fs.rmSync(outDir, { recursive: true, force: true });
