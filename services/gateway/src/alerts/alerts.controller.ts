import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { AcknowledgeAlertBody, AlertListQuery } from '@conclave/contracts';
import { jsonBody, parseOr400, RequestId } from '../http/parse';
import { AlertsService } from './alerts.service';

/** Operator alerts (ADR 016): the list, the open count, and acknowledging one. */
@Controller('alerts')
export class AlertsController {
  constructor(@Inject(AlertsService) private readonly alerts: AlertsService) {}

  /** `?status=open|acknowledged|all` (all by default), newest first, cursor paging */
  @Get()
  list(@Query() query: unknown) {
    const { status, limit, cursor } = parseOr400(AlertListQuery, query, 'query');
    return this.alerts.list(status, limit, cursor);
  }

  /** `{ open, byKind }`: the alerts not acknowledged yet */
  @Get('summary')
  summary() {
    return this.alerts.summary();
  }

  /** 200 with the alert, acknowledged; idempotent (an acknowledged alert is answered as it is); 404 for an unknown id */
  @Post(':id/acknowledge')
  @HttpCode(200)
  acknowledge(@Param('id') id: string, @Body() body: unknown, @RequestId() requestId: string) {
    const { comment } = parseOr400(AcknowledgeAlertBody, jsonBody(body ?? {}), 'body');
    return this.alerts.acknowledge(id, requestId, comment);
  }
}
