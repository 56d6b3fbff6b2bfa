import {
  type Type,
  Controller,
  Get,
  Inject,
  Injectable,
  Module,
  type BeforeApplicationShutdown,
  type DynamicModule,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { EventLog } from '@conclave/event-log';
import { createDataSource, MAIN_CHECKPOINT, migrate, type DataSource } from '@conclave/read-models';
import { messageSequenceOf } from '@conclave/contracts';
import { createHealthModule, durableConsumers, eventLogProviders, HEALTH_CHECKS, LOGGER, natsConnectionOptions, ServiceMetrics, type HealthChecks, type Logger } from '@conclave/service-kit';
import { alertThresholds, type ProjectorEnv } from './config';
import { Projector } from './projector';
import { DeadLetterProjector } from './dead-letters';
import { AlertWatch } from './alerts/alert-watch';

/** Nest shell around the framework-free Projector: wiring, lifecycle and /health, /status. */

export const READ_MODELS_DATA_SOURCE = Symbol('READ_MODELS_DATA_SOURCE');

const PROBE_TIMEOUT_MS = 2_000;

function within<T>(ms: number, work: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    work(),
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms))),
  ]).finally(() => clearTimeout(timer));
}

/**
 * The projector's metrics, read at scrape: its lag in log messages and in seconds (the age of the
 * oldest message not applied yet), the dead letters of the read model by consumer, reason and
 * state, and its dead-letters durable's pending counts. Returns what stops them.
 */
function watchProjectorMetrics(log: EventLog, projector: Projector, dataSource: DataSource): () => void {
  const metrics = new ServiceMetrics('projector');
  const stops = [
    metrics.watchProjectorLag(async () => {
      const { lastLogSequence, checkpoint } = await projector.getStatus();
      if (lastLogSequence === null) return null;
      const next = messageSequenceOf(checkpoint) + 1;
      const behind = Math.max(0, messageSequenceOf(lastLogSequence) - next + 1);
      if (behind === 0) return { events: 0, seconds: 0 };
      const oldest = await log.jsm.direct.getMessage(log.names.streams.events, { seq: next });
      return { events: behind, seconds: oldest ? Math.max(0, Date.now() - oldest.time.getTime()) / 1000 : 0 };
    }),
    metrics.watchDeadLetters(async () => {
      const rows: { consumer: string; reason: string; open: boolean; n: number }[] = await dataSource.query(
        'SELECT consumer, reason, redriven_at IS NULL AS open, count(*)::int AS n FROM dead_letters GROUP BY 1, 2, 3',
      );
      return rows.map((r) => ({ consumer: r.consumer, reason: r.reason, state: r.open ? 'open' : 'redriven', count: r.n }));
    }),
    metrics.watchConsumers(durableConsumers(log, [[log.names.streams.deadLetters, log.names.consumers.deadLetters]])),
  ];
  return () => stops.forEach((stop) => stop());
}

/**
 * Starts the projector once every provider is ready; on shutdown stops it (the batch in flight
 * commits or rolls back) and closes the DataSource. The EventLog provider drains afterwards, in
 * onApplicationShutdown.
 */
@Injectable()
class ProjectorLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(
    @Inject(Projector) private readonly projector: Projector,
    @Inject(DeadLetterProjector) private readonly deadLetters: DeadLetterProjector,
    @Inject(AlertWatch) private readonly alerts: AlertWatch,
    @Inject(READ_MODELS_DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(EventLog) private readonly log: EventLog,
  ) {}
  private unwatch = () => {};

  onApplicationBootstrap() {
    this.projector.start();
    this.deadLetters.start();
    this.alerts.start();
    this.unwatch = watchProjectorMetrics(this.log, this.projector, this.dataSource);
  }

  async beforeApplicationShutdown(signal?: string) {
    this.unwatch();
    this.logger.info({ signal }, 'stopping the projector');
    await Promise.all([this.projector.stop(), this.deadLetters.stop(), this.alerts.stop()]);
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
    this.logger.info({ checkpoint: this.projector.committed }, 'projector stopped; read-model connections closed');
  }
}

@Controller()
class StatusController {
  constructor(
    @Inject(Projector) private readonly projector: Projector,
    @Inject(DeadLetterProjector) private readonly deadLetters: DeadLetterProjector,
  ) {}
  @Get('status')
  async status() {
    return { ...(await this.projector.getStatus()), deadLetters: this.deadLetters.status };
  }
}

@Module({})
class ProjectorCoreModule {}

@Module({})
export class ProjectorModule {
  static forRoot(env: ProjectorEnv, logger: Logger): DynamicModule {
    const core: DynamicModule = {
      module: ProjectorCoreModule,
      // global so that the health module's controller sees HEALTH_CHECKS
      global: true,
      providers: [
        { provide: LOGGER, useValue: logger },
        ...eventLogProviders({ ...natsConnectionOptions(env), prefix: env.CONCLAVE_PREFIX, name: `projector-${env.INSTANCE_ID}` }),
        {
          provide: READ_MODELS_DATA_SOURCE,
          useFactory: async () => {
            const applied = await migrate(env.DATABASE_URL);
            if (applied.length > 0) logger.info({ migrations: applied }, 'read-model migrations applied');
            return createDataSource(env.DATABASE_URL, { applicationName: 'conclave-projector', poolSize: 4 }).initialize();
          },
        },
        {
          provide: AlertWatch,
          inject: [EventLog, READ_MODELS_DATA_SOURCE],
          useFactory: (log: EventLog, dataSource: DataSource) => {
            const watch: AlertWatch = new AlertWatch({
              log,
              dataSource,
              logger: logger.child({ component: 'alerts' }),
              thresholds: alertThresholds(env),
              // a lagging projection makes every run look stalled: sweep only when caught up
              caughtUp: async () => {
                const lastLog = await log.lastSequence();
                const [row]: { sequence: string }[] = await dataSource.query('SELECT sequence FROM projection_checkpoints WHERE name = $1', [MAIN_CHECKPOINT]);
                return messageSequenceOf(Number(row?.sequence ?? 0)) >= messageSequenceOf(lastLog) - 1;
              },
            });
            return watch;
          },
        },
        {
          provide: Projector,
          inject: [EventLog, READ_MODELS_DATA_SOURCE, AlertWatch],
          useFactory: (log: EventLog, dataSource: DataSource, alerts: AlertWatch) =>
            new Projector({ log, dataSource, logger: logger.child({ component: 'projector' }), batchSize: env.PROJECTOR_BATCH, trickleMs: env.PROJECTOR_TRICKLE_MS, minIntervalMs: env.PROJECTOR_MIN_INTERVAL_MS, afterCommit: alerts.afterCommit }),
        },
        {
          provide: DeadLetterProjector,
          inject: [EventLog, READ_MODELS_DATA_SOURCE],
          useFactory: (log: EventLog, dataSource: DataSource) => new DeadLetterProjector({ log, dataSource, logger: logger.child({ component: 'dead-letters' }) }),
        },
        {
          provide: HEALTH_CHECKS,
          inject: [EventLog, READ_MODELS_DATA_SOURCE, Projector],
          useFactory: (log: EventLog, dataSource: DataSource, projector: Projector): HealthChecks => ({
            nats: () => !log.nc.isClosed(),
            postgres: () => within(PROBE_TIMEOUT_MS, () => dataSource.query('SELECT 1')).then(() => true),
            projector: () => projector.healthy,
          }),
        },
        ProjectorLifecycle,
      ],
      exports: [HEALTH_CHECKS, Projector, DeadLetterProjector, AlertWatch],
    };
    const http = env.HEALTH_PORT > 0;
    return {
      module: ProjectorModule,
      imports: [core, ...(http ? [createHealthModule('projector')] : [])],
      controllers: http ? [StatusController] : [],
    };
  }
}

/** The application root for bootService (which takes a module class). */
export function projectorAppModule(env: ProjectorEnv, logger: Logger): Type<unknown> {
  @Module({ imports: [ProjectorModule.forRoot(env, logger)] })
  class ProjectorAppModule {}
  return ProjectorAppModule;
}
