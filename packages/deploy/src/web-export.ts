import * as fs from 'node:fs';
import * as path from 'node:path';
import { InvalidInputError, planeLabel, readDataset, writeFileAtomicSync, writeJsonAtomicSync, type SplitName } from '@cbnn/core';
import { ENGINE_MODEL_FILE, KERNELS_WASM_PATH, checkDatasetMatchesModel } from '@cbnn/kernels';
import { EXPORT_WEB_FILE, exportWebRecordSchema, type ExportWebRecord } from './export-format';
import { loadModel } from './model-file';
import { prepareOutDir } from './out-dir';
import { webPage } from './web-page';

/** The engine bundled for the page by scripts/build-web-engine.mjs (same path from src/ and dist/). */
export const WEB_ENGINE_BUNDLE = path.join(__dirname, '..', 'dist', 'web', 'engine.js');

export const WEB_FILES = {
  page: 'index.html',
  engine: 'engine.js',
  wasm: 'kernels.wasm',
  model: ENGINE_MODEL_FILE,
  images: 'test-images.json',
  assets: 'assets.js',
} as const;

export interface ExportWebOptions {
  force?: boolean;
  /** A dataset artifact folder: its first `images` records of `split` are bundled. */
  dataset?: string;
  split?: SplitName;
  images?: number;
  title?: string;
}

function readBuilt(file: string, what: string, hint: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch {
    throw new InvalidInputError(`${what} is not built: ${file} is missing`, { file }, hint);
  }
}

/**
 * `cbnn export web`: a static folder that runs the model in the browser on the engine's wasm,
 * with no server beyond static files and no network requests.
 */
export function exportWeb(modelTarget: string, outDir: string, options: ExportWebOptions = {}): ExportWebRecord {
  const { file, model, ref } = loadModel(modelTarget);
  const split = options.split ?? 'test';
  const wanted = options.images ?? 40;
  if (!Number.isInteger(wanted) || wanted < 0) throw new InvalidInputError(`images must be a non-negative integer, got ${wanted}`, { field: '--images' });
  const channels = model.input.layout.channels.length;
  const imageBytes = model.input.height * model.input.width * channels;
  let images = { count: 0, labels: [] as number[], pixels: '' };
  if (options.dataset) {
    const ds = readDataset(options.dataset);
    checkDatasetMatchesModel(model, ds);
    const s = ds.split(split);
    const count = Math.min(wanted, s.count);
    images = { count, labels: Array.from(s.labels.subarray(0, count)), pixels: Buffer.from(s.images.subarray(0, count * imageBytes)).toString('base64') };
  }
  const engine = readBuilt(WEB_ENGINE_BUNDLE, 'the browser engine bundle', 'build the deploy package (npx nx build @cbnn/deploy)');
  const wasm = readBuilt(KERNELS_WASM_PATH, "the kernels' WebAssembly", 'build the kernels package (node tools/build-wasm.mjs)');
  const modelBytes = fs.readFileSync(file);
  prepareOutDir(outDir, options.force ?? false);

  const title = options.title ?? `cbnn: ${model.classNames.length}-class compact BNN (${model.input.layout.planes.map(planeLabel).join(' ')})`;
  const imagesJson = JSON.stringify({ split, ...images });
  const contents: Record<string, string | Uint8Array> = {
    [WEB_FILES.page]: webPage({
      title,
      modelFile: WEB_FILES.model,
      wasmFile: WEB_FILES.wasm,
      imagesFile: WEB_FILES.images,
      assetsFile: WEB_FILES.assets,
      engineFile: WEB_FILES.engine,
    }),
    [WEB_FILES.engine]: engine,
    [WEB_FILES.wasm]: wasm,
    [WEB_FILES.model]: modelBytes,
    [WEB_FILES.images]: imagesJson,
    // file:// pages cannot fetch: the same bytes as a script.
    [WEB_FILES.assets]: `window.CBNN_ASSETS = ${JSON.stringify({ model: modelBytes.toString('base64'), wasm: wasm.toString('base64'), images: JSON.parse(imagesJson) })};\n`,
  };
  const files: Record<string, number> = {};
  for (const [name, data] of Object.entries(contents)) {
    writeFileAtomicSync(path.join(outDir, name), data);
    files[name] = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
  }
  const record = exportWebRecordSchema.parse({
    format: 'cbnn.export-web',
    version: 1,
    model: ref,
    input: { height: model.input.height, width: model.input.width, channels: model.input.layout.channels, planes: model.input.layout.planes.map(planeLabel) },
    classNames: model.classNames,
    files,
    images: { count: images.count, ...(options.dataset ? { split, dataset: path.basename(path.resolve(options.dataset)) } : {}) },
  });
  writeJsonAtomicSync(path.join(outDir, EXPORT_WEB_FILE), record);
  return record;
}

export function describeExportWeb(record: ExportWebRecord, outDir: string): string {
  return [
    `browser page of ${record.model.file} (${record.model.bytes.toLocaleString('en-US')} B) in ${outDir}:`,
    `  ${Object.entries(record.files)
      .map(([f, b]) => `${f} ${b.toLocaleString('en-US')} B`)
      .join(', ')}`,
    `  ${record.images.count} bundled test images${record.images.split ? ` (${record.images.split} split)` : ''}`,
    `  open ${path.join(outDir, WEB_FILES.page)} (file://) or serve the folder with any static server`,
  ].join('\n');
}
