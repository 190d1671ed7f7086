/** Backends in the order cbnn prefers them: native TensorFlow, then WebAssembly, then pure JS. */
export type BackendName = 'tensorflow' | 'wasm' | 'cpu';
export const BACKEND_ORDER: readonly BackendName[] = ['tensorflow', 'wasm', 'cpu'];
