import type { EntityManager } from 'typeorm';

/** The part of node-postgres' client a named query needs. */
interface NamedQueryClient {
  query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: Record<string, unknown>[] }>;
}

/** One statement name per SQL text, for the process (the same text always gets the same name). */
const NAMES = new Map<string, string>();

/**
 * Run one of the projection's fixed statements as a named prepared statement on the manager's
 * connection. node-postgres sends the Parse once per connection and name; Postgres then skips
 * parsing on every later call and, after a few executions, planning too (a generic plan: these
 * statements take one array or jsonb parameter, so no value changes their best plan). Postgres
 * re-plans a prepared statement by itself when a table it reads changes or `search_path` does
 * (replay's rebuild schema), so a name stays valid across migrations and rebuild swaps.
 *
 * Only for SQL whose text is fixed in the code (never interpolated values): the name is keyed by
 * text, and each distinct text occupies a prepared statement on every pooled connection.
 * Bypasses TypeORM's query logging and subscribers, which the projection does not use.
 */
export async function preparedQuery<T = Record<string, unknown>>(m: EntityManager, sql: string, params: unknown[]): Promise<T[]> {
  const runner = m.queryRunner;
  if (!runner) return m.query(sql, params);
  let name = NAMES.get(sql);
  if (name === undefined) NAMES.set(sql, (name = `conclave_${NAMES.size + 1}`));
  const client = (await runner.connect()) as NamedQueryClient;
  const result = await client.query({ name, text: sql, values: params });
  return result.rows as T[];
}
