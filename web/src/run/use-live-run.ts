import type { LiveMessage, RunView, SocketEvent } from '@conclave/contracts';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useRef, useState } from 'react';
import { fetchTimelineSince } from '../api/endpoints';
import { keys } from '../api/keys';
import { useRoom } from '../live/use-room';
import { withEvents } from './live-run-state';
import { liveRun, loadRunView, runQueryRetry, runQueryRetryDelay, updateLiveRun } from './live-run-store';
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

/** Live events kept to merge into a refetched timeline. */
const TIMELINE_REPLAY = 5000;

/**
 * A run's state, live: the RunView from REST with the room's events folded in, through the run's
 * LiveRunState (live-run-state.ts: events in sequence order on top of the newest snapshot).
 *
 * Consistency:
 * - the room is joined on mount; after every (re)join, after the first live event that follows it,
 *   2 s later, and after the first REST load, the gap is fetched from the timeline (after the
 *   sequence the state is complete up to, with `min_sequence` = the newest sequence the socket
 *   showed, so the projector has applied everything before it) — the socket never replays;
 * - gap-fill pages and live events may arrive in any order: the state re-folds from the snapshot
 *   when an event lands below one already folded, so neither source can hide the other's events;
 * - a refetched RunView older than the current snapshot is ignored; a newer one is the new base,
 *   with the buffered events after it replayed, so the view never goes back in time;
 * - an event the reducer cannot fold (a newer type, bad data) triggers a refetch with
 *   `min_sequence` = that event, so the projector's view brings its effect.
 */
export function useLiveRun(runId: string, initialMinSequence?: number) {
  const qc = useQueryClient();
  const minSequence = useRef(initialMinSequence);
  const recent = useRef<SocketEvent[]>([]);
  const [liveError, setLiveError] = useState<{ code: string; message: string } | null>(null);

  const run = useQuery({
    queryKey: keys.run(runId),
    queryFn: ({ signal }) => loadRunView(runId, { minSequence: minSequence.current, signal }),
    retry: runQueryRetry,
    retryDelay: runQueryRetryDelay,
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

  const refetchRequested = useRef(0);
  /** Events (live or gap-fill) into the run's state; the query cache shows its view. */
  const apply = useCallback(
    (events: readonly SocketEvent[], completeUpTo = 0, rows: TimelineRow[] = events.map(rowFromEvent)) => {
      const before = liveRun(runId);
      const state = updateLiveRun(runId, (s) => withEvents(s, events, completeUpTo));
      if (state.view && state.view !== before.view) qc.setQueryData<RunView>(keys.run(runId), state.view);
      if (events.length > 0) {
        recent.current.push(...events);
        if (recent.current.length > TIMELINE_REPLAY) recent.current.splice(0, recent.current.length - TIMELINE_REPLAY);
        qc.setQueryData<TimelineRow[]>(keys.timeline(runId), (prev) => (prev ? mergeTimeline(prev, rows) : prev));
      }
      if (state.refetchAtLeast > refetchRequested.current) {
        refetchRequested.current = state.refetchAtLeast;
        refetchAtLeast(state.refetchAtLeast);
      } else if (!state.base && state.latest > 0 && qc.getQueryState(keys.run(runId))?.status === 'error') {
        // the first load failed (e.g. 404 before the projector saw the run) but the run exists
        refetchAtLeast(state.latest);
      }
    },
    [qc, runId, refetchAtLeast],
  );

  const filling = useRef({ running: false, again: false });
  const fillGap = useCallback(async () => {
    const flag = filling.current;
    if (flag.running) return void (flag.again = true);
    flag.running = true;
    try {
      do {
        flag.again = false;
        const state = liveRun(runId);
        if (!state.base) return; // the first REST load triggers a fill when it lands
        // What the socket showed, the projector must have applied: the timeline then has it all.
        const wait = state.latest > state.complete ? state.latest : undefined;
        const entries = await fetchTimelineSince(runId, state.complete, { minSequence: wait });
        const last = entries.length > 0 ? entries[entries.length - 1]!.sequence : 0;
        apply(
          entries.map((e) => eventFromEntry(runId, e)),
          Math.max(wait ?? 0, last),
          entries.map(rowFromEntry),
        );
      } while (flag.again);
    } catch (err) {
      console.warn('timeline gap-fill failed; the next reconnect or refetch retries', err);
    } finally {
      flag.running = false;
    }
  }, [runId, apply]);

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
  const fillOnNextEvent = useRef(false);
  const onEvent = useCallback(
    (event: SocketEvent) => {
      pendingEvents.current.push(event);
      if (eventTimer.current) return;
      eventTimer.current = setTimeout(() => {
        eventTimer.current = null;
        apply(pendingEvents.current.splice(0));
        // The first event after a (re)join bounds what was appended before it: fetch up to there.
        if (fillOnNextEvent.current) {
          fillOnNextEvent.current = false;
          void fillGap();
        }
      }, 16);
    },
    [apply, fillGap],
  );
  useEffect(() => () => void (eventTimer.current && clearTimeout(eventTimer.current)), []);

  const followUp = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => () => void (followUp.current && clearTimeout(followUp.current)), []);
  useRoom(`run:${runId}`, {
    onEvent,
    onLive,
    onSubscribed: () => {
      setLiveError(null);
      fillOnNextEvent.current = true;
      void fillGap();
      // The timeline is a read model: events appended just before the (re)join may not be
      // projected yet, and the socket will not send them. A second look covers that lag.
      if (followUp.current) clearTimeout(followUp.current);
      followUp.current = setTimeout(() => void fillGap(), 2000);
    },
    onError: setLiveError,
  });

  const loaded = run.data !== undefined;
  useEffect(() => {
    if (loaded) void fillGap();
  }, [loaded, fillGap]);

  return { run, timeline, liveError, live, refetchAtLeast };
}
