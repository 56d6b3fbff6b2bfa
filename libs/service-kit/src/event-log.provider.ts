import { Inject, Injectable, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import { EventLog, type TopologyOptions } from '@conclave/event-log';

/**
 * Provides a connected EventLog (token: the EventLog class) with the topology ensured. It is
 * drained in onApplicationShutdown, which Nest runs after every beforeApplicationShutdown hook:
 * consumers stop there first, so nothing is left half-acked.
 */
export function eventLogProviders(options: { servers: string; prefix: string; name: string } & TopologyOptions): Provider[] {
  return [
    {
      provide: EventLog,
      useFactory: async () => {
        const log = await EventLog.connect(options);
        await log.ensureTopology(options);
        return log;
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
