export * from './model-format';
export * from './random-model';
export * from './kernel-set';
export { referenceKernels, thresholdBit } from './reference-kernels';
export { createWasmKernels, WasmKernelInstance, KERNELS_WASM_PATH, type KernelExports } from './wasm-kernels';
