import { DataSource, type DataSourceOptions, type MigrationInterface } from 'typeorm';
import { READ_MODEL_ENTITIES } from './entities';
import { Init1795305600000 } from './migrations/1795305600000-Init';
import { LoopRounds1795312800000 } from './migrations/1795312800000-LoopRounds';
import { ProvidersBudgetsFleet1795330000000 } from './migrations/1795330000000-ProvidersBudgetsFleet';
import { RunControls1795340000000 } from './migrations/1795340000000-RunControls';
import { CandidateTranscripts1795350000000 } from './migrations/1795350000000-CandidateTranscripts';
import { ProviderHealth1795351000000 } from './migrations/1795351000000-ProviderHealth';
import { RunWorkspaces1795360000000 } from './migrations/1795360000000-RunWorkspaces';
import { CheckpointCommits1795361000000 } from './migrations/1795361000000-CheckpointCommits';
import { IdempotencyKeys1795362000000 } from './migrations/1795362000000-IdempotencyKeys';
import { ProviderSecretVersions1795365000000 } from './migrations/1795365000000-ProviderSecretVersions';
import { DeadLetters1795364000000 } from './migrations/1795364000000-DeadLetters';
import { VerdictMissing1795366000000 } from './migrations/1795366000000-VerdictMissing';
import { ParkedStreams1795367000000 } from './migrations/1795367000000-ParkedStreams';
import { AlertsAsEvents1795369000000 } from './migrations/1795369000000-AlertsAsEvents';
import { LogPositions1795368000000 } from './migrations/1795368000000-LogPositions';
import { LoopWinners1795369200000 } from './migrations/1795369200000-LoopWinners';
import { UsageTimeIndexes1795369400000 } from './migrations/1795369400000-UsageTimeIndexes';
import { CompletedRunsByTemplate1795369700000 } from './migrations/1795369700000-CompletedRunsByTemplate';
import { TraceIds1795369800000 } from './migrations/1795369800000-TraceIds';
import { RunBudgetPolicy1795370100000 } from './migrations/1795370100000-RunBudgetPolicy';
import { Studies1795370000000 } from './migrations/1795370000000-Studies';
import { DeadLetterRow } from './dead-letters';
import { GATEWAY_OWNED_ENTITIES } from './operational';
import { ProviderRow } from './providers';

/** In order; append new ones (released migrations are never edited). */
export const READ_MODEL_MIGRATIONS: (new () => MigrationInterface)[] = [Init1795305600000, LoopRounds1795312800000, ProvidersBudgetsFleet1795330000000, RunControls1795340000000, CandidateTranscripts1795350000000, ProviderHealth1795351000000, RunWorkspaces1795360000000, CheckpointCommits1795361000000, IdempotencyKeys1795362000000, DeadLetters1795364000000, ProviderSecretVersions1795365000000, VerdictMissing1795366000000, ParkedStreams1795367000000, LogPositions1795368000000, AlertsAsEvents1795369000000, LoopWinners1795369200000, UsageTimeIndexes1795369400000, CompletedRunsByTemplate1795369700000, TraceIds1795369800000, Studies1795370000000, RunBudgetPolicy1795370100000];

/**
 * Own migrations table: other services may keep their own TypeORM migrations in the same
 * database, and a shared table would mix the two histories.
 */
export const MIGRATIONS_TABLE = 'read_models_migrations';

/** pg_advisory_lock key serialising `migrate()` across processes (any fixed int8). */
export const MIGRATION_LOCK_KEY = 7_236_911_024;

export interface ReadModelDataSourceOptions {
  /** pool size (default 10) */
  poolSize?: number;
  /** shown in pg_stat_activity */
  applicationName?: string;
  logging?: boolean;
  /** ms before the first connection attempt gives up (default 10 s) */
  connectTimeoutMs?: number;
}

/** The TypeORM options of the read models (for `new DataSource(...)` or Nest's TypeOrmModule). */
export function readModelDataSourceOptions(databaseUrl: string, options: ReadModelDataSourceOptions = {}): DataSourceOptions {
  return {
    type: 'postgres',
    url: databaseUrl,
    // providers is a log-derived read model; the gateway-owned tables are not (a replay leaves them
    // alone), nor are dead letters (folded from DEAD_LETTERS, not from the events a replay reads)
    entities: [...READ_MODEL_ENTITIES, ProviderRow, ...GATEWAY_OWNED_ENTITIES, DeadLetterRow],
    migrations: READ_MODEL_MIGRATIONS,
    migrationsTableName: MIGRATIONS_TABLE,
    migrationsRun: false,
    synchronize: false,
    logging: options.logging ?? false,
    poolSize: options.poolSize ?? 10,
    applicationName: options.applicationName ?? 'conclave-read-models',
    connectTimeoutMS: options.connectTimeoutMs ?? 10_000,
  };
}

/** The part of pg's Pool and Client this file touches. */
interface EventSource {
  on(event: string, listener: (arg: EventSource) => void): unknown;
}

/**
 * A DataSource whose pooled clients all have an `error` listener. pg's pool listens for errors
 * only on idle clients; when Postgres ends a connection while a client is checked out (a
 * restart, pg_terminate_backend), that client emits `error` with nobody listening, which
 * Node turns into an uncaught exception. The query in flight still rejects with the same
 * error, so its caller sees it and the listener only has to keep the process alive.
 */
class ReadModelDataSource extends DataSource {
  override async initialize(): Promise<this> {
    await super.initialize();
    const pool = (this.driver as unknown as { master?: EventSource }).master;
    const guarded = new WeakSet<EventSource>();
    pool?.on('acquire', (client) => {
      if (guarded.has(client)) return;
      guarded.add(client);
      client.on('error', () => undefined);
    });
    return this;
  }
}

/** A DataSource over the read models; not yet initialized (call `.initialize()`). */
export function createDataSource(databaseUrl: string, options: ReadModelDataSourceOptions = {}): DataSource {
  return new ReadModelDataSource(readModelDataSourceOptions(databaseUrl, options));
}

/**
 * Run pending read-model migrations, each in its own transaction. Idempotent, and safe when
 * several processes boot at once: a session-level advisory lock, held on a separate connection,
 * makes them take turns (the later ones find nothing pending). Returns the names it applied.
 */
export async function migrate(databaseUrl: string, options: Pick<ReadModelDataSourceOptions, 'logging' | 'applicationName'> = {}): Promise<string[]> {
  const ds = createDataSource(databaseUrl, { ...options, poolSize: 2, applicationName: options.applicationName ?? 'conclave-migrate' });
  await ds.initialize();
  const lock = ds.createQueryRunner();
  try {
    await lock.connect();
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      const applied = await ds.runMigrations({ transaction: 'each' });
      return applied.map((m) => m.name);
    } finally {
      await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    }
  } finally {
    await lock.release().catch(() => undefined);
    await ds.destroy();
  }
}
