// The private environment every bench runs in: a unique stream prefix on the NATS at NATS_URL and,
// unless `database: false`, a fresh database on the Postgres at DATABASE_URL (both started locally
// when none answer, as `npm start` does), migrated and with the streams, consumers and seeded
// templates of `setup`. `close()` removes the streams and drops the database; stop any spawned
// service first (stopChildren) so nothing holds a connection to them.
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import pg from 'pg';
import { ensureInfra } from '../infra.mjs';
import { setup } from '../setup.mjs';
import { ROOT } from './stack.mjs';

const require = createRequire(import.meta.url);
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/**
 * @param {string} label names the prefix (`<label>_<hex>`) and the database (`conclave_<label>_<hex>`)
 * @param {{ database?: boolean, loopbackOnly?: boolean }} [options]
 *   database: false → NATS only (no Postgres, no migrations; the streams and consumers are created);
 *   loopbackOnly → refuse a NATS_URL that is not on this machine (figures over a network mislead)
 * @returns {Promise<{ id: string, prefix: string, env: Record<string, string>, eventLog: any, db: pg.Client | null, close: () => Promise<void> }>}
 *   env: NATS_URL, CONCLAVE_PREFIX and (with a database) DATABASE_URL, for spawned services;
 *   eventLog: an EventLog on the prefix; db: a connected client on the bench database
 */
export async function openBenchEnv(label, { database = true, loopbackOnly = false } = {}) {
  const { EventLog } = require('@conclave/event-log');
  const id = randomBytes(3).toString('hex');
  const prefix = `${label}_${id}`;
  let natsUrl = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
  if (loopbackOnly && !LOOPBACK.has(new URL(natsUrl.replace(/^nats:/, 'http:')).hostname)) {
    throw new Error(`${label}: loopback NATS only (got ${natsUrl})`);
  }
  const env = { NATS_URL: natsUrl, CONCLAVE_PREFIX: prefix };
  const cleanups = [];
  const close = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  };
  try {
    let db = null;
    if (database) {
      const server = await ensureInfra({ natsUrl, databaseUrl: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/conclave', dataDir: join(ROOT, '.conclave'), log: () => {} });
      natsUrl = env.NATS_URL = server.natsUrl;
      const dbName = `conclave_${label}_${id}`;
      const adminUrl = new URL(server.databaseUrl);
      adminUrl.pathname = '/postgres';
      const dbUrl = new URL(server.databaseUrl);
      dbUrl.pathname = `/${dbName}`;
      const admin = new pg.Client({ connectionString: adminUrl.toString() });
      await admin.connect();
      cleanups.push(() => admin.end());
      await admin.query(`CREATE DATABASE "${dbName}"`);
      cleanups.push(() => admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`));
      env.DATABASE_URL = dbUrl.toString();
      await setup({ natsUrl, databaseUrl: env.DATABASE_URL, prefix, log: () => {} });
      db = new pg.Client({ connectionString: env.DATABASE_URL });
      await db.connect();
      cleanups.push(() => db.end());
    }
    const eventLog = await EventLog.connect({ servers: natsUrl, prefix, name: `bench-${label}` });
    cleanups.push(() => eventLog.close());
    cleanups.push(() => eventLog.destroyTopology());
    if (!database) await eventLog.ensureTopology();
    return { id, prefix, env, eventLog, db, close };
  } catch (err) {
    await close();
    throw err;
  }
}
