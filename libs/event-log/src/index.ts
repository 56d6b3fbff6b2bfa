export * from './event-log';
export * from './consumer';
export * from './errors';
export * from './transcripts';
export * from './fingerprint';
export * from './nats-auth';
export * from './nats-server-config';
export * from './alerts';
