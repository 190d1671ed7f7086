export * from './backend';
export * from './wasm-gradients';
export * from './quantizers';
export * from './quant-layers';
export * from './architecture';
export * from './builders';
export * from './model-summary';
export * from './tfjs-files';
