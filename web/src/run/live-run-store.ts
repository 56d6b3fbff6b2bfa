import type { RunView } from '@conclave/contracts';
import { api, type ReadOptions } from '../api/endpoints';
import { initialLiveRun, withSnapshot, type LiveRunState } from './live-run-state';

/**
 * The LiveRunState of the runs the app has open, shared by the route loader's prefetch and the
 * run page: whichever REST load lands, it goes through `withSnapshot`, so a prefetched (or any
 * refetched) RunView is merged with what the socket already delivered instead of replacing it.
 * The query cache entry `keys.run(id)` only ever holds `state.view`.
 */
const MAX_RUNS = 20;
const states = new Map<string, LiveRunState>();

export function liveRun(runId: string): LiveRunState {
  return states.get(runId) ?? initialLiveRun(runId);
}

export function updateLiveRun(runId: string, update: (state: LiveRunState) => LiveRunState): LiveRunState {
  const next = update(liveRun(runId));
  states.delete(runId); // re-insert: the Map's order is the eviction order (least recently updated first)
  states.set(runId, next);
  while (states.size > MAX_RUNS) states.delete(states.keys().next().value!);
  return next;
}

/** GET /runs/:id merged into the run's state; resolves to the view to show. */
export async function loadRunView(runId: string, opts: ReadOptions = {}): Promise<RunView> {
  const snapshot = await api.getRun(runId, opts);
  return updateLiveRun(runId, (s) => withSnapshot(s, snapshot)).view ?? snapshot;
}

/**
 * A run created a moment ago may not be projected yet (404 `not_found` from a page opened without
 * `min_sequence`): ask again a few times before saying so. Other errors: the app's default policy.
 */
export function runQueryRetry(failureCount: number, error: unknown): boolean {
  const e = error as { code?: string; permanent?: boolean };
  if (e.code === 'not_found') return failureCount < 4;
  return !e.permanent && failureCount < 2;
}
export const runQueryRetryDelay = (attempt: number) => Math.min(300 * 2 ** attempt, 3000);
