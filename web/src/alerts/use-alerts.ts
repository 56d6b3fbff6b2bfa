import type { AlertItem, AlertStatus, AlertSummary } from '@conclave/contracts';
import { useInfiniteQuery, useMutation, useQuery, useQueryClient, type InfiniteData } from '@tanstack/react-query';
import { api } from '../api/endpoints';
import { keys } from '../api/keys';
import { useRoom } from '../live/use-room';

/**
 * Alerts for any page (ADR 016). Freshness comes from the socket room `alerts` (AlertRaised,
 * AlertAcknowledged and a run's budget alerts are relayed there), not from polling: every relayed
 * event and every (re)join of the room refetches what is shown, so a reconnect fills what it missed.
 */
export function useAlertsRoom(): void {
  const qc = useQueryClient();
  useRoom('alerts', {
    onEvent: () => void qc.invalidateQueries({ queryKey: keys.alerts() }),
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
  const summary = useQuery({ queryKey: keys.alertSummary(), queryFn: ({ signal }) => api.alertSummary({ signal }) });
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
    queryFn: ({ pageParam, signal }) => api.alerts({ status, cursor: pageParam, limit, signal }),
    initialPageParam: undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
}

/** Acknowledge one alert (idempotent on the server); refreshes every alert query once it is recorded. */
export function useAcknowledgeAlert() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api.acknowledgeAlert(id),
    onSuccess: () => qc.invalidateQueries({ queryKey: keys.alerts() }),
  });
}
