export * from './plan-format';
export * from './plan-policies';
export * from './model-folder';
export * from './search-format';
export * from './selection';
export * from './search-candidates';
export * from './select-stage';
export * from './plan-stage';
