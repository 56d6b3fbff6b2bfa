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
      useFactory: async () => {
        return EventLog.connect(options);
      },
    },
    EventLogCloser,
  ];
}

@Injectable()
export class EventLogCloser implements OnApplicationShutdown {
  constructor(@Inject(EventLog) private readonly log: EventLog) {}
  async onApplicationShutdown() {
    await this.log.close();
  }
}
