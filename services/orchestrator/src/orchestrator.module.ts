import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Module, type BeforeApplicationShutdown, type DynamicModule, type OnApplicationBootstrap } from '@nestjs/common';
import { estimateCallUsd } from '@conclave/contracts';
import { EventLog } from '@conclave/event-log';
import { createHealthController, createLogger, durableConsumers, eventLogProviders, HEALTH_CHECKS, LOGGER, natsConnectionOptions, RunObserver, SchemaValidator, ServiceMetrics, type Logger } from '@conclave/service-kit';
import { RunRepository } from './adapters/run-repository';
import { TemplateStore } from './adapters/template-store';
import { COMMAND_DEPS, CommandsController } from './app/commands.controller';
import type { CommandDeps } from './app/command-handler';
import { Outbox } from './app/outbox';
import { OutboxLease } from './app/outbox-lease';
import { redriveDeadLetter, type RunEventHandler } from './app/redrive';
import { startDirectResults, startResultsConsumer } from './app/results-consumer';
import { startStallDetector } from './app/stall-detector';
import { startLegacyTimers, startTimers } from './app/timers';
import type { OrchestratorEnv } from './config';
import { StudyService } from './study/study-service';

const CONFIG = Symbol('ORCHESTRATOR_CONFIG');
const metrics = new ServiceMetrics('orchestrator');
/** the handlers of the orchestrator's dead letters on the events stream, by consumer name (redrive) */
const RUN_EVENT_HANDLERS = Symbol('RUN_EVENT_HANDLERS');

/** Starts the outbox's lease, the results consumer and the timers; stops them before the NATS connection drains. */
@Injectable()
class OrchestratorLoops implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private running: { stop(): Promise<void> }[] = [];
  constructor(
    @Inject(EventLog) private readonly log: EventLog,
    @Inject(RunRepository) private readonly runs: RunRepository,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(CONFIG) private readonly config: OrchestratorEnv,
    @Inject(RUN_EVENT_HANDLERS) private readonly handlers: Map<string, RunEventHandler>,
    @Inject(Outbox) private readonly outbox: Outbox,
    @Inject(StudyService) private readonly studies: StudyService,
  ) {}
  private lease: OutboxLease | null = null;
  async onApplicationBootstrap() {
    // the repair path (ADR 025): a key of its own per process, even for replicas sharing an INSTANCE_ID
    const key = `${this.config.INSTANCE_ID}-${randomUUID().slice(0, 8)}`.replace(/[^A-Za-z0-9_-]/g, '_');
    this.lease = await new OutboxLease(this.log, this.runs, this.outbox, this.logger, { key, leaseMs: this.config.ORCHESTRATOR_LEASE_MS, metrics }, this.handlers).start();
    this.running = [
      await startResultsConsumer(this.log, this.runs, this.logger, this.config.ORCHESTRATOR_CONCURRENCY, () => new Date(), this.studies),
      // workers' results in one hop (request/reply); the results consumer above stays the durable path
      startDirectResults(this.log, this.runs, this.logger, () => new Date(), { concurrency: this.config.ORCHESTRATOR_CONCURRENCY }, this.studies),
      await startTimers(this.log, this.runs, this.logger, () => new Date()),
      ...[await startLegacyTimers(this.log, this.logger)].filter((c) => c !== null),
      startStallDetector(this.log, this.runs, this.logger, { stallMs: this.config.ORCHESTRATOR_STALL_MS }),
    ];
    const { streams, consumers } = this.log.names;
    const unwatch = metrics.watchConsumers(durableConsumers(this.log, [[streams.commands, consumers.timers], [streams.results, consumers.orchestratorResults]]));
    const unwatchOutbox = metrics.watchOutbox(() => this.outbox.unpublished());
    this.running.push({ stop: async () => (unwatch(), unwatchOutbox()) });
    this.logger.info({ prefix: this.log.names.prefix, lease: key }, 'outbox lease, results consumer and timers running');
    // studies' judge work a crash left unpublished (ADR 023): in the background, boot does not wait
    void this.studies
      .repair({ occurredAt: new Date().toISOString(), correlationId: 'study-repair', causationId: null, actor: { kind: 'system', id: 'orchestrator' } })
      .then((n) => n > 0 && this.logger.info({ published: n }, 'studies: requested judge work published again'))
      .catch((err: unknown) => this.logger.warn({ err }, 'studies: the repair at boot failed (their next result or restart tries again)'));
  }
  async beforeApplicationShutdown() {
    await this.outbox.flush(); // held phase deadlines still needed go out now
    await Promise.all(this.running.map((c) => c.stop()));
    await this.lease?.stop(); // removed when everything this process appended is out
    this.studies.stop();
    this.logger.info('consumers stopped');
  }
}

@Module({})
export class OrchestratorModule {
  static forRoot(config: OrchestratorEnv): DynamicModule {
    return {
      module: OrchestratorModule,
      controllers: [CommandsController, createHealthController('orchestrator')],
      providers: [
        { provide: CONFIG, useValue: config },
        { provide: RUN_EVENT_HANDLERS, useValue: new Map<string, RunEventHandler>() },
        { provide: LOGGER, useValue: createLogger('orchestrator', config.LOG_LEVEL, { instance: config.INSTANCE_ID }) },
        ...eventLogProviders({ ...natsConnectionOptions(config), prefix: config.CONCLAVE_PREFIX, name: `orchestrator-${config.INSTANCE_ID}` }),
        { provide: SchemaValidator, useValue: new SchemaValidator() },
        { provide: Outbox, inject: [EventLog, LOGGER], useFactory: (log: EventLog, logger: Logger) => new Outbox(log, logger, config.ORCHESTRATOR_DEADLINE_HOLD_MS) },
        {
          provide: RunRepository,
          inject: [EventLog, SchemaValidator, Outbox],
          useFactory: (log: EventLog, validator: SchemaValidator, outbox: Outbox) => {
            const observer = new RunObserver(metrics);
            return new RunRepository(log, validator.validate, {
              maxConflicts: config.ORCHESTRATOR_MAX_CONFLICTS,
              cacheSize: config.ORCHESTRATOR_CACHE_RUNS,
              estimateUsd: (provider, model, maxTokens) => estimateCallUsd(provider, model, maxTokens),
              // commands without a detour: published right after the append (ADR 014); the watermark follows appends (ADR 025)
              beginAppend: (runId) => outbox.beginAppend(runId),
              onAppended: (runId, appended, run) => {
                outbox.send(runId, appended, run);
                observer.observe(runId, appended, run.state); // runs and phase durations: counters only
              },
            });
          },
        },
        { provide: TemplateStore, inject: [EventLog], useFactory: (log: EventLog) => new TemplateStore(log) },
        { provide: StudyService, inject: [EventLog, LOGGER], useFactory: (log: EventLog, logger: Logger) => new StudyService(log, logger) },
        {
          provide: COMMAND_DEPS,
          inject: [RunRepository, TemplateStore, SchemaValidator, LOGGER, EventLog, RUN_EVENT_HANDLERS, StudyService],
          useFactory: (runs: RunRepository, templates: TemplateStore, validator: SchemaValidator, logger: Logger, log: EventLog, handlers: Map<string, RunEventHandler>, studies: StudyService): CommandDeps => ({
            runs,
            templates,
            validator,
            now: () => new Date(),
            onInternalError: (err) => logger.error({ err }, 'command failed'),
            cancelWork: (runId, commandIds) => log.nc.publish(log.names.subjects.cancel, JSON.stringify({ runId, ...(commandIds ? { commandIds } : {}) })),
            redrive: (deadLetterId, actor) => redriveDeadLetter(log, handlers, deadLetterId, actor),
            studies,
          }),
        },
        { provide: HEALTH_CHECKS, inject: [EventLog], useFactory: (log: EventLog) => ({ nats: () => !log.nc.isClosed() }) },
        OrchestratorLoops,
      ],
    };
  }
}
