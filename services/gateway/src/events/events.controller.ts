import { Controller, Get, Inject, Query } from '@nestjs/common';
import { AGGREGATES, ConclaveError, EVENT_TYPES, EventsQuery, type Aggregate, type EventType, type LogEntry, type Recorded } from '@conclave/contracts';
import { EventLog, type UnreadableEvent } from '@conclave/event-log';
import { parseOr400 } from '../http/parse';

/** Most events one request reads from the log to fill a page filtered by `types`. */
export const EVENTS_SCAN_LIMIT = 5000;
/** Events per read while scanning (one ordered consumer each). */
const SCAN_PAGE = 1000;

const STREAM_ID = new RegExp(`^(${AGGREGATES.join('|')}):([A-Za-z0-9_-]{1,128})$`);
const KNOWN_TYPES = new Set<string>(EVENT_TYPES);

export interface EventsPage {
  items: LogEntry[];
  nextAfter: number;
  /** messages of the page's range that do not decode as events (poison): listed, never silently skipped */
  unreadable: { sequence: number; reason: string }[];
}

/**
 * `GET /events?after=&limit=&types=&streamId=`: the raw log, ascending by stream sequence.
 * Envelope ids and causation stay internal.
 *
 * - `streamId` (`run:<id>`, `template:<id>`, `provider:<id>`) reads only that aggregate's subject:
 *   the server filters, nothing else is read.
 * - `types` (comma-separated event types) is applied to what is read. The page holds the first
 *   `limit` matching events after `after`, scanning at most EVENTS_SCAN_LIMIT events (of the
 *   aggregate, with `streamId`) per request.
 * - `nextAfter` is where the next page starts: the last sequence returned when the page is full,
 *   otherwise the last sequence read (events that did not match are never read again), or
 *   `after` itself when nothing follows yet. A page is empty only when the log has nothing
 *   matching after `after`, or the next EVENTS_SCAN_LIMIT events hold no match (then `nextAfter`
 *   has moved past them: keep paging).
 * - An unknown type, a malformed stream id or an unknown aggregate is a 400.
 */
@Controller('events')
export class EventsController {
  constructor(@Inject(EventLog) private readonly log: EventLog) {}

  @Get()
  async list(@Query() query: unknown): Promise<EventsPage> {
    const { after, limit, types, streamId } = parseOr400(EventsQuery, query, 'query');
    const subject = streamId === undefined ? this.log.names.subjects.allEvents : this.subjectOf(streamId);
    const wanted = types === undefined ? null : parseTypes(types);
    const unreadable: { sequence: number; reason: string }[] = [];
    if (!wanted) {
      const found: UnreadableEvent[] = [];
      const events = await this.log.readAll(after, limit, subject, { poison: found });
      const last = Math.max(after, events[events.length - 1]?.sequence ?? 0, ...found.map((u) => u.sequence));
      return { items: events.map(toLogEntry), nextAfter: last, unreadable: found.map(({ sequence, reason }) => ({ sequence, reason })) };
    }
    const items: LogEntry[] = [];
    let nextAfter = after;
    let scanned = 0;
    while (items.length < limit && scanned < EVENTS_SCAN_LIMIT) {
      const found: UnreadableEvent[] = [];
      const events = await this.log.readAll(nextAfter, Math.min(SCAN_PAGE, EVENTS_SCAN_LIMIT - scanned), subject, { poison: found });
      // poison and events interleave: walk them in sequence order
      const all = [...events.map((e) => ({ sequence: e.sequence, event: e })), ...found.map((u) => ({ sequence: u.sequence, poison: u }))].sort((a, b) => a.sequence - b.sequence);
      for (const entry of all) {
        nextAfter = entry.sequence;
        if ('poison' in entry) unreadable.push({ sequence: entry.poison!.sequence, reason: entry.poison!.reason });
        else if (wanted.has(entry.event!.type) && items.push(toLogEntry(entry.event!)) >= limit) break;
      }
      scanned += all.length;
      if (all.length === 0) break;
    }
    return { items, nextAfter, unreadable };
  }

  private subjectOf(streamId: string): string {
    const match = STREAM_ID.exec(streamId);
    if (!match) {
      throw new ConclaveError('bad_request', 'streamId must be run:<id>, template:<id> or provider:<id> (ids: letters, digits, _ and -)', { streamId });
    }
    return this.log.names.subjects.aggregateEvents(match[1] as Aggregate, match[2]!);
  }
}

/** `RunStarted, RunCompleted` → the set of types; an unknown or empty one is a 400. */
function parseTypes(raw: string): Set<EventType> {
  const names = raw.split(',').map((t) => t.trim());
  const unknown = names.filter((t) => !KNOWN_TYPES.has(t));
  if (unknown.length > 0 || names.length === 0) {
    throw new ConclaveError('bad_request', `unknown event type${unknown.length === 1 ? '' : 's'} in types: ${unknown.map((t) => JSON.stringify(t)).join(', ')}`, { unknown });
  }
  return new Set(names as EventType[]);
}

function toLogEntry(e: Recorded): LogEntry {
  return { sequence: e.sequence, type: e.type, streamId: e.streamId, occurredAt: e.occurredAt, actor: e.actor, data: e.data };
}
