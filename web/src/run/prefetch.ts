import { api } from '../api/endpoints';
import { keys } from '../api/keys';
import { queryClient } from '../api/query-client';

/**
 * Start the run's REST load while the run page's code is still loading (the route's loader calls
 * this): the page's useLiveRun then joins the request in flight. Events that arrive before the page
 * mounts are not lost: the page fills the gap from the timeline once the view is there.
 */
export function prefetchRun(id: string, url: URL): void {
  const raw = url.searchParams.get('min_sequence');
  const n = Number(raw);
  const minSequence = raw && Number.isInteger(n) && n >= 0 ? n : undefined;
  void queryClient.prefetchQuery({ queryKey: keys.run(id), queryFn: ({ signal }) => api.getRun(id, { minSequence, signal }) });
}
