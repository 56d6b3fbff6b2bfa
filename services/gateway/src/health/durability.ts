import type { Durability, PostgresDurability } from '@conclave/contracts';
import { natsDurability, type EventLog } from '@conclave/event-log';
import type { DataSource } from '@conclave/read-models';

/** Resolves null instead of failing or hanging past `ms`: a probe must answer within its own bound. */
export async function within<T>(ms: number, probe: () => Promise<T>): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([probe().catch(() => null), new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * What an acknowledged write survives right now (ADR 011), as `/ready` reports it. NATS: the
 * version in the INFO of the server this connection is on, the deployment's CONCLAVE_NATS_SYNC,
 * and the events stream's replica count; a 2.9 server is `interval` whatever is announced, a newer
 * one without an announcement `unknown`. Postgres: its own `fsync` and `synchronous_commit`.
 */
export async function readDurability(deps: { log: EventLog; dataSource: DataSource; announcedSync: string | undefined; timeoutMs: number }): Promise<Durability> {
  const { log, dataSource, announcedSync, timeoutMs } = deps;
  const connected = !log.nc.isClosed();
  const [stream, settings] = await Promise.all([
    connected ? within(timeoutMs, () => log.jsm.streams.info(log.names.streams.events)) : Promise.resolve(null),
    within(timeoutMs, () => dataSource.query("select current_setting('fsync') as fsync, current_setting('synchronous_commit') as synchronous_commit") as Promise<PostgresDurability[]>),
  ]);
  return {
    nats: natsDurability({ serverVersion: connected ? log.nc.info?.version : null, announced: announcedSync, replicas: stream?.config.num_replicas ?? null }),
    postgres: { fsync: settings?.[0]?.fsync ?? null, synchronous_commit: settings?.[0]?.synchronous_commit ?? null },
  };
}
