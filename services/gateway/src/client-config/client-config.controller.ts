import { Controller, Get, Inject } from '@nestjs/common';
import type { ClientConfig } from '@conclave/contracts';
import type { GatewayConfig } from '../config';
import { CONFIG } from '../tokens';

/** `GET /api/v1/config`: what the dashboard reads once at startup (a trace viewer's URL template). */
@Controller('config')
export class ClientConfigController {
  constructor(@Inject(CONFIG) private readonly config: GatewayConfig) {}

  @Get()
  get(): ClientConfig {
    return { traceUrlTemplate: this.config.TRACE_URL_TEMPLATE ?? null };
  }
}
