// Tests load build/kernels.wasm: (re)build it when missing or older than any of its
// AssemblyScript sources, so `npx jest` works without a prior package build.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

module.exports = async function buildWasmIfStale() {
  const wasm = path.join(__dirname, 'build', 'kernels.wasm');
  const dir = path.join(__dirname, 'assembly');
  const newestSource = Math.max(...fs.readdirSync(dir).map((f) => fs.statSync(path.join(dir, f)).mtimeMs));
  const stale = !fs.existsSync(wasm) || fs.statSync(wasm).mtimeMs < newestSource;
  if (stale) execFileSync(process.execPath, [path.join(__dirname, '..', '..', 'tools', 'build-wasm.mjs')], { stdio: 'inherit' });
};
