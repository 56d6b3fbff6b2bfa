export * from './run-state';
export * from './decide';
export * from './render';
export * from './budget-policy';
