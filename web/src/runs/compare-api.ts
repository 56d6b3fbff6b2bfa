import { COMPARE_MAX_RUNS, COMPARE_MIN_RUNS, RunComparison } from '@conclave/contracts';
import { request } from '../api/client';
import { queryClient } from '../api/query-client';

/** GET /runs/compare?runs=a,b[,c,d] (2–4 ids; 422 otherwise, 404 naming an unknown run). */
export function fetchComparison(ids: readonly string[], signal?: AbortSignal): Promise<RunComparison> {
  return request('GET', '/runs/compare', RunComparison, { query: { runs: ids.join(',') }, signal });
}

export const compareKey = (ids: readonly string[]) => ['runs', 'compare', ...ids] as const;

/** The run ids of a compare address (`?runs=a,b`), in order; `valid` when there are 2–4. */
export function compareIds(params: URLSearchParams): { ids: string[]; valid: boolean } {
  const ids = (params.get('runs') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return { ids, valid: ids.length >= COMPARE_MIN_RUNS && ids.length <= COMPARE_MAX_RUNS };
}

/**
 * Start the comparison's load while the page's code is still loading (the route's loader calls
 * this); the page's query joins the request in flight.
 */
export function prefetchComparison(url: URL): void {
  const { ids, valid } = compareIds(url.searchParams);
  if (valid) void queryClient.prefetchQuery({ queryKey: compareKey(ids), queryFn: ({ signal }) => fetchComparison(ids, signal) });
}
