#!/usr/bin/env node
// Agreement of an exported C library with the engine on a dataset split, for every build this
// machine has (gcc strict, sanitizers, -m32, clang, portable popcount). Build the package first.
//   node packages/deploy/scripts/check-c-export.cjs MODEL C_DIR DATASET_DIR [split]
const d = require('../dist');
const { readDataset } = require('@cbnn/core');
const [modelDir, cDir, datasetDir, split = 'test'] = process.argv.slice(2);
const { model } = d.loadModel(modelDir);
const s = readDataset(datasetDir).split(split);
const t0 = Date.now();
const expected = d.enginePredictions(model, s.images, s.count);
let correct = 0;
for (let i = 0; i < s.count; i++) if (expected.classes[i] === s.labels[i]) correct++;
console.log(`${modelDir}: ${s.count} ${split} images, engine accuracy ${((100 * correct) / s.count).toFixed(2)}%`);
for (const b of d.availableBuilds()) {
  const t = Date.now();
  const r = d.checkBuild(cDir, b, s.images, s.count, expected, model.classNames.length);
  console.log(
    `  ${r.build}: classes equal ${r.classesEqual}/${r.images}, scores equal ${r.scoresEqual}/${r.images} (${Date.now() - t} ms)`,
    r.firstMismatch ?? '',
  );
}
