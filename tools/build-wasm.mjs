#!/usr/bin/env node
// Compile packages/kernels/assembly/kernels.ts (AssemblyScript) into
// packages/kernels/build/kernels.wasm with SIMD enabled and -O3. Run by the kernels package's
// `build` script; the wasm is never committed (build/ is gitignored).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const kernelsDir = path.join(root, 'packages', 'kernels');
const source = path.join(kernelsDir, 'assembly', 'kernels.ts');
const outFile = path.join(kernelsDir, 'build', 'kernels.wasm');

// assemblyscript's `asc` entry is import-only (no `require` condition): load it by path from the
// kernels package, which owns the devDependency.
const ascEntry = path.join(fs.realpathSync(path.join(kernelsDir, 'node_modules', 'assemblyscript')), 'dist', 'asc.js');
const asc = await import(pathToFileURL(ascEntry).href);

fs.mkdirSync(path.dirname(outFile), { recursive: true });
const args = [
  path.relative(kernelsDir, source),
  '--outFile',
  path.relative(kernelsDir, outFile),
  '--textFile',
  path.relative(kernelsDir, outFile.replace(/\.wasm$/, '.wat')),
  '--enable',
  'simd',
  '-O3',
  '--runtime',
  'stub',
  '--noAssert',
  '--initialMemory',
  '2',
];
const cwd = process.cwd();
process.chdir(kernelsDir);
const { error, stderr } = await asc.main(args);
process.chdir(cwd);
if (error) {
  process.stderr.write(stderr.toString());
  console.error(`build-wasm: AssemblyScript compile failed: ${error.message}`);
  process.exit(1);
}
console.log(`build-wasm: ${path.relative(root, outFile)} (${fs.statSync(outFile).size} bytes)`);
