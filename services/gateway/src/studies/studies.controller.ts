import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { StudyBody, StudyListQuery } from '@conclave/contracts';
import { existingIdOr404 } from '../http/ids';
import { jsonBody, parseOr422, RequestId } from '../http/parse';
import { StudiesService } from './studies.service';

/** Counterfactual re-judging (ADR 023): estimate, start, list and read studies. */
@Controller('studies')
export class StudiesController {
  constructor(@Inject(StudiesService) private readonly studies: StudiesService) {}

  /** What the study would judge and cost; nothing is started */
  @Post('estimate')
  @HttpCode(200)
  async estimate(@Body() body: unknown) {
    return (await this.studies.estimate(parseOr422(StudyBody, jsonBody(body), 'body'))).estimate;
  }

  /** 202 `{ id, sequence, estimate }`; 422 for an unknown judge provider, a missing price, or a large study without `confirm: true` */
  @Post()
  @HttpCode(202)
  start(@Body() body: unknown, @RequestId() requestId: string) {
    return this.studies.start(parseOr422(StudyBody, jsonBody(body), 'body'), requestId);
  }

  @Get()
  list(@Query() query: unknown) {
    return this.studies.list(parseOr422(StudyListQuery, query, 'query').limit);
  }

  @Get(':id')
  get(@Param('id') id: string) {
    // a malformed id names no study (and must not reach Postgres: a NUL is refused there)
    return this.studies.get(existingIdOr404(id, 'study'));
  }
}
