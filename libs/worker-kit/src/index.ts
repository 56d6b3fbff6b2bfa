export * from './config';
export * from './live';
export * from './runtime';
