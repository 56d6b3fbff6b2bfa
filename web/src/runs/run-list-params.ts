import type { RunSort, SortOrder } from '@conclave/contracts';
import type { RunListFilters } from '../api/endpoints';

/**
 * The runs list's state as it lives in the URL (`/runs?status=&templateId=&from=&to=&sort=&order=`)
 * and as GET /runs and GET /runs/export take it. Pure, so the page, the export and the tests read
 * one definition.
 */
export const RUN_SORTS: readonly RunSort[] = ['started', 'duration', 'cost', 'status', 'name'];
export const COMPARE_LIMIT = 4;

export interface RunListState extends RunListFilters {
  sort?: RunSort;
  order?: SortOrder;
  /** the first day shown, `YYYY-MM-DD` (inclusive) */
  from?: string;
  /** the last day shown, `YYYY-MM-DD` (inclusive: the API's exclusive bound is the next day) */
  to?: string;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const validDay = (v: string | null): string | undefined => (v && DAY.test(v) && !Number.isNaN(Date.parse(v)) ? v : undefined);

export function readListState(params: URLSearchParams): RunListState {
  const sort = params.get('sort');
  const order = params.get('order');
  const archived = params.get('archived');
  return {
    status: params.get('status') || undefined,
    q: params.get('q') || undefined,
    templateId: params.get('templateId') || undefined,
    archived: archived === 'true' || archived === 'all' ? archived : undefined,
    sort: RUN_SORTS.includes(sort as RunSort) ? (sort as RunSort) : undefined,
    order: order === 'asc' || order === 'desc' ? order : undefined,
    from: validDay(params.get('from')),
    to: validDay(params.get('to')),
  };
}

/** The day after `day` (`YYYY-MM-DD`, UTC). */
export function nextDay(day: string): string {
  return new Date(Date.parse(day) + 86_400_000).toISOString().slice(0, 10);
}

/**
 * The query GET /runs and GET /runs/export take for this state: `to` becomes the exclusive bound
 * (the day after the last day shown), a range that runs backwards is left out rather than sent
 * (the API would refuse it), and no sort means the API's default (newest first).
 */
export function toApiQuery(state: RunListState): RunListState {
  const backwards = state.from && state.to && state.from > state.to;
  return {
    ...state,
    from: backwards ? undefined : state.from,
    to: backwards || !state.to ? undefined : nextDay(state.to),
  };
}

export function isFiltered(state: RunListState): boolean {
  return Boolean(state.status || state.q || state.templateId || state.archived || state.from || state.to);
}

/** Toggle a run in the compare selection, keeping the order runs were picked in and at most COMPARE_LIMIT. */
export function toggleSelected(selected: readonly string[], id: string): string[] {
  if (selected.includes(id)) return selected.filter((s) => s !== id);
  return selected.length >= COMPARE_LIMIT ? [...selected] : [...selected, id];
}

export function compareHref(ids: readonly string[]): string {
  return `/compare?runs=${ids.map(encodeURIComponent).join(',')}`;
}
