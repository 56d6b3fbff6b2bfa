import type { LiveMessage, RunView, SocketEvent } from '@conclave/contracts';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useRef, useState } from 'react';
import { api, fetchTimelineSince } from '../api/endpoints';
import { keys } from '../api/keys';
import { useRoom } from '../live/use-room';
import { applyRunEvents, foldRunEvent } from './run-reducer';
import { eventFromEntry, mergeTimeline, rowFromEntry, rowFromEvent, type TimelineRow } from './timeline';

/** What a candidate streams while it runs (core NATS deltas: not in the log, lost on reload). */
export interface LiveCandidate {
  text: string;
  toolCalls: Extract<LiveMessage, { kind: 'tool_call' }>[];
}
export type LiveByCandidate = Record<string, LiveCandidate>;
const MAX_STREAM_CHARS = 20_000;
const MAX_LIVE_TOOL_CALLS = 200;

/** Fold one live delta into the per-candidate buffers (pure; bounded). */
export function applyLiveMessage(state: LiveByCandidate, message: LiveMessage): LiveByCandidate {
  if (message.kind === 'heartbeat') return state;
  const prev = state[message.candidateId] ?? { text: '', toolCalls: [] };
  if (message.kind === 'tokens') {
    const text = (prev.text + message.delta).slice(-MAX_STREAM_CHARS);
    return { ...state, [message.candidateId]: { ...prev, text } };
  }
  return { ...state, [message.candidateId]: { ...prev, toolCalls: [...prev.toolCalls, message].slice(-MAX_LIVE_TOOL_CALLS) } };
}

/** Events kept to replay on top of a refetched (possibly older) RunView. */
const REPLAY_BUFFER = 5000;

/**
 * A run's state, live: the RunView from REST with the room's events folded in by the pure reducer.
 *
 * Consistency:
 * - the room is joined on mount; after every (re)join (and again 2 s later, for projector lag) and
 *   after the first REST load, the gap is fetched from the timeline (`since_sequence` = the view's
 *   sequence) and folded in — the socket never replays, the reducer makes the overlap harmless;
 * - a refetched RunView may be older than what was folded already: the recent events are replayed
 *   on top of it, so the view never goes back in time;
 * - an event the reducer cannot fold (a newer type, bad data) triggers a refetch with
 *   `min_sequence` = that event, so the projector's view brings its effect.
 */
export function useLiveRun(runId: string, initialMinSequence?: number) {
  const qc = useQueryClient();
  const minSequence = useRef(initialMinSequence);
  const recent = useRef<SocketEvent[]>([]);
  const [liveError, setLiveError] = useState<{ code: string; message: string } | null>(null);

  const remember = (events: readonly SocketEvent[]) => {
    recent.current.push(...events);
    if (recent.current.length > REPLAY_BUFFER) recent.current.splice(0, recent.current.length - REPLAY_BUFFER);
  };

  const run = useQuery({
    queryKey: keys.run(runId),
    queryFn: async ({ signal }) => {
      const fresh = await api.getRun(runId, { minSequence: minSequence.current, signal });
      return applyRunEvents(fresh, recent.current);
    },
  });

  const timeline = useQuery({
    queryKey: keys.timeline(runId),
    queryFn: async ({ signal }) => {
      const entries = await fetchTimelineSince(runId, undefined, { minSequence: minSequence.current, signal });
      return mergeTimeline(entries.map(rowFromEntry), recent.current.map(rowFromEvent));
    },
  });

  const refetchTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const refetchAtLeast = useCallback(
    (sequence: number) => {
      minSequence.current = Math.max(minSequence.current ?? 0, sequence);
      if (refetchTimer.current) clearTimeout(refetchTimer.current);
      refetchTimer.current = setTimeout(() => void qc.invalidateQueries({ queryKey: keys.run(runId), exact: true }), 250);
    },
    [qc, runId],
  );
  useEffect(() => () => void (refetchTimer.current && clearTimeout(refetchTimer.current)), []);

  const fold = useCallback(
    (events: readonly SocketEvent[]) => {
      if (events.length === 0) return;
      remember(events);
      let needsRefetch = 0;
      qc.setQueryData<RunView>(keys.run(runId), (view) => {
        if (!view) return view; // the pending REST load replays `recent`
        let next = view;
        for (const event of [...events].sort((a, b) => a.sequence - b.sequence)) {
          const result = foldRunEvent(next, event);
          if (result.outcome === 'unknown' || result.outcome === 'invalid') needsRefetch = event.sequence;
          next = result.view;
        }
        return next;
      });
      qc.setQueryData<TimelineRow[]>(keys.timeline(runId), (rows) => (rows ? mergeTimeline(rows, events.map(rowFromEvent)) : rows));
      if (needsRefetch) refetchAtLeast(needsRefetch);
    },
    [qc, runId, refetchAtLeast],
  );

  const filling = useRef({ running: false, again: false });
  const fillGap = useCallback(async () => {
    const state = filling.current;
    if (state.running) return void (state.again = true);
    state.running = true;
    try {
      do {
        state.again = false;
        const view = qc.getQueryData<RunView>(keys.run(runId));
        if (!view) return; // the first REST load triggers a fill when it lands
        const entries = await fetchTimelineSince(runId, view.sequence);
        fold(entries.map((e) => eventFromEntry(runId, e)));
        qc.setQueryData<TimelineRow[]>(keys.timeline(runId), (rows) => (rows ? mergeTimeline(rows, entries.map(rowFromEntry)) : rows));
      } while (state.again);
    } catch (err) {
      console.warn('timeline gap-fill failed; the next reconnect or refetch retries', err);
    } finally {
      state.running = false;
    }
  }, [qc, runId, fold]);

  // Token deltas arrive many times a second: buffer them and render at most every 100 ms.
  const [live, setLive] = useState<LiveByCandidate>({});
  const pendingLive = useRef<LiveMessage[]>([]);
  const liveTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const onLive = useCallback((message: LiveMessage) => {
    pendingLive.current.push(message);
    if (liveTimer.current) return;
    liveTimer.current = setTimeout(() => {
      liveTimer.current = null;
      const batch = pendingLive.current.splice(0);
      setLive((state) => batch.reduce(applyLiveMessage, state));
    }, 100);
  }, []);
  useEffect(() => () => void (liveTimer.current && clearTimeout(liveTimer.current)), []);

  // Run events too are folded in batches (at most one render per frame): a burst of events
  // costs one reducer pass and one render, not one each.
  const pendingEvents = useRef<SocketEvent[]>([]);
  const eventTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const onEvent = useCallback(
    (event: SocketEvent) => {
      pendingEvents.current.push(event);
      if (eventTimer.current) return;
      eventTimer.current = setTimeout(() => {
        eventTimer.current = null;
        fold(pendingEvents.current.splice(0));
      }, 16);
    },
    [fold],
  );
  useEffect(() => () => void (eventTimer.current && clearTimeout(eventTimer.current)), []);

  useRoom(`run:${runId}`, {
    onEvent,
    onLive,
    onSubscribed: () => {
      setLiveError(null);
      void fillGap();
      // The timeline is a read model: events appended just before the (re)join may not be
      // projected yet, and the socket will not send them. A second look covers that lag.
      setTimeout(() => void fillGap(), 2000);
    },
    onError: setLiveError,
  });

  const loaded = run.data !== undefined;
  useEffect(() => {
    if (loaded) void fillGap();
  }, [loaded, fillGap]);

  return { run, timeline, liveError, live, refetchAtLeast };
}
