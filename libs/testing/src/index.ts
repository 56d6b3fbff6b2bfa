export * from './infra';
export * from './test-env';
