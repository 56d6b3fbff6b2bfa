import { useEffect, useState, useSyncExternalStore } from 'react';

/** Current time in ms, re-rendering every `intervalMs` while `active` (for live durations). */
export function useNow(active: boolean, intervalMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [active, intervalMs]);
  return now;
}

/**
 * `useNow` for a clock that can be stopped: at `at` when it is set (the run page scrubbed to `?at=`
 * shows its clocks frozen at the event's time), else the current time, ticking while `running`.
 */
export function useNowOrAt(running: boolean, at: string | undefined): number {
  const clock = useNow(running && !at);
  return at ? Date.parse(at) : clock;
}

/**
 * One clock for many small live cells (a list's running durations): every subscriber re-renders on
 * the same whole-second tick from one shared timer, and the timer stops when the last one unmounts.
 * Cheaper than a parent's `useNow` when only a few cells change: nothing else re-renders.
 */
const clockListeners = new Set<() => void>();
let clockTimer: ReturnType<typeof setInterval> | null = null;
let clockNow = Date.now();

function subscribeClock(listener: () => void): () => void {
  clockListeners.add(listener);
  if (!clockTimer) {
    clockNow = Date.now();
    clockTimer = setInterval(() => {
      clockNow = Date.now();
      for (const l of clockListeners) l();
    }, 1000);
  }
  return () => {
    clockListeners.delete(listener);
    if (clockListeners.size === 0 && clockTimer) {
      clearInterval(clockTimer);
      clockTimer = null;
    }
  };
}

export function useSharedClock(): number {
  return useSyncExternalStore(subscribeClock, () => clockNow);
}
