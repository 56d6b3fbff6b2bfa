import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import { AttemptQuery, CreateRunBody, RunListQuery, TimelineQuery } from '@conclave/contracts';
import { jsonBody, parseOr400, RequestId } from '../http/parse';
import { RunsService } from './runs.service';
import { parseRunListQuery } from './run-list-query';
import { Idempotent } from '../http/idempotency.interceptor';

@Controller('runs')
export class RunsController {
  constructor(@Inject(RunsService) private readonly runs: RunsService) {}

  /** Strict body: a field the contract does not know is a 400, not silently dropped. */
  @Post()
  @Idempotent()
  @HttpCode(201)
  start(@Body() body: unknown, @RequestId() requestId: string) {
    return this.runs.start(parseOr400(CreateRunBody, jsonBody(body), 'run'), requestId);
  }

  @Get()
  list(@Query() query: unknown) {
    return this.runs.list(parseRunListQuery(RunListQuery, query));
  }

  @Get(':id')
  get(@Param('id') id: string) {
    return this.runs.get(id);
  }

  /** The run branch against its base as a `git format-patch` series (`git am` applies it on a clone of the base). */
  @Get(':id/patch')
  async patch(@Param('id') id: string, @Res() res: Response): Promise<void> {
    const patch = await this.runs.patch(id);
    res.status(200);
    res.setHeader('content-type', 'text/x-patch; charset=utf-8');
    res.setHeader('content-disposition', `attachment; filename="conclave-${id}.patch"`);
    res.send(patch);
  }

  @Get(':id/timeline')
  async timeline(@Param('id') id: string, @Query() query: unknown) {
    const { since_sequence: since, limit } = parseOr400(TimelineQuery, query, 'query');
    return { items: await this.runs.timeline(id, since ?? 0, limit) };
  }

  @Get(':id/candidates')
  async candidates(@Param('id') id: string, @Query() query: unknown) {
    const { phase, attempt } = parseOr400(AttemptQuery, query, 'query');
    return { items: await this.runs.candidates(id, phase, attempt) };
  }

  /** Every judge call (verdict) of the run, with its judge's provider, model, tokens and cost; `?phase=&attempt=` narrow it. */
  @Get(':id/verdicts')
  async verdicts(@Param('id') id: string, @Query() query: unknown) {
    const { phase, attempt } = parseOr400(AttemptQuery, query, 'query');
    return { items: await this.runs.verdicts(id, phase, attempt) };
  }

  /** The run's tokens and cost by provider and model (candidates and judges, every attempt). */
  @Get(':id/usage')
  async usage(@Param('id') id: string) {
    return { items: await this.runs.usage(id) };
  }

  @Get(':id/candidates/:candidateId/transcript')
  transcript(@Param('id') id: string, @Param('candidateId') candidateId: string) {
    return this.runs.transcript(id, candidateId);
  }

  @Get(':id/checkpoints')
  async checkpoints(@Param('id') id: string) {
    return { items: await this.runs.checkpoints(id) };
  }

  @Get(':id/tool-calls')
  async toolCalls(@Param('id') id: string) {
    return { items: await this.runs.toolCalls(id) };
  }

  @Get(':id/artifacts')
  async artifacts(@Param('id') id: string) {
    return { items: await this.runs.artifacts(id) };
  }

  @Get(':id/artifacts/:artifactId')
  artifact(@Param('id') id: string, @Param('artifactId') artifactId: string) {
    return this.runs.artifact(id, artifactId);
  }
}
