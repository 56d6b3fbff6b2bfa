import { Controller, Get, Inject, Query } from '@nestjs/common';
import { AnalyticsQuery, FrontierQuery } from '@conclave/contracts';
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

  /**
   * Per template phase and model within `from`/`to`: win rate, mean judge score, mean cost, cost per
   * score point, latency, failure rate; the Pareto frontier and the cheapest model within `epsilon`
   * of the best score. A bad range, `epsilon`, `templateId` or `phaseId` is a 422 naming it; an
   * unknown template or phase a 404.
   */
  @Get('analytics/frontier')
  frontier(@Query() query: unknown) {
    return this.analytics.frontier(parseRangedQuery(FrontierQuery, query, ['epsilon', 'templateId', 'phaseId']));
  }
}
