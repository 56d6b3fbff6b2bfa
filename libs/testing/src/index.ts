export * from './infra';
export * from './test-env';
export * from './stack';
export * from './fake-llm';
export * from './nats-server';
export * from './chaos';
