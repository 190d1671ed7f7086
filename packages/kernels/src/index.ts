export * from './model-format';
export * from './random-model';
