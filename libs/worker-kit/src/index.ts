export * from './config';
export * from './live';
export * from './runtime';
export * from './module';
export * from './llm';
