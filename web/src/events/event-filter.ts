/**
 * The event log explorer's filters (`?types=A,B&stream=run:<id>&after=N` in the page URL) and how
 * they map onto `GET /events` (contracts EventsQuery: `types`, comma-separated; `streamId`, one
 * aggregate's stream id). A gateway without those filters ignores unknown query parameters (the
 * query schema strips them), so the page filters each answer too: the same result either way.
 */
export interface EventFilters {
  after?: number;
  types: string[];
  /** `run:<id>` (exact), `run:` (every run: a prefix), or any other text (a substring) */
  stream: string;
}

const STREAM_ID = /^(run|template|provider):.+$/;

export function parseTypes(raw: string | null): string[] {
  return [...new Set((raw ?? '').split(',').map((t) => t.trim()).filter(Boolean))];
}

export function eventsQuery(filters: EventFilters, limit: number): { after?: number; limit: number; types?: string; streamId?: string } {
  const stream = filters.stream.trim();
  return {
    ...(filters.after !== undefined ? { after: filters.after } : {}),
    limit,
    ...(filters.types.length > 0 ? { types: filters.types.join(',') } : {}),
    // only a whole stream id goes to the server; prefixes and free text are filtered here
    ...(STREAM_ID.test(stream) ? { streamId: stream } : {}),
  };
}

export function matchesFilters(event: { type: string; streamId: string }, filters: EventFilters): boolean {
  if (filters.types.length > 0 && !filters.types.includes(event.type)) return false;
  const stream = filters.stream.trim();
  if (!stream) return true;
  if (STREAM_ID.test(stream)) return event.streamId === stream;
  if (stream.endsWith(':')) return event.streamId.startsWith(stream);
  return event.streamId.includes(stream);
}
