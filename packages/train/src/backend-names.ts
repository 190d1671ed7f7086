/** Backends in the order cbnn prefers them: native TensorFlow, then WebAssembly, then pure JS. */
export type BackendName = 'tensorflow' | 'wasm' | 'cpu';
export const BACKEND_ORDER: readonly BackendName[] = ['tensorflow', 'wasm', 'cpu'];

/** Where the conv gradients (dX, dW) of training run on the wasm backend. */
export type GradientKernels = 'onnxruntime' | 'wasm';
export const GRADIENT_KERNELS: readonly GradientKernels[] = ['onnxruntime', 'wasm'];
