import { Inject, Injectable, type BeforeApplicationShutdown, type DynamicModule, type OnApplicationBootstrap, type Type } from '@nestjs/common';
import type { NatsNames } from '@conclave/contracts';
import { EventLog } from '@conclave/event-log';
import { createHealthController, createLogger, durableConsumers, eventLogProviders, HEALTH_CHECKS, LOGGER, natsConnectionOptions, ServiceMetrics, type Logger } from '@conclave/service-kit';
import { describeWorkerEnv, type WorkerEnv } from './config';

/** What the Nest shell needs of a worker runtime (WorkerRuntime satisfies it). */
export interface ManagedRuntime {
  start(): Promise<void>;
  shutdown(): Promise<void>;
  readonly running: boolean;
  readonly inFlightCount: number;
}

const RUNTIME = Symbol('WORKER_RUNTIME');
/** starts the scrape-time metrics of this worker (in flight, its consumers); returns what stops them */
const WATCH_METRICS = Symbol('WORKER_WATCH_METRICS');

/**
 * Starts pulling after bootstrap; on shutdown stops pulling and drains in-flight calls (grace
 * period, then abort + hand back) before EventLogCloser drains the NATS connection.
 */
@Injectable()
class WorkerLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(
    @Inject(RUNTIME) private readonly runtime: ManagedRuntime,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(WATCH_METRICS) private readonly watchMetrics: () => () => void,
  ) {}
  private unwatch = () => {};
  async onApplicationBootstrap() {
    await this.runtime.start();
    this.unwatch = this.watchMetrics();
  }
  async beforeApplicationShutdown(signal?: string) {
    this.unwatch();
    this.logger.info({ signal, inFlight: this.runtime.inFlightCount }, 'draining');
    await this.runtime.shutdown();
  }
}

/** The Nest module of a worker service (llm-worker, judge): logger, NATS, runtime, health, lifecycle. */
export function createWorkerModule(options: {
  module: Type<unknown>;
  service: string;
  env: WorkerEnv;
  /** extra settings logged at boot (never secrets: describeWorkerEnv masks the keys) */
  describe?: Record<string, unknown>;
  createRuntime: (log: EventLog, logger: Logger) => ManagedRuntime;
  /** its durable consumers on the COMMANDS stream: their pending and redelivered counts are metrics */
  durables: (names: NatsNames) => string[];
}): DynamicModule {
  const { env, service } = options;
  const logger = createLogger(service, env.LOG_LEVEL, { instance: env.INSTANCE_ID });
  logger.info({ config: { ...describeWorkerEnv(env), ...options.describe } }, 'configuration');
  return {
    module: options.module,
    controllers: env.HEALTH_PORT > 0 ? [createHealthController(service)] : [],
    providers: [
      { provide: LOGGER, useValue: logger },
      ...eventLogProviders({ ...natsConnectionOptions(env), prefix: env.CONCLAVE_PREFIX, name: `${service}-${env.INSTANCE_ID}` }),
      { provide: RUNTIME, inject: [EventLog], useFactory: (log: EventLog) => options.createRuntime(log, logger) },
      {
        provide: HEALTH_CHECKS,
        inject: [EventLog, RUNTIME],
        useFactory: (log: EventLog, runtime: ManagedRuntime) => ({ nats: () => !log.nc.isClosed(), pulling: () => runtime.running }),
      },
      {
        provide: WATCH_METRICS,
        inject: [EventLog, RUNTIME],
        useFactory: (log: EventLog, runtime: ManagedRuntime) => () => {
          const metrics = new ServiceMetrics(service);
          const stops = [
            metrics.watchInFlight(env.INSTANCE_ID, () => runtime.inFlightCount),
            metrics.watchConsumers(durableConsumers(log, options.durables(log.names).map((d) => [log.names.streams.commands, d] as const))),
          ];
          return () => stops.forEach((stop) => stop());
        },
      },
      WorkerLifecycle,
    ],
  };
}
