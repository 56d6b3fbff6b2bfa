import { Inject, Injectable, Module, type BeforeApplicationShutdown, type DynamicModule, type OnApplicationBootstrap } from '@nestjs/common';
import { EventLog } from '@conclave/event-log';
import { createHealthController, createLogger, eventLogProviders, HEALTH_CHECKS, LOGGER, type Logger } from '@conclave/service-kit';
import { describeWorkerEnv } from '@conclave/worker-kit';
import { createJudgeRuntime, type JudgeRuntime } from './adapters/judge-worker';
import type { JudgeEnv } from './config';

const RUNTIME = Symbol('JUDGE_RUNTIME');

/**
 * Starts pulling after bootstrap; on shutdown stops pulling and drains in-flight judgements (grace
 * period, then abort + hand back) before EventLogCloser drains the NATS connection.
 */
@Injectable()
class WorkerLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(
    @Inject(RUNTIME) private readonly runtime: JudgeRuntime,
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
export class JudgeModule {
  static forRoot(env: JudgeEnv): DynamicModule {
    const logger = createLogger('judge', env.LOG_LEVEL, { instance: env.INSTANCE_ID });
    logger.info({ config: { ...describeWorkerEnv(env), judgeTimeoutSeconds: env.JUDGE_TIMEOUT_SECONDS } }, 'configuration');
    return {
      module: JudgeModule,
      controllers: env.HEALTH_PORT > 0 ? [createHealthController('judge')] : [],
      providers: [
        { provide: LOGGER, useValue: logger },
        ...eventLogProviders({ servers: env.NATS_URL, prefix: env.CONCLAVE_PREFIX, name: `judge-${env.INSTANCE_ID}` }),
        { provide: RUNTIME, inject: [EventLog], useFactory: (log: EventLog) => createJudgeRuntime(env, log, logger) },
        {
          provide: HEALTH_CHECKS,
          inject: [EventLog, RUNTIME],
          useFactory: (log: EventLog, runtime: JudgeRuntime) => ({ nats: () => !log.nc.isClosed(), pulling: () => runtime.running }),
        },
        WorkerLifecycle,
      ],
    };
  }
}
