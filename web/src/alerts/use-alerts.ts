import type { AlertItem, AlertStatus, AlertSummary } from '@conclave/contracts';
import { useInfiniteQuery, useMutation, useQuery, useQueryClient, type InfiniteData } from '@tanstack/react-query';
import { api } from '../api/endpoints';
import { keys } from '../api/keys';
import { useRoom } from '../live/use-room';
import { notifyDone, notifyRefused } from '../ui/toast';

/**
 * The position of the newest alert event this tab was told about. The relay and the projector read
 * the log side by side, so a refetch right after the socket event could come before the fold: the
 * alert queries ask for it as `min_sequence` (the gateway waits until the projector applied it).
 */
let seenSequence = 0;
const readOptions = (signal: AbortSignal) => ({ signal, ...(seenSequence > 0 ? { minSequence: seenSequence } : {}) });

/**
 * Alerts for any page (ADR 016). Freshness comes from the socket room `alerts` (AlertRaised,
 * AlertAcknowledged and a run's budget alerts are relayed there), not from polling: every relayed
 * event and every (re)join of the room refetches what is shown, so a reconnect fills what it missed.
 */
export function useAlertsRoom(): void {
  const qc = useQueryClient();
  useRoom('alerts', {
    onEvent: (event) => {
      seenSequence = Math.max(seenSequence, event.sequence);
      void qc.invalidateQueries({ queryKey: keys.alerts() });
    },
    onSubscribed: () => void qc.invalidateQueries({ queryKey: keys.alerts() }),
  });
}

export interface OpenAlerts {
  /** open (unacknowledged) alerts; 0 until the first answer */
  open: number;
  byKind: AlertSummary['byKind'];
  isPending: boolean;
  isError: boolean;
  error: unknown;
}

/** The count of open alerts, by kind, kept live over the `alerts` room (the header's bell, the overview). */
export function useOpenAlerts(): OpenAlerts {
  useAlertsRoom();
  const summary = useQuery({ queryKey: keys.alertSummary(), queryFn: ({ signal }) => api.alertSummary(readOptions(signal)) });
  return {
    open: summary.data?.open ?? 0,
    byKind: summary.data?.byKind ?? {},
    isPending: summary.isPending,
    isError: summary.isError,
    error: summary.error,
  };
}

type AlertPage = { items: AlertItem[]; nextCursor: string | null };

/** The alerts list (newest first, paged), live over the `alerts` room. */
export function useAlertList(status: AlertStatus, limit = 50) {
  useAlertsRoom();
  return useInfiniteQuery<AlertPage, Error, InfiniteData<AlertPage>, ReturnType<typeof keys.alertList>, string | undefined>({
    queryKey: keys.alertList(status),
    queryFn: ({ pageParam, signal }) => api.alerts({ status, cursor: pageParam, limit, ...readOptions(signal) }),
    initialPageParam: undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
}

/**
 * Acknowledge an alert (idempotent on the server); refreshes every alert query once it is recorded.
 * Its outcome is toasted here, in the mutation's own callbacks: the row that
 * asked is usually gone by then (the alerts room removes it from the open list before the POST
 * answers), and a caller's per-call callbacks do not run once it has unmounted.
 */
export function useAcknowledgeAlert() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (alert: Pick<AlertItem, 'id' | 'message'>) => api.acknowledgeAlert(alert.id),
    onSuccess: (_answer, alert) => {
      notifyDone('Alert acknowledged', alert.message);
      return qc.invalidateQueries({ queryKey: keys.alerts() });
    },
    onError: (error) => notifyRefused('Acknowledging the alert was refused', error),
  });
}
