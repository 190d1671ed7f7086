export * from './backend';
export * from './wasm-gradients';
