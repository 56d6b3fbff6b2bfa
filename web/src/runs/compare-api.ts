import { RunComparison } from '@conclave/contracts';
import { request } from '../api/client';

/** GET /runs/compare?runs=a,b[,c,d] (2–4 ids; 422 otherwise, 404 naming an unknown run). */
export function fetchComparison(ids: readonly string[], signal?: AbortSignal): Promise<RunComparison> {
  return request('GET', '/runs/compare', RunComparison, { query: { runs: ids.join(',') }, signal });
}

export const compareKey = (ids: readonly string[]) => ['runs', 'compare', ...ids] as const;
