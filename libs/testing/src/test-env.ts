import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { EventLog, type TopologyOptions } from '@conclave/event-log';
import { resolveInfra } from './infra';
import { startAuthNats, type AuthNats } from './nats-server';

/**
 * One test file's private world: a unique NATS prefix (its own streams and subjects) and a fresh
 * Postgres database, both removed by dispose(). Suites can therefore run side by side.
 */
export interface TestEnv {
  id: string;
  prefix: string;
  natsUrl: string;
  /** URL of this env's own database */
  databaseUrl: string;
  databaseName: string;
  /** connected log with the topology created */
  log: EventLog;
  /** environment variables that point a service process at this env (the admin user under natsAuth) */
  serviceEnv: Record<string, string>;
  /** this env's own nats-server with a user per service (natsAuth), else undefined (the shared NATS, anonymous) */
  nats?: AuthNats;
  dispose(): Promise<void>;
}

export interface TestEnvOptions extends TopologyOptions {
  /** create a database (default true) */
  database?: boolean;
  /**
   * run on a private nats-server with the generated least-privilege config (a user per service;
   * the test's own log connects as the admin). Default: CONCLAVE_TEST_NATS=auth (the e2e tier).
   */
  natsAuth?: boolean;
}

export async function createTestEnv(label = 't', options: TestEnvOptions = {}): Promise<TestEnv> {
  const infra = await resolveInfra();
  const id = `${label.toLowerCase().replace(/[^a-z0-9]/g, '').slice(0, 12)}${randomBytes(4).toString('hex')}`;
  const prefix = `t_${id}`;
  const databaseName = `conclave_${id}`;
  const databaseUrl = withDatabase(infra.databaseUrl, databaseName);
  if (options.database !== false) await adminQuery(infra.databaseUrl, `CREATE DATABASE "${databaseName}"`);
  const nats = (options.natsAuth ?? process.env.CONCLAVE_TEST_NATS === 'auth') ? await startAuthNats(prefix) : undefined;
  const natsUrl = nats?.url ?? infra.natsUrl;
  const admin = nats ? nats.serviceEnv('admin') : undefined;
  const log = await EventLog.connect({ servers: natsUrl, prefix, name: `test-${id}`, ...(admin ? { user: admin.NATS_USER, pass: admin.NATS_PASSWORD } : {}) });
  await log.ensureTopology(options);
  return {
    id,
    prefix,
    natsUrl,
    databaseUrl,
    databaseName,
    log,
    serviceEnv: { NATS_URL: natsUrl, DATABASE_URL: databaseUrl, CONCLAVE_PREFIX: prefix, ...admin },
    nats,
    async dispose() {
      await log.destroyTopology().catch(() => undefined);
      await log.close();
      await nats?.stop();
      if (options.database !== false) await adminQuery(infra.databaseUrl, `DROP DATABASE IF EXISTS "${databaseName}" WITH (FORCE)`);
    },
  };
}

export function withDatabase(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

async function adminQuery(serverUrl: string, sql: string): Promise<void> {
  const client = new Client({ connectionString: withDatabase(serverUrl, 'postgres') });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Poll until `check` returns a truthy value or the timeout passes (then throws with `what`). */
export async function eventually<T>(check: () => Promise<T | undefined | null | false>, what: string, timeoutMs = 15_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
