import { Inject, Injectable, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import { EventLog } from '@conclave/event-log';

/**
 * Provides a connected EventLog (token: the EventLog class). It does not create the streams and
 * consumers: set-up does that (scripts/setup.mjs, as the NATS admin user), and a service's own NATS
 * user may not create, change or delete them (least-privilege NATS, libs/contracts
 * nats-permissions.ts); a service started before set-up fails on the first missing stream or
 * consumer. The log is drained in onApplicationShutdown, which Nest runs after every
 * beforeApplicationShutdown hook: consumers stop there first, so nothing is left half-acked.
 */
export function eventLogProviders(options: { servers: string | string[]; prefix: string; name: string; user?: string; pass?: string }): Provider[] {
  return [
    {
      provide: EventLog,
      useFactory: () => connectWithRetry(() => EventLog.connect(options)),
    },
    EventLogCloser,
  ];
}

/** connection attempts at boot before the service gives up (a NATS restarting, or slow to authenticate under load) */
const BOOT_ATTEMPTS = 8;

/**
 * Connect, retrying a failed first connection (1 s, 2 s, 4 s … capped at 5 s; about 30 s in all):
 * a NATS that restarts, or times a login out under load, must not end a service at boot, while
 * a lasting misconfiguration (a wrong password) still fails it with the server's reason.
 */
export async function connectWithRetry<T>(connect: () => Promise<T>, attempts = BOOT_ATTEMPTS, sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await connect();
    } catch (err) {
      if (attempt >= attempts) throw err;
      process.stderr.write(`NATS connection attempt ${attempt} of ${attempts} failed (${err instanceof Error ? err.message : String(err)}); retrying\n`);
      await sleep(Math.min(5_000, 1_000 * 2 ** (attempt - 1)));
    }
  }
}

@Injectable()
export class EventLogCloser implements OnApplicationShutdown {
  constructor(@Inject(EventLog) private readonly log: EventLog) {}
  async onApplicationShutdown() {
    await this.log.close();
  }
}
