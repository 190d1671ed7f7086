/**
 * The engine, as the browser page runs it: the kernels package's own decoder, plane packer and
 * engine (wasm runner), bundled by scripts/build-web-engine.mjs with small shims for the Node
 * modules they import (shims/). The page hands the wasm bytes over with `provideFile` before
 * the first `createEngine`, where Node would read them from disk.
 */
import { KERNELS_WASM_PATH, createEngine, createPlanePacker, decodeEngineModel } from '@cbnn/kernels';
import { provideFile } from './shims/fs';

(globalThis as unknown as Record<string, unknown>).cbnnEngine = {
  KERNELS_WASM_PATH,
  provideFile,
  decodeEngineModel,
  createEngine,
  createPlanePacker,
};
