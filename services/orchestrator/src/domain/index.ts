export * from './run-state';
export * from './decide';
export * from './render';
