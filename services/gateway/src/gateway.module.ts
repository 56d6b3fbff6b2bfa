import { Module, type DynamicModule } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { eventLogProviders, natsConnectionOptions, type Logger } from '@conclave/service-kit';
import { EventLog, TranscriptStore } from '@conclave/event-log';
import type { GatewayConfig } from './config';
import { HealthController } from './health/health.controller';
import { MinSequenceInterceptor } from './http/min-sequence.interceptor';
import { IdempotencyInterceptor } from './http/idempotency.interceptor';
import { LiveGateway } from './live/live.gateway';
import { RelayService } from './live/relay.service';
import { OrchestratorClient } from './orchestrator/orchestrator.client';
import { readModelProviders, ReadModelsCloser } from './read-models/read-models.providers';
import { RunsController } from './runs/runs.controller';
import { CompareController } from './runs/compare.controller';
import { RunCommandsController } from './runs/run-commands.controller';
import { RunCommandsService } from './runs/run-commands.service';
import { EventsController } from './events/events.controller';
import { ReplayController } from './admin/replay.controller';
import { ReplayService } from './admin/replay.service';
import { RunsService } from './runs/runs.service';
import { TemplateCache } from './runs/template-cache';
import { TemplatesController } from './templates/templates.controller';
import { TemplatesService } from './templates/templates.service';
import { CONFIG, LOGGER } from './tokens';
import { CostsController } from './costs/costs.controller';
import { CostsService } from './costs/costs.service';
import { AlertsController } from './alerts/alerts.controller';
import { AlertsService } from './alerts/alerts.service';
import { StudiesController } from './studies/studies.controller';
import { StudiesService } from './studies/studies.service';
import { ExportsController } from './exports/exports.controller';
import { WorkersService } from './fleet/workers.service';
import { CredentialsResponder } from './providers/credentials.responder';
import { ProvidersController } from './providers/providers.controller';
import { ProvidersService } from './providers/providers.service';
import { WorkspacesController } from './workspaces/workspaces.controller';
import { WorkspacesService } from './workspaces/workspaces.service';
import { DeadLettersController } from './dead-letters/dead-letters.controller';
import { DeadLettersService } from './dead-letters/dead-letters.service';
import { AnalyticsController } from './analytics/analytics.controller';
import { AnalyticsService } from './analytics/analytics.service';
import { ClientConfigController } from './client-config/client-config.controller';
import { OverviewController } from './overview/overview.controller';
import { OverviewService } from './overview/overview.service';

/**
 * One module: the shutdown order is then decided by dependency depth within it (Nest shuts the
 * most dependent providers down first): relay (before shutdown) → socket.io and HTTP (dispose) →
 * orchestrator client and DataSource → EventLog drain.
 */
@Module({})
export class GatewayModule {
  static forRoot(config: GatewayConfig, logger: Logger): DynamicModule {
    return {
      module: GatewayModule,
      // ExportsController and CompareController before RunsController: `/runs/export` and `/runs/compare` must not be taken for a run id
      controllers: [HealthController, TemplatesController, ExportsController, CompareController, RunsController, RunCommandsController, EventsController, ReplayController, ProvidersController, CostsController, AlertsController, WorkspacesController, DeadLettersController, OverviewController, AnalyticsController, ClientConfigController, StudiesController],
      providers: [
        { provide: CONFIG, useValue: config },
        { provide: LOGGER, useValue: logger },
        ...eventLogProviders({ ...natsConnectionOptions(config), prefix: config.CONCLAVE_PREFIX, name: `gateway-${config.INSTANCE_ID}` }),
        ...readModelProviders,
        { provide: TranscriptStore, inject: [EventLog], useFactory: (log: EventLog) => new TranscriptStore(log) },
        ReadModelsCloser,
        OrchestratorClient,
        TemplatesService,
        RunsService,
        TemplateCache,
        RunCommandsService,
        ReplayService,
        LiveGateway,
        RelayService,
        ProvidersService,
        CredentialsResponder,
        CostsService,
        AlertsService,
        StudiesService,
        WorkersService,
        WorkspacesService,
        DeadLettersService,
        AnalyticsService,
        OverviewService,
        { provide: APP_INTERCEPTOR, useClass: MinSequenceInterceptor },
        { provide: APP_INTERCEPTOR, useClass: IdempotencyInterceptor },
      ],
    };
  }
}
