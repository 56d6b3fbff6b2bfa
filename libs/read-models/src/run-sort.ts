import { ConclaveError, type RunSort, type RunStatus, type SortOrder } from '@conclave/contracts';
import type { RunRow } from './entities';

/**
 * Keyset paging of the runs list under any sort (`GET /runs?sort=&order=`). Rows are ordered by
 * (sort value, id) in one direction, and the cursor carries the last row's pair, so a page never
 * repeats or skips a row whatever the sort. The sort value is computed twice, in SQL (ORDER BY and
 * the keyset bound) and in JS (the cursor), from one definition per key below.
 *
 * `duration` is completed − started, and for an unsettled run its elapsed time at `asOf`: the
 * first page fixes `asOf` (now) and the cursor carries it, so later pages sort running runs by the
 * same clock as the first.
 */
export interface RunSortCursor {
  sort: RunSort;
  order: SortOrder;
  value: string | number;
  id: string;
  /** ISO time the durations of unsettled runs are measured to (duration sort only) */
  asOf: string | null;
}

/** Active runs first when ascending: what needs attention, then what is settled. */
export const STATUS_RANK: Record<RunStatus, number> = { running: 0, waiting: 1, paused: 2, failed: 3, cancelled: 4, completed: 5 };

interface SortKey {
  /** SQL over the `runs` table aliased `r` (database column names); `:asOf` bound for duration */
  sql: string;
  /** the cast the cursor's value gets in the keyset bound */
  cast: string;
  value(row: RunRow, asOf: Date): string | number;
}

const statusCase = `(CASE "r"."status" ${Object.entries(STATUS_RANK)
  .map(([status, rank]) => `WHEN '${status}' THEN ${rank}`)
  .join(' ')} ELSE 99 END)`;

export const SORT_KEYS: Record<RunSort, SortKey> = {
  started: { sql: '"r"."started_at"', cast: 'timestamptz', value: (r) => r.startedAt.toISOString() },
  cost: { sql: '"r"."cost_usd"', cast: 'double precision', value: (r) => r.costUsd },
  status: { sql: statusCase, cast: 'integer', value: (r) => STATUS_RANK[r.status] ?? 99 },
  name: { sql: 'COALESCE("r"."name", "r"."id")', cast: 'text', value: (r) => r.name ?? r.id },
  // timestamps are stored at millisecond precision: the difference in ms is an exact integer
  duration: {
    sql: '(EXTRACT(EPOCH FROM (COALESCE("r"."completed_at", CAST(:asOf AS timestamptz)) - "r"."started_at")) * 1000)',
    cast: 'numeric',
    value: (r, asOf) => (r.completedAt ?? asOf).getTime() - r.startedAt.getTime(),
  },
};

export function encodeSortCursor(cursor: RunSortCursor): string {
  return Buffer.from(JSON.stringify([cursor.sort, cursor.order, cursor.value, cursor.id, cursor.asOf]), 'utf8').toString('base64url');
}

/** Throws ConclaveError('bad_request') for anything encodeSortCursor did not produce, or a cursor of another sort. */
export function decodeSortCursor(raw: string, sort: RunSort, order: SortOrder): RunSortCursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw new ConclaveError('bad_request', 'invalid cursor');
  }
  if (!Array.isArray(parsed) || parsed.length !== 5) throw new ConclaveError('bad_request', 'invalid cursor');
  const [s, o, value, id, asOf] = parsed as unknown[];
  if (s !== sort || o !== order) throw new ConclaveError('bad_request', `the cursor pages another order (${String(s)} ${String(o)}), not ${sort} ${order}: start again without it`);
  const valueOk = sort === 'started' ? typeof value === 'string' && !Number.isNaN(Date.parse(value)) : sort === 'name' ? typeof value === 'string' : typeof value === 'number' && Number.isFinite(value);
  const asOfOk = asOf === null || (typeof asOf === 'string' && !Number.isNaN(Date.parse(asOf)));
  if (!valueOk || typeof id !== 'string' || !asOfOk || (sort === 'duration' && asOf === null)) throw new ConclaveError('bad_request', 'invalid cursor');
  return { sort, order, value: value as string | number, id, asOf: asOf as string | null };
}
