import type { RunUsageItem, RunView, SocketEvent } from '@conclave/contracts';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useSearchParams } from 'react-router-dom';
import { eventFromEntry, type TimelineRow } from '../timeline';
import { RunScrubber } from './fold';
import { parseAt, playDelay, type Speed } from './scrub-model';
import { UsageFold } from './usage';

export interface Scrub {
  /** `?at=` is set: the page shows the run as it was then */
  active: boolean;
  /** the timeline is loaded (before, a scrubbed page has nothing to fold) */
  ready: boolean;
  events: readonly SocketEvent[];
  /** the event shown (the last one when live); -1 before the first */
  index: number;
  /** the run after event `index`; undefined when live or not ready */
  view: RunView | undefined;
  /** its spend by provider and model up to there (as `GET /runs/:id/usage` counts it); undefined when live */
  usage: RunUsageItem[] | undefined;
  playing: boolean;
  speed: Speed;
  setSpeed: (speed: Speed) => void;
  goTo: (index: number) => void;
  play: () => void;
  pause: () => void;
  live: () => void;
}

/**
 * The run page's time travel: `?at=<sequence>` (deep-linkable, kept in sync while scrubbing and
 * playing, with `replace` so the history is not flooded) picks the last event at or before it, and
 * the run is folded from the page's timeline up to there (fold.ts, memoised per index).
 */
export function useScrub(runId: string, live: RunView | undefined, rows: readonly TimelineRow[] | undefined): Scrub {
  const [params, setParams] = useSearchParams();
  const urlAt = parseAt(params.get('at'));
  // The sequence shown moves at once; the URL follows (a router navigation, rendered later). An
  // `at` the page did not write itself (a link, the back button) moves it too.
  const [at, setCursor] = useState(urlAt);
  const pending = useRef<{ at: number | undefined } | null>(null);
  useEffect(() => {
    if (pending.current) {
      if (pending.current.at === urlAt) pending.current = null;
      return;
    }
    setCursor(urlAt);
  }, [urlAt]);
  const scrubber = useRef<RunScrubber | null>(null);
  scrubber.current ??= new RunScrubber(runId);
  // The run's events from the page's timeline rows (the timeline endpoint plus live events, ascending).
  const events = useMemo(() => (rows ?? []).map((r) => eventFromEntry(runId, r)), [runId, rows]);
  scrubber.current.setEvents(events);

  const active = at !== undefined;
  const ready = rows !== undefined;
  const index = active ? Math.max(scrubber.current.indexAt(at), events.length > 0 ? 0 : -1) : events.length - 1;
  const view = useMemo(() => (active && ready ? scrubber.current!.viewAt(index, live) : undefined), [active, ready, index, events, live]);
  const usageFold = useRef<UsageFold | null>(null);
  usageFold.current ??= new UsageFold();
  usageFold.current.setEvents(events);
  const usage = useMemo(() => (active && ready ? usageFold.current!.upTo(index) : undefined), [active, ready, index, events]);

  const setAt = useCallback(
    (sequence: number | undefined) => {
      setCursor(sequence);
      if (!pending.current && sequence === urlAt) return;
      pending.current = { at: sequence };
      setParams(
        (prev) => {
          const next = new URLSearchParams(prev);
          if (sequence === undefined) next.delete('at');
          else next.set('at', String(sequence));
          return next;
        },
        { replace: true },
      );
    },
    [setParams, urlAt],
  );
  const goTo = useCallback(
    (i: number) => {
      const event = events[Math.min(Math.max(i, 0), events.length - 1)];
      if (event) setAt(event.sequence);
    },
    [events, setAt],
  );

  const [playing, setPlaying] = useState(false);
  const [speed, setSpeed] = useState<Speed>(1);
  const play = useCallback(() => {
    // from the start when live or at the end
    if (!active || index >= events.length - 1) goTo(0);
    setPlaying(true);
  }, [active, index, events.length, goTo]);
  const pause = useCallback(() => setPlaying(false), []);
  const goLive = useCallback(() => {
    setPlaying(false);
    setAt(undefined);
  }, [setAt]);

  useEffect(() => {
    if (!playing || !active) return;
    if (index >= events.length - 1) return void setPlaying(false);
    const timer = setTimeout(() => goTo(index + 1), playDelay(events[index], events[index + 1]!, speed));
    return () => clearTimeout(timer);
  }, [playing, active, index, events, speed, goTo]);

  return { active, ready, events, index, view, usage, playing, speed, setSpeed, goTo, play, pause, live: goLive };
}
