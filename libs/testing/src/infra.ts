import { connect } from '@nats-io/transport-node';
import { Client } from 'pg';

/**
 * Where tests find NATS and Postgres, in this order: NATS_URL / DATABASE_URL when set; the local
 * services when they answer; containers started with testcontainers when a Docker engine exists.
 * Machines without an engine (like the dev machines) fail fast there with a clear message.
 */
export interface Infra {
  natsUrl: string;
  /** a server URL; tests create their own database on it */
  databaseUrl: string;
  source: 'env' | 'local' | 'testcontainers';
  stop?: () => Promise<void>;
}

export const LOCAL_NATS = 'nats://127.0.0.1:4222';
export const LOCAL_POSTGRES = 'postgres://postgres@127.0.0.1:5432/postgres';

export async function natsAnswers(url: string): Promise<boolean> {
  try {
    const nc = await connect({ servers: url, timeout: 1500, reconnect: false });
    await nc.close();
    return true;
  } catch {
    return false;
  }
}

export async function postgresAnswers(url: string): Promise<boolean> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 1500 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

let shared: Promise<Infra> | null = null;

export function resolveInfra(): Promise<Infra> {
  shared ??= (async () => {
    if (process.env.NATS_URL && process.env.DATABASE_URL) {
      return { natsUrl: process.env.NATS_URL, databaseUrl: process.env.DATABASE_URL, source: 'env' as const };
    }
    const natsUrl = process.env.NATS_URL ?? LOCAL_NATS;
    const databaseUrl = process.env.DATABASE_URL ?? LOCAL_POSTGRES;
    if ((await natsAnswers(natsUrl)) && (await postgresAnswers(databaseUrl))) return { natsUrl, databaseUrl, source: 'local' as const };
    return startContainers();
  })();
  return shared;
}

/** NATS (JetStream) and Postgres in containers; only where a Docker engine answers. */
export async function startContainers(): Promise<Infra> {
  let tc: typeof import('testcontainers');
  try {
    tc = await import('testcontainers');
  } catch (err) {
    throw new Error(`NATS/Postgres are not reachable and testcontainers cannot load: ${String(err)}`);
  }
  try {
    const nats = await new tc.GenericContainer('nats:2.10-alpine').withCommand(['-js']).withExposedPorts(4222).start();
    const pg = await new tc.GenericContainer('postgres:16-alpine')
      .withEnvironment({ POSTGRES_HOST_AUTH_METHOD: 'trust' })
      .withExposedPorts(5432)
      .withWaitStrategy(tc.Wait.forLogMessage(/database system is ready to accept connections/, 2))
      .start();
    return {
      natsUrl: `nats://${nats.getHost()}:${nats.getMappedPort(4222)}`,
      databaseUrl: `postgres://postgres@${pg.getHost()}:${pg.getMappedPort(5432)}/postgres`,
      source: 'testcontainers',
      stop: async () => {
        await nats.stop();
        await pg.stop();
      },
    };
  } catch (err) {
    throw new Error(
      'NATS and Postgres are not reachable at NATS_URL / DATABASE_URL or 127.0.0.1, and no container runtime ' +
        `could start them (${(err as Error).message}). Start them (see README "Tests") or set the URLs.`,
    );
  }
}
