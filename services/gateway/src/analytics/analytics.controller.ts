import { Controller, Get, Inject, Query } from '@nestjs/common';
import { AnalyticsQuery } from '@conclave/contracts';
import { parseRangedQuery } from '../http/date-range';
import { AnalyticsService } from './analytics.service';

@Controller()
export class AnalyticsController {
  constructor(@Inject(AnalyticsService) private readonly analytics: AnalyticsService) {}

  /** Per template, template phase and model; the ten costliest runs; spend by day — within `from`/`to`. */
  @Get('analytics')
  get(@Query() query: unknown) {
    return this.analytics.analytics(parseRangedQuery(AnalyticsQuery, query));
  }
}
