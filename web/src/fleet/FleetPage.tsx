import { useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../api/endpoints';
import { keys } from '../api/keys';
import type { WorkerView } from '@conclave/contracts';
import { formatDateTime } from '../lib/format';
import { useNow } from '../lib/use-now';
import { useRoom } from '../live/use-room';
import { FeatureError } from '../ui/FeatureError';
import { Loading } from '../ui/Loading';
import { StatusBadge } from '../ui/StatusBadge';
import { applyHeartbeat, effectiveStatus } from './fleet';

const WORKER_BADGE: Record<WorkerView['status'], string> = { stalled: 'failed', busy: 'running', draining: 'paused', stopped: 'cancelled', idle: 'pending' };

/** The worker fleet: GET /workers, then live heartbeats from the `fleet` room; stalled workers first and highlighted. */
export default function FleetPage() {
  const qc = useQueryClient();
  const workers = useQuery({ queryKey: keys.workers(), queryFn: ({ signal }) => api.workers({ signal }), retry: false });
  useRoom('fleet', {
    onLive: (m) => {
      if (m.kind !== 'heartbeat') return;
      qc.setQueryData<{ items: WorkerView[] }>(keys.workers(), (data) => (data ? { ...data, items: applyHeartbeat(data.items, m) } : data));
    },
    onSubscribed: () => void qc.invalidateQueries({ queryKey: keys.workers() }),
  });
  const now = useNow(true);
  const rows = (workers.data?.items ?? []).map((w) => ({ ...w, shown: effectiveStatus(w, now) }));
  rows.sort((a, b) => Number(b.shown === 'stalled') - Number(a.shown === 'stalled') || a.id.localeCompare(b.id));
  const stalled = rows.filter((r) => r.shown === 'stalled').length;
  return (
    <div className="page">
      <title>Fleet · Conclave</title>
      <header className="page-header">
        <div className="page-header__title">
          <h1>Fleet</h1>
          <p className="text-muted flex gap-2">
            {rows.length} workers · {rows.filter((r) => r.shown === 'busy').length} busy · {stalled} stalled
          </p>
        </div>
      </header>
      {stalled > 0 && (
        <div className="notice notice--warn" role="status">
          {stalled} worker{stalled > 1 ? 's have' : ' has'} stopped sending heartbeats; their in-flight candidates are redispatched.
        </div>
      )}
      {workers.isPending ? (
        <Loading label="Loading workers…" />
      ) : workers.isError ? (
        <FeatureError error={workers.error} feature="The fleet" onRetry={() => void workers.refetch()} />
      ) : rows.length === 0 ? (
        <p className="muted">No worker has reported yet.</p>
      ) : (
        <div className="table-wrap">
          <table className="table">
            <caption className="sr-only">Workers</caption>
            <thead>
              <tr>
                <th scope="col">Worker</th>
                <th scope="col">Role</th>
                <th scope="col">Host</th>
                <th scope="col">Status</th>
                <th scope="col">In flight</th>
                <th scope="col">Done</th>
                <th scope="col">Failed</th>
                <th scope="col">Last heartbeat</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((w) => (
                <tr key={w.id} className={w.shown === 'stalled' ? 'row--alert' : undefined} data-testid="worker-row" data-status={w.shown}>
                  <td className="mono">{w.id}</td>
                  <td>{w.role ?? '—'}</td>
                  <td>{w.host ?? '—'}</td>
                  <td>
                    <StatusBadge status={WORKER_BADGE[w.shown]} label={w.shown} />
                  </td>
                  <td>{w.inFlight ?? '—'}</td>
                  <td>{w.done ?? '—'}</td>
                  <td>{w.failed ?? '—'}</td>
                  <td>{w.lastHeartbeatAt ? `${formatDateTime(w.lastHeartbeatAt)} (${Math.max(0, Math.round((now - Date.parse(w.lastHeartbeatAt)) / 1000))} s ago)` : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
