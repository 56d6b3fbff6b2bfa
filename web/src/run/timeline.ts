import type { SocketEvent, TimelineEntry } from '@conclave/contracts';

/** One line of a run's timeline, from the REST timeline or a live socket event. */
export interface TimelineRow {
  sequence: number;
  type: string;
  occurredAt: string;
  phaseId: string | null;
  actor: string | null;
  /** the event's data (a reference, not a copy): the row's details are read from it (timeline-details.ts) */
  data: unknown;
}

/** The phase an event is about, when its data names one. */
export function phaseIdOf(data: unknown): string | null {
  const id = (data as { phaseId?: unknown } | null | undefined)?.phaseId;
  return typeof id === 'string' ? id : null;
}

export function rowFromEntry(entry: TimelineEntry): TimelineRow {
  return {
    sequence: entry.sequence,
    type: entry.type,
    occurredAt: entry.occurredAt,
    phaseId: entry.phaseId ?? phaseIdOf(entry.data),
    actor: `${entry.actor.kind}:${entry.actor.id}`,
    data: entry.data,
  };
}

export function rowFromEvent(event: SocketEvent): TimelineRow {
  return { sequence: event.sequence, type: event.type, occurredAt: event.occurredAt, phaseId: phaseIdOf(event.data), actor: null, data: event.data };
}

/** A timeline entry (or a page's timeline row) as the socket event it records (the timeline endpoint is the gap-fill source). */
export function eventFromEntry(runId: string, entry: Pick<TimelineEntry, 'sequence' | 'type' | 'occurredAt' | 'data'>): SocketEvent {
  return { sequence: entry.sequence, type: entry.type, runId, occurredAt: entry.occurredAt, data: entry.data };
}

/**
 * Union by sequence, ascending. Idempotent; a REST row (which knows its actor) wins over the live
 * row of the same sequence. Returns `rows` itself when nothing is new.
 */
export function mergeTimeline(rows: readonly TimelineRow[], incoming: readonly TimelineRow[]): TimelineRow[] {
  if (incoming.length === 0) return rows as TimelineRow[];
  const bySequence = new Map(rows.map((r) => [r.sequence, r]));
  let changed = false;
  for (const row of incoming) {
    const existing = bySequence.get(row.sequence);
    if (!existing || (existing.actor === null && row.actor !== null)) {
      bySequence.set(row.sequence, row);
      changed = true;
    }
  }
  if (!changed) return rows as TimelineRow[];
  return [...bySequence.values()].sort((a, b) => a.sequence - b.sequence);
}
