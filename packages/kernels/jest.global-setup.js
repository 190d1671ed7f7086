// Tests load build/kernels.wasm: (re)build it when missing or older than its AssemblyScript
// source, so `npx jest` works without a prior package build.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

module.exports = async function buildWasmIfStale() {
  const wasm = path.join(__dirname, 'build', 'kernels.wasm');
  const source = path.join(__dirname, 'assembly', 'kernels.ts');
  const stale = !fs.existsSync(wasm) || fs.statSync(wasm).mtimeMs < fs.statSync(source).mtimeMs;
  if (stale) execFileSync(process.execPath, [path.join(__dirname, '..', '..', 'tools', 'build-wasm.mjs')], { stdio: 'inherit' });
};
