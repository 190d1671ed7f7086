export * from './plan-format';
export * from './plan-policies';
