import { ALERT_ROOM_EVENTS, EVENT_TYPES, LogEntry, Page, type Room, type SocketEvent } from '@conclave/contracts';
import type { ApiClient } from './client';
import { UsageError } from './inputs';
import { connectLive } from './live';
import type { WatchIo } from './watch';

/** `GET /events`: a page of the raw log and where the next one starts. */
const EventsPage = Page(LogEntry).omit({ nextCursor: true }).extend({ nextAfter: LogEntry.shape.sequence });
const GAP_PAGE = 500;

export interface TailFilter {
  runId?: string;
  /** empty: every type */
  types: ReadonlySet<string>;
}

/** A log entry (REST) in the shape the socket relays. */
export function socketEventOf(entry: LogEntry): SocketEvent {
  return {
    sequence: entry.sequence,
    type: entry.type,
    runId: entry.streamId.startsWith('run:') ? entry.streamId.slice(4) : null,
    occurredAt: entry.occurredAt,
    data: entry.data,
  };
}

/** What the rooms of a tail carry: a run's events with --run, else every run's and the alerts'. */
export function tailWants(filter: TailFilter, event: SocketEvent): boolean {
  if (filter.runId !== undefined ? event.runId !== filter.runId : event.runId === null && !ALERT_ROOM_EVENTS.includes(event.type)) return false;
  return filter.types.size === 0 || filter.types.has(event.type);
}

/**
 * Prints events as they are appended, until Ctrl-C. Live from the socket rooms; after a
 * reconnection the events missed meanwhile are read from `GET /events` (after the last sequence
 * printed) before the live ones that arrived during that read. Each sequence is printed once.
 */
export async function tailEvents(client: ApiClient, filter: TailFilter, io: WatchIo, emit: (event: SocketEvent) => void): Promise<void> {
  const unknown = [...filter.types].filter((t) => !(EVENT_TYPES as readonly string[]).includes(t));
  if (unknown.length > 0) throw new UsageError(`unknown event type ${unknown.join(', ')} (e.g. RunStarted, PhaseCompleted, GateOpened, RunCompleted)`);
  const rooms: Room[] = filter.runId !== undefined ? [`run:${filter.runId}`] : ['runs', 'alerts'];
  let last = 0;
  let filling: SocketEvent[] | null = null;
  const show = (event: SocketEvent) => {
    if (event.sequence <= last) return;
    last = event.sequence;
    if (tailWants(filter, event)) emit(event);
  };

  const fillGap = async () => {
    filling = [];
    try {
      for (let after = last; ; ) {
        const page = await client.get('/events', EventsPage, {
          after,
          limit: GAP_PAGE,
          ...(filter.runId !== undefined ? { streamId: `run:${filter.runId}` } : {}),
          ...(filter.types.size > 0 ? { types: [...filter.types].join(',') } : {}),
        });
        for (const entry of page.items) show(socketEventOf(entry));
        if (page.nextAfter <= after) break;
        after = page.nextAfter;
      }
    } finally {
      const buffered: SocketEvent[] = filling ?? [];
      filling = null;
      for (const event of buffered.sort((a, b) => a.sequence - b.sequence)) show(event);
    }
  };

  await new Promise<void>((resolve, reject) => {
    const stop = (err?: Error) => {
      live.close();
      process.removeListener('SIGINT', onInterrupt);
      if (err) reject(err);
      else resolve();
    };
    const onInterrupt = () => stop();
    process.once('SIGINT', onInterrupt);
    const live = connectLive(client.connection, rooms, {
      onEvent: (event) => (filling ? filling.push(event) : show(event)),
      onSubscribed: (reconnected) => {
        if (reconnected && last > 0) fillGap().catch((err: Error) => io.stderr.write(`could not read the events missed while disconnected: ${err.message}\n`));
        else if (!reconnected) io.stderr.write(`following ${rooms.join(', ')} on ${client.connection.url} (Ctrl-C stops)\n`);
      },
      onFatal: (err) => stop(err),
      onTrouble: (message) => io.stderr.write(`${message}\n`),
    });
  });
}
