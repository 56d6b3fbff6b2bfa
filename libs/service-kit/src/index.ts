export * from './config';
export * from './logger';
export * from './tokens';
export * from './health';
export * from './event-log.provider';
export * from './bootstrap';
export * from './metrics';
export * from './tracing';
