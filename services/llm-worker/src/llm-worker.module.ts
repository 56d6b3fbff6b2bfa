import { Inject, Injectable, Module, type BeforeApplicationShutdown, type DynamicModule, type OnApplicationBootstrap } from '@nestjs/common';
import { EventLog } from '@conclave/event-log';
import { createHealthController, createLogger, eventLogProviders, HEALTH_CHECKS, LOGGER, type Logger } from '@conclave/service-kit';
import { describeWorkerEnv } from '@conclave/worker-kit';
import { createGenerateRuntime, type GenerateRuntime } from './adapters/generate-worker';
import type { LlmWorkerEnv } from './config';

const RUNTIME = Symbol('LLM_WORKER_RUNTIME');

/**
 * Starts pulling after bootstrap; on shutdown stops pulling and drains in-flight calls (grace
 * period, then abort + hand back) before EventLogCloser drains the NATS connection.
 */
@Injectable()
class WorkerLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(
    @Inject(RUNTIME) private readonly runtime: GenerateRuntime,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}
  async onApplicationBootstrap() {
    await this.runtime.start();
  }
  async beforeApplicationShutdown(signal?: string) {
    this.logger.info({ signal, inFlight: this.runtime.inFlightCount }, 'draining');
    await this.runtime.shutdown();
  }
}

@Module({})
export class LlmWorkerModule {
  static forRoot(env: LlmWorkerEnv): DynamicModule {
    const logger = createLogger('llm-worker', env.LOG_LEVEL, { instance: env.INSTANCE_ID });
    logger.info({ config: describeWorkerEnv(env) }, 'configuration');
    return {
      module: LlmWorkerModule,
      controllers: env.HEALTH_PORT > 0 ? [createHealthController('llm-worker')] : [],
      providers: [
        { provide: LOGGER, useValue: logger },
        ...eventLogProviders({ servers: env.NATS_URL, prefix: env.CONCLAVE_PREFIX, name: `llm-worker-${env.INSTANCE_ID}` }),
        { provide: RUNTIME, inject: [EventLog], useFactory: (log: EventLog) => createGenerateRuntime(env, log, logger) },
        {
          provide: HEALTH_CHECKS,
          inject: [EventLog, RUNTIME],
          useFactory: (log: EventLog, runtime: GenerateRuntime) => ({ nats: () => !log.nc.isClosed(), pulling: () => runtime.running }),
        },
        WorkerLifecycle,
      ],
    };
  }
}
