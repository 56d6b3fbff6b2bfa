import { minSequenceOf } from '../api/early';
import { keys } from '../api/keys';
import { queryClient } from '../api/query-client';
import { loadRunView, runQueryRetry, runQueryRetryDelay } from './live-run-store';

/**
 * Start the run's REST load while the run page's code is still loading (the route's loader calls
 * this): the page's useLiveRun then joins the request in flight. The load goes through the run's
 * shared LiveRunState, so events the socket delivers meanwhile are folded on top of it, never lost.
 */
export function prefetchRun(id: string, url: URL): void {
  const minSequence = minSequenceOf(url);
  void queryClient.prefetchQuery({ queryKey: keys.run(id), queryFn: ({ signal }) => loadRunView(id, { minSequence, signal }), retry: runQueryRetry, retryDelay: runQueryRetryDelay });
}
