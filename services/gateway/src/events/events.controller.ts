import { Controller, Get, Inject, Query } from '@nestjs/common';
import { EventsQuery, type LogEntry } from '@conclave/contracts';
import { EventLog } from '@conclave/event-log';
import { parseOr400 } from '../http/parse';

/**
 * `GET /events?after=&limit=`: the raw log (every aggregate), ascending by stream sequence.
 * `nextAfter` is the last sequence returned (pass it as `after` for the next page), or `after`
 * itself when nothing follows yet. Envelope ids and causation stay internal.
 */
@Controller('events')
export class EventsController {
  constructor(@Inject(EventLog) private readonly log: EventLog) {}

  @Get()
  async list(@Query() query: unknown): Promise<{ items: LogEntry[]; nextAfter: number }> {
    const { after, limit } = parseOr400(EventsQuery, query, 'query');
    const events = await this.log.readAll(after, limit);
    const items = events.map((e) => ({ sequence: e.sequence, type: e.type, streamId: e.streamId, occurredAt: e.occurredAt, actor: e.actor, data: e.data }));
    return { items, nextAfter: items.length > 0 ? items[items.length - 1]!.sequence : after };
  }
}
