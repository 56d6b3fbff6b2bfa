import type { Submittable } from 'pg';
import { from as copyFromStdin } from 'pg-copy-streams';
import type { EntityManager } from 'typeorm';

/** The part of node-postgres' client a named query needs. */
interface NamedQueryClient {
  query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: Record<string, unknown>[] }>;
  query(text: string): Promise<SimpleResult | SimpleResult[]>;
  query<T extends Submittable>(submittable: T): T;
}

/** One statement's result of a simple query. */
export interface SimpleResult {
  /** the statement's tag: SELECT, SET, SAVEPOINT, … */
  command: string;
  rows: Record<string, unknown>[];
}

/**
 * What a projection transaction sets first (in projectBatch's first round trip, with the
 * checkpoint's lock): its commit need not wait for the WAL flush (the read models are derived from
 * the log, ADR 014), and its prepared statements are planned for their parameters on every run.
 * Postgres would otherwise switch them to a generic plan after five runs, which measured dearer
 * as the tables grew (`npm run bench`, 64 runs in flight: 4.6–4.8 against 3.4–3.7 ms of Postgres
 * CPU per run); the parse is still saved. (Generic plans for batches of a few commits only were
 * tried on 2026-12-05: no difference beyond the noise.)
 */
export const PROJECTION_TRANSACTION_SETTINGS = 'SET LOCAL synchronous_commit TO off; SET LOCAL plan_cache_mode TO force_custom_plan';

/** The same planning for a connection that folds batches ahead of their transaction (foldAhead's reader), for its whole session. */
export const PROJECTION_READER_SETTINGS = 'SET plan_cache_mode TO force_custom_plan';

/** One statement name per SQL text, for the process (the same text always gets the same name). */
const NAMES = new Map<string, string>();

/**
 * Run one of the projection's fixed statements as a named prepared statement on the manager's
 * connection. node-postgres sends the Parse once per connection and name, and Postgres skips
 * parsing on every later call (planning too, unless the transaction forces custom plans:
 * PROJECTION_TRANSACTION_SETTINGS). Postgres re-parses a prepared statement by itself when a table
 * it reads changes or `search_path` does (replay's rebuild schema), so a name stays valid across
 * migrations and rebuild swaps.
 *
 * Only for SQL whose text is fixed in the code (never interpolated values): the name is keyed by
 * text, and each distinct text occupies a prepared statement on every pooled connection.
 * Bypasses TypeORM's query logging and subscribers, which the projection does not use.
 */
export async function preparedQuery<T = Record<string, unknown>>(m: EntityManager, sql: string, params: unknown[]): Promise<T[]> {
  if (!m.queryRunner) return m.query(sql, params);
  let name = NAMES.get(sql);
  if (name === undefined) NAMES.set(sql, (name = `conclave_${NAMES.size + 1}`));
  const client = await clientOf(m);
  const result = await client.query({ name, text: sql, values: params });
  return result.rows as T[];
}

/**
 * Several statements without parameters in one round trip (the simple query protocol) on the
 * manager's connection, and each statement's result in order. TypeORM's `query` returns only a
 * single statement's rows.
 */
export async function simpleQuery(m: EntityManager, sql: string): Promise<SimpleResult[]> {
  const result = await (await clientOf(m)).query(sql);
  return Array.isArray(result) ? result : [result];
}

/**
 * `COPY … FROM STDIN` of `data` (the whole body, e.g. binaryCopyRows') on the manager's
 * connection, through pg-copy-streams; settles when Postgres has taken every row, or with its
 * error (a refused row fails the COPY as a failed INSERT would, with the same SQLSTATE).
 */
export async function copyIn(m: EntityManager, sql: string, data: Buffer): Promise<void> {
  const stream = (await clientOf(m)).query(copyFromStdin(sql));
  await new Promise<void>((resolve, reject) => {
    stream.once('error', reject);
    stream.once('finish', resolve);
    stream.end(data);
  });
}

/** The node-postgres client under the manager's query runner (a transaction's). */
async function clientOf(m: EntityManager): Promise<NamedQueryClient> {
  if (!m.queryRunner) throw new Error("the projection's queries need a transaction's EntityManager");
  return (await m.queryRunner.connect()) as NamedQueryClient;
}
