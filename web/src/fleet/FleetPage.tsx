import { useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../api/endpoints';
import { keys } from '../api/keys';
import type { WorkerView } from '@conclave/contracts';
import { formatDateTime } from '../lib/format';
import { useNow } from '../lib/use-now';
import { useRoom } from '../live/use-room';
import { DataTable, type Column } from '../ui/DataTable';
import { StatusBadge } from '../ui/StatusBadge';
import { applyHeartbeat, effectiveStatus } from './fleet';

type WorkerRow = WorkerView & { shown: WorkerView['status'] };

const COLUMNS = (now: number): Column<WorkerRow>[] => [
  { id: 'id', header: 'Worker', cell: (w) => w.id, className: 'mono' },
  { id: 'role', header: 'Role', cell: (w) => w.role ?? '—' },
  { id: 'host', header: 'Host', cell: (w) => w.host ?? '—' },
  { id: 'status', header: 'Status', cell: (w) => <StatusBadge status={WORKER_BADGE[w.shown]} label={w.shown} /> },
  { id: 'inFlight', header: 'In flight', cell: (w) => w.inFlight ?? '—' },
  { id: 'done', header: 'Done', cell: (w) => w.done ?? '—' },
  { id: 'failed', header: 'Failed', cell: (w) => w.failed ?? '—' },
  {
    id: 'heartbeat',
    header: 'Last heartbeat',
    cell: (w) => (w.lastHeartbeatAt ? `${formatDateTime(w.lastHeartbeatAt)} (${Math.max(0, Math.round((now - Date.parse(w.lastHeartbeatAt)) / 1000))} s ago)` : '—'),
  },
];

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
  const rows: WorkerRow[] = (workers.data?.items ?? []).map((w) => ({ ...w, shown: effectiveStatus(w, now) }));
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
      <DataTable
        caption="Workers"
        columns={COLUMNS(now)}
        rows={rows}
        rowKey={(w) => w.id}
        rowProps={(w) => ({ className: w.shown === 'stalled' ? 'row--alert' : undefined, 'data-testid': 'worker-row', 'data-status': w.shown })}
        state={workers}
        loadingLabel="Loading workers…"
        feature="The fleet"
        empty={<p className="muted">No worker has reported yet.</p>}
      />
    </div>
  );
}
