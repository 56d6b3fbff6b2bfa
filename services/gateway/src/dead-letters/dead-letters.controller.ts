import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { z } from 'zod';
import { ConclaveError, DeadLetterListQuery, EmptyBody } from '@conclave/contracts';
import { SkipMinSequence } from '../http/min-sequence.interceptor';
import { parseOr400, RequestId } from '../http/parse';
import { DeadLettersService } from './dead-letters.service';

/** `?min_sequence=`: a DEAD_LETTERS sequence here (the one a redrive answers), waited for by the service. */
const DeadLetterReadQuery = z.object({ min_sequence: z.string().optional() });

function minSequenceOf(query: unknown): number | undefined {
  const raw = (query as Record<string, unknown> | undefined)?.min_sequence;
  if (raw === undefined) return undefined;
  // only plain digits are a sequence (zod's coercion would read "" as 0 and "1e3" as 1000)
  if (typeof raw !== 'string' || !/^\d{1,16}$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
    throw new ConclaveError('bad_request', 'min_sequence must be a non-negative integer', { min_sequence: raw });
  }
  return Number(raw);
}

/** Postgres refuses NUL in text parameters: a filter with one names nothing a row can hold. */
function noNul(value: string | undefined, what: string): void {
  if (value?.includes('\u0000')) throw new ConclaveError('bad_request', `${what} must not contain NUL`);
}

/**
 * `GET /dead-letters`, `GET /dead-letters/:id`, `POST /dead-letters/:id/redrive` (issue 11 §2).
 * The global min-sequence interceptor is skipped: these routes' `min_sequence` counts the
 * DEAD_LETTERS stream, not the events log.
 */
@Controller('dead-letters')
@SkipMinSequence()
export class DeadLettersController {
  constructor(@Inject(DeadLettersService) private readonly deadLetters: DeadLettersService) {}

  @Get()
  list(@Query() query: unknown) {
    parseOr400(DeadLetterReadQuery, query, 'query');
    const filters = parseOr400(DeadLetterListQuery, query, 'query');
    noNul(filters.consumer, 'consumer');
    noNul(filters.runId, 'runId');
    return this.deadLetters.list(filters, minSequenceOf(query));
  }

  @Get(':id')
  get(@Param('id') id: string, @Query() query: unknown) {
    parseOr400(DeadLetterReadQuery, query, 'query');
    return this.deadLetters.get(id, minSequenceOf(query));
  }

  /** 202 `{ id, sequence }`: `sequence` (of the redrive mark) as `?min_sequence=` shows the item redriven. */
  @Post(':id/redrive')
  @HttpCode(202)
  redrive(@Param('id') id: string, @Body() body: unknown, @RequestId() requestId: string) {
    parseOr400(EmptyBody, body ?? {}, 'body');
    return this.deadLetters.redrive(id, requestId);
  }
}
