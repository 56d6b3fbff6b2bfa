import { hostname } from 'node:os';
import { z } from 'zod';
import { natsInboxPrefix } from '@conclave/contracts';

/**
 * Environment every service reads. A service extends it with its own fields and parses it once
 * at boot (`parseEnv`); a bad value stops the process with every problem listed.
 */
export const BaseEnv = z.object({
  /** one URL, or a comma list of a cluster's nodes (docker compose: nats-1,nats-2,nats-3) */
  NATS_URL: z.string().min(1).default('nats://127.0.0.1:4222'),
  /**
   * this service's NATS user and password (least-privilege NATS: a user per service, see
   * libs/contracts nats-permissions.ts); both unset = anonymous. The password is never logged.
   */
  NATS_USER: z.string().min(1).optional(),
  NATS_PASSWORD: z.string().min(1).optional(),
  DATABASE_URL: z.string().min(1).default('postgres://postgres@127.0.0.1:5432/conclave'),
  /** isolates streams/subjects; empty in production (DESIGN.md names) */
  CONCLAVE_PREFIX: z.string().regex(/^[a-z0-9_-]{0,40}$/).default(''),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** identifies this process (worker id in the fleet, consumer names, logs) */
  INSTANCE_ID: z.string().min(1).default(() => `${hostname()}-${process.pid}`),
  /** optional HTTP port for /health on services that serve nothing else (0 = no HTTP) */
  HEALTH_PORT: z.coerce.number().int().min(0).max(65535).default(0),
  /**
   * what the deployment says its NATS does with an acknowledged write: `always` = the config has
   * `sync_interval: always` (fsync per message, nats-server >= 2.10), `interval` = it does not.
   * Unset: not known (the gateway's /ready then says `unknown` for a 2.10+ server). Set by
   * `npm start`, `.ci/run` and docker compose for the servers they configure (ADR 011).
   */
  CONCLAVE_NATS_SYNC: z.enum(['always', 'interval']).optional(),
});
export type BaseEnv = z.infer<typeof BaseEnv>;

/** Options of every NATS connection a service makes (EventLog, Nest's NATS transport and clients). */
export function natsConnectionOptions(env: Pick<BaseEnv, 'NATS_URL' | 'NATS_USER' | 'NATS_PASSWORD'>): { servers: string[]; user?: string; pass?: string; inboxPrefix?: string } {
  // the user's own inbox prefix: the only inboxes its NATS permissions let it subscribe to
  return { servers: natsServers(env.NATS_URL), ...(env.NATS_USER ? { user: env.NATS_USER, pass: env.NATS_PASSWORD ?? '', inboxPrefix: natsInboxPrefix(env.NATS_USER) } : {}) };
}

/** NATS_URL's servers: a comma list names every node of a cluster (the client fails over between them). */
export function natsServers(url: string): string[] {
  return url
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`invalid configuration:\n  ${issues.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

export function parseEnv<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const result = schema.safeParse(env);
  if (!result.success) throw new ConfigError(result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  return result.data;
}
