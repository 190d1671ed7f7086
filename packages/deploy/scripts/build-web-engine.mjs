#!/usr/bin/env node
// Bundle the engine for the browser page (web/engine-entry.ts -> dist/web/engine.js): the
// kernels' and core's TypeScript sources, tree-shaken, with web/shims/ standing in for the Node
// modules they import. Run by the package's build after tsc.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const pkg = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const packages = path.resolve(pkg, '..');
const shims = path.join(pkg, 'web', 'shims');
const outFile = path.join(pkg, 'dist', 'web', 'engine.js');

const SHIMS = {
  'node:fs': 'fs.ts',
  fs: 'fs.ts',
  'node:path': 'path.ts',
  path: 'path.ts',
  'node:crypto': 'crypto.ts',
  crypto: 'crypto.ts',
  'node:os': 'os.ts',
  os: 'os.ts',
  'node:worker_threads': 'worker-threads.ts',
  worker_threads: 'worker-threads.ts',
  pino: 'empty.ts',
  'pino-pretty': 'empty.ts',
};

const workspace = {
  name: 'cbnn-workspace-sources',
  setup(b) {
    b.onResolve({ filter: /^@cbnn\/[a-z-]+$/ }, (args) => ({
      path: path.join(packages, args.path.slice('@cbnn/'.length), 'src', 'index.ts'),
      sideEffects: false,
    }));
    b.onResolve({ filter: /^(node:)?(fs|path|crypto|os|worker_threads)$|^pino(-pretty)?$/ }, (args) => ({ path: path.join(shims, SHIMS[args.path]) }));
    // The workspace sources have no import-time effects the page needs: let unused modules drop.
    b.onResolve({ filter: /^\.\.?\// }, (args) => {
      if (!args.importer.startsWith(packages) || args.importer.startsWith(shims)) return undefined;
      return { path: path.resolve(args.resolveDir, args.path.endsWith('.ts') ? args.path : `${args.path}.ts`), sideEffects: false };
    });
  },
};

const result = await build({
  entryPoints: [path.join(pkg, 'web', 'engine-entry.ts')],
  outfile: outFile,
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  legalComments: 'none',
  inject: [path.join(shims, 'buffer-global.ts'), path.join(shims, 'process-global.ts')],
  define: { __dirname: '"/cbnn/kernels/src"' },
  plugins: [workspace],
  metafile: true,
  logLevel: 'error',
});
const bytes = fs.statSync(outFile).size;
const top = Object.entries(result.metafile.outputs[path.relative(process.cwd(), outFile)]?.inputs ?? {})
  .sort((a, b) => b[1].bytesInOutput - a[1].bytesInOutput)
  .slice(0, 12)
  .map(([f, v]) => `${f} ${v.bytesInOutput}`);
if (process.env.CBNN_BUNDLE_REPORT) console.log(top.join('\n'));
const inputs = Object.keys(result.metafile.inputs).filter((f) => f.includes('/src/')).length;
console.log(`build-web-engine: ${path.relative(process.cwd(), outFile)} (${bytes} bytes, ${inputs} workspace sources)`);
