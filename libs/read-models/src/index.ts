/**
 * @conclave/read-models: the Postgres read models folded from the log. The projector writes them
 * (projectBatch), the gateway reads them (ReadModelQueries).
 *
 * TypeORM is re-exported for types only: use this package's DataSource factory rather than
 * importing `typeorm` in a service (npm may install a separate copy per workspace).
 */
export * from './entities';
export * from './data-source';
export * from './projection';
export { PROJECTION_READER_SETTINGS, PROJECTION_TRANSACTION_SETTINGS } from './prepared';
export * from './queries';
export * from './views';
export * from './attempts';
export * from './cursor';
export * from './alerts';
export * from './replay';
export * from './providers';
export * from './operational';
export * from './dead-letters';
export { jsonbSafe, toJsonb, type JsonValue } from './json';
export type { DataSource, EntityManager, QueryRunner } from 'typeorm';
export * from './parked';
export * from './studies';
