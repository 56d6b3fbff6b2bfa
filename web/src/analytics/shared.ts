import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef } from 'react';
import { useRoom } from '../live/use-room';

/** What the analytics pages (AnalyticsPage, FrontierPage) share, apart from either page's module: each loads with its page only. */

/** a rate as a whole percentage ("—" without one) */
export function formatRate(rate: number | null): string {
  return rate === null ? '—' : `${Math.round(rate * 100)}%`;
}

/** events after which the figures may have moved; refetches are at most one per REFRESH_MS */
const REFRESHING = new Set(['RunStarted', 'RunCompleted', 'RunFailed', 'RunCancelled', 'CandidateGenerated', 'CandidateFailed', 'VerdictRecorded', 'PhaseCompleted', 'PhaseFailed']);
const REFRESH_MS = 5_000;

/** Refetch the figures (every ['analytics', …] query: the frontier's too) when runs progress, at most every REFRESH_MS. */
export function useLiveRefresh() {
  const qc = useQueryClient();
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );
  useRoom('runs', {
    onEvent: (e) => {
      if (!REFRESHING.has(e.type) || timer.current) return;
      timer.current = setTimeout(() => {
        timer.current = null;
        void qc.invalidateQueries({ queryKey: ['analytics'] });
      }, REFRESH_MS);
    },
  });
}
