export * from './event-log';
export * from './consumer';
export * from './errors';
