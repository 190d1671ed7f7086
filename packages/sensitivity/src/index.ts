export * from './perturbation';
export * from './plane-packing';
export * from './plane-sets';
export * from './classifier';
export * from './analysis';
export * from './sensitivity-format';
export * from './model-evaluation';
export * from './sensitivity-stage';
