import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Logger } from '@cbnn/core';
import { registerBatchNormGradient } from './batch-norm-gradient';
import { registerBinaryConv } from './binary-conv';
import { registerHeapKernels } from './heap-kernels';
import { registerOrtGradientKernels, unregisterOrtGradientKernels } from './ort-kernels';
import { registerWasmGradientKernels } from './wasm-gradients';

import { BACKEND_ORDER, type BackendName, type GradientKernels } from './backend-names';

export { BACKEND_ORDER, GRADIENT_KERNELS, type BackendName, type GradientKernels } from './backend-names';

export interface BackendSelection {
  /** The backend now active in tf. */
  name: BackendName;
  /** Human-readable record for results, e.g. 'wasm (tfjs-backend-wasm 4.22.0, simd)'. */
  description: string;
  /** Why each preferred backend before it was not used. */
  skipped: { name: BackendName; reason: string }[];
}

export interface SelectBackendOptions {
  /** The first backend to try; later ones in BACKEND_ORDER are fallbacks. Default 'tensorflow'. */
  prefer?: BackendName;
  /** Only try the preferred backend (tests that must compare two specific backends). */
  strict?: boolean;
  logger?: Logger;
}

let wasmPathsSet = false;

/**
 * Point tfjs-backend-wasm at its own .wasm files on disk. Without this it would fetch them over
 * the network from a CDN, which these machines cannot reach.
 */
function setWasmPathsOnDisk(wasm: typeof import('@tensorflow/tfjs-backend-wasm')): void {
  if (wasmPathsSet) return;
  const distDir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
  wasm.setWasmPaths({
    'tfjs-backend-wasm.wasm': path.join(distDir, 'tfjs-backend-wasm.wasm'),
    'tfjs-backend-wasm-simd.wasm': path.join(distDir, 'tfjs-backend-wasm-simd.wasm'),
    'tfjs-backend-wasm-threaded-simd.wasm': path.join(distDir, 'tfjs-backend-wasm-threaded-simd.wasm'),
  });
  wasmPathsSet = true;
}

async function tryTensorflow(): Promise<string> {
  // tfjs-node is an optional dependency whose install downloads libtensorflow; where that failed
  // the require throws (module missing or native library not loadable).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('@tensorflow/tfjs-node');
  if (!(await tf.setBackend('tensorflow'))) throw new Error("tf.setBackend('tensorflow') returned false");
  return 'tensorflow (tfjs-node, native libtensorflow)';
}

async function tryWasm(): Promise<string> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const wasm = require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm');
  setWasmPathsOnDisk(wasm);
  if (!(await tf.setBackend('wasm'))) throw new Error("tf.setBackend('wasm') returned false (the .wasm file did not load)");
  registerWasmGradientKernels();
  registerHeapKernels();
  const popcount = registerBinaryConv();
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  return `wasm (tfjs-backend-wasm ${wasm.version_wasm}${simd ? ', simd' : ''}, 1 thread${popcount ? ', popcount binary conv forward' : ''})`;
}

async function tryCpu(): Promise<string> {
  if (!(await tf.setBackend('cpu'))) throw new Error("tf.setBackend('cpu') returned false");
  return 'cpu (tfjs-backend-cpu, pure JavaScript)';
}

const attempts: Record<BackendName, () => Promise<string>> = { tensorflow: tryTensorflow, wasm: tryWasm, cpu: tryCpu };

/**
 * Activate the best available backend, starting at `prefer`: tfjs-node if it loads, else wasm, else
 * cpu. The choice is logged and returned so that every result can record it.
 */
export async function selectBackend(options: SelectBackendOptions = {}): Promise<BackendSelection> {
  const prefer = options.prefer ?? 'tensorflow';
  const order = options.strict ? [prefer] : BACKEND_ORDER.slice(BACKEND_ORDER.indexOf(prefer));
  const skipped: BackendSelection['skipped'] = [];
  // Silences tfjs's "install tfjs-node" console banner; the backend choice is logged below instead.
  tf.env().set('PROD', true);
  for (const name of order) {
    try {
      const description = await attempts[name]();
      await tf.ready();
      registerBatchNormGradient();
      const selection = { name, description, skipped };
      options.logger?.info({ backend: name, description, skipped }, `training backend: ${description}`);
      return selection;
    } catch (e) {
      const reason = (e as Error).message.split('\n')[0];
      skipped.push({ name, reason });
      options.logger?.debug({ backend: name, reason }, `backend ${name} unavailable`);
    }
  }
  throw new Error(`no TensorFlow.js backend could be activated: ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}`);
}

/**
 * Install the conv gradient kernels `kernels` names on the active backend and say what runs them,
 * for the backend description. Only the wasm backend takes them (tfjs-node and the CPU backend
 * keep their own: returns ''). 'onnxruntime' that cannot load fails loudly, with the reason: the
 * numbers differ in the last bits from tfjs-wasm's, so falling back silently would give another
 * model under the same cache key.
 */
export function useGradientKernels(kernels: GradientKernels): string {
  if (tf.getBackend() !== 'wasm') return '';
  if (kernels === 'wasm') {
    unregisterOrtGradientKernels();
    return '';
  }
  try {
    return `, conv gradients on onnxruntime-node ${registerOrtGradientKernels()} (MLAS, 1 thread)`;
  } catch (e) {
    throw new Error(
      `the onnxruntime conv gradient kernels cannot run here: ${(e as Error).message.split('\n')[0]} (train with gradientKernels: wasm for tfjs-wasm's own kernels)`,
    );
  }
}
