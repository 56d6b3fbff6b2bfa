import { Module, type DynamicModule } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { eventLogProviders, type Logger } from '@conclave/service-kit';
import type { GatewayConfig } from './config';
import { HealthController } from './health/health.controller';
import { MinSequenceInterceptor } from './http/min-sequence.interceptor';
import { LiveGateway } from './live/live.gateway';
import { RelayService } from './live/relay.service';
import { OrchestratorClient } from './orchestrator/orchestrator.client';
import { readModelProviders, ReadModelsCloser } from './read-models/read-models.providers';
import { RunsController } from './runs/runs.controller';
import { RunsService } from './runs/runs.service';
import { TemplatesController } from './templates/templates.controller';
import { TemplatesService } from './templates/templates.service';
import { CONFIG, LOGGER } from './tokens';

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
      controllers: [HealthController, TemplatesController, RunsController],
      providers: [
        { provide: CONFIG, useValue: config },
        { provide: LOGGER, useValue: logger },
        ...eventLogProviders({ servers: config.NATS_URL, prefix: config.CONCLAVE_PREFIX, name: `gateway-${config.INSTANCE_ID}` }),
        ...readModelProviders,
        ReadModelsCloser,
        OrchestratorClient,
        TemplatesService,
        RunsService,
        LiveGateway,
        RelayService,
        { provide: APP_INTERCEPTOR, useClass: MinSequenceInterceptor },
      ],
    };
  }
}
