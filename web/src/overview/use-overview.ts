import { OverviewView, TimeZoneName, type SocketEvent, type WorkerView } from '@conclave/contracts';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useMemo, useRef } from 'react';
import { request } from '../api/client';
import { api, type ReadOptions } from '../api/endpoints';
import { keys } from '../api/keys';
import { applyHeartbeat } from '../fleet/fleet';
import { useRoom } from '../live/use-room';
import { affectsOverview, foldOverview, patchOverview } from './overview-fold';

export const overviewKey = (timeZone: string) => ['overview', timeZone] as const;

/** GET /overview with "today" and "this month" in `timeZone`. */
export function fetchOverview(timeZone: string, opts: ReadOptions = {}): Promise<OverviewView> {
  return request('GET', '/overview', OverviewView, { query: { tz: timeZone, min_sequence: opts.minSequence }, signal: opts.signal });
}

/** The browser's zone when the gateway can take it (an IANA name), else UTC. */
export function browserTimeZone(): string {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  return zone && TimeZoneName.safeParse(zone).success ? zone : 'UTC';
}

/** At most one refetch per window while events keep coming, the last one after the burst. */
const REFETCH_EVERY_MS = 1500;
/** Events kept to replay over a refetched snapshot that predates them. */
const REPLAY_BUFFER = 500;

/**
 * The overview, live: each relevant event of the `runs` and `costs` rooms patches the cached view
 * at once (overview-fold) and schedules a throttled refetch with min_sequence = the newest event
 * seen. A refetched snapshot older than events already seen gets them folded in again, so an
 * answer that raced a burst of events loses none. A rejoin after a disconnect refetches (the
 * socket does not replay), and so does the turn of the local day (today's spend starts again).
 */
export function useOverview() {
  const timeZone = useMemo(browserTimeZone, []);
  const qc = useQueryClient();
  const recent = useRef<SocketEvent[]>([]);
  const minSequence = useRef<number | undefined>(undefined);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);

  const query = useQuery({
    queryKey: overviewKey(timeZone),
    queryFn: async ({ signal }) => foldOverview(await fetchOverview(timeZone, { minSequence: minSequence.current, signal }), recent.current),
  });

  useEffect(() => () => void (timer.current && clearTimeout(timer.current)), []);
  const scheduleRefetch = () => {
    if (timer.current) return;
    timer.current = setTimeout(() => {
      timer.current = null;
      void qc.invalidateQueries({ queryKey: overviewKey(timeZone) });
    }, REFETCH_EVERY_MS);
  };

  const onEvent = (event: SocketEvent) => {
    if (!affectsOverview(event)) return;
    // the same event arrives once per room that wants it (`runs` and `costs`): keep and count it once
    if (!recent.current.some((e) => e.sequence === event.sequence)) recent.current = [...recent.current, event].slice(-REPLAY_BUFFER);
    minSequence.current = Math.max(minSequence.current ?? 0, event.sequence);
    qc.setQueryData<OverviewView>(overviewKey(timeZone), (view) => (view ? patchOverview(view, event) : view));
    scheduleRefetch();
  };
  const joined = useRef({ runs: false, costs: false });
  const onSubscribed = (room: 'runs' | 'costs') => () => {
    if (joined.current[room]) scheduleRefetch();
    joined.current[room] = true;
  };
  useRoom('runs', { onEvent, onSubscribed: onSubscribed('runs') });
  useRoom('costs', { onEvent, onSubscribed: onSubscribed('costs') });

  const dayEnds = query.data?.spend.today.to;
  useEffect(() => {
    if (!dayEnds) return;
    const wait = Math.max(0, Date.parse(dayEnds) - Date.now()) + 1000;
    // setTimeout holds at most ~24.8 days; a day is far below
    const t = setTimeout(() => void qc.invalidateQueries({ queryKey: overviewKey(timeZone) }), wait);
    return () => clearTimeout(t);
  }, [dayEnds, qc, timeZone]);

  return { ...query, timeZone };
}

/** The worker fleet (GET /workers, shared with the Fleet page's cache), live from the `fleet` room's heartbeats. */
export function useFleet() {
  const qc = useQueryClient();
  const workers = useQuery({ queryKey: keys.workers(), queryFn: ({ signal }) => api.workers({ signal }) });
  useRoom('fleet', {
    onLive: (m) => {
      if (m.kind !== 'heartbeat') return;
      qc.setQueryData<{ items: WorkerView[] }>(keys.workers(), (data) => (data ? { ...data, items: applyHeartbeat(data.items, m) } : data));
    },
    onSubscribed: () => void qc.invalidateQueries({ queryKey: keys.workers() }),
  });
  return workers;
}
