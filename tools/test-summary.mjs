#!/usr/bin/env node
// One closing line for the whole workspace's tests: "Tests: N passed, N failed, N skipped".
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
let passed = 0,
  failed = 0,
  skipped = 0,
  suitesFailed = 0;
const rows = [];
for (const group of ['packages', 'apps']) {
  for (const name of fs.readdirSync(path.join(root, group)).sort()) {
    const file = path.join(root, group, name, 'test-results.json');
    if (!fs.existsSync(file)) continue;
    const r = JSON.parse(fs.readFileSync(file, 'utf8'));
    passed += r.passed;
    failed += r.failed;
    skipped += r.skipped;
    suitesFailed += r.suitesFailed;
    rows.push(`  ${`${group}/${name}`.padEnd(24)} ${String(r.passed).padStart(4)} passed ${String(r.failed).padStart(3)} failed`);
  }
}
console.log(rows.join('\n'));
console.log(`Tests: ${passed} passed, ${failed + suitesFailed} failed, ${skipped} skipped`);
process.exit(failed + suitesFailed > 0 ? 1 : 0);
