import { Body, Controller, Get, Inject, Put, Query } from '@nestjs/common';
import { CostsQuery, PutBudgetsBody } from '@conclave/contracts';
import { WorkersService } from '../fleet/workers.service';
import { parseRangedQuery } from '../http/date-range';
import { jsonBody, parseOr400 } from '../http/parse';
import { CostsService } from './costs.service';

@Controller()
export class CostsController {
  constructor(
    @Inject(CostsService) private readonly costs: CostsService,
    @Inject(WorkersService) private readonly workers: WorkersService,
  ) {}

  @Get('costs')
  async list(@Query() query: unknown) {
    const { groupBy, from, to } = parseRangedQuery(CostsQuery, query);
    return { groupBy, items: await this.costs.costs(groupBy, from, to) };
  }

  @Get('budgets')
  budgets() {
    return this.costs.budgets();
  }

  @Put('budgets')
  putBudgets(@Body() body: unknown) {
    return this.costs.putBudgets(parseOr400(PutBudgetsBody, jsonBody(body), 'budgets'));
  }

  @Get('workers')
  async fleet() {
    return { items: await this.workers.list() };
  }
}
