import type { AlertItem, AlertStatus } from '@conclave/contracts';
import { useMemo } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { formatDateTime } from '../lib/format';
import { Button } from '../ui/Button';
import { DataTable, LoadMore, type Column } from '../ui/DataTable';
import { HandledState, StatusBadge } from '../ui/StatusBadge';
import { useAcknowledgeAlert, useAlertList, useOpenAlerts } from './use-alerts';

const STATUSES: { value: AlertStatus; label: string }[] = [
  { value: 'open', label: 'Open' },
  { value: 'acknowledged', label: 'Acknowledged' },
  { value: 'all', label: 'All' },
];
const statusParam = (v: string | null): AlertStatus => (v === 'acknowledged' || v === 'all' ? v : 'open');

/** Kinds in words, and in the run statuses' palette. */
const KIND_LABEL: Record<string, string> = {
  run_stalled: 'run stalled',
  provider_failures: 'provider failing',
  provider_credentials: 'credentials refused',
  cost_spike: 'cost spike',
  dead_letter: 'dead letter',
  budget_threshold: 'budget',
  budget: 'run budget',
  projection_halted: 'projection halted',
  projection_parked: 'projection parked',
};
const KIND_BADGE: Record<string, string> = {
  run_stalled: 'waiting',
  provider_failures: 'failed',
  provider_credentials: 'failed',
  cost_spike: 'paused',
  dead_letter: 'failed',
  budget_threshold: 'paused',
  budget: 'paused',
  projection_halted: 'failed',
  projection_parked: 'failed',
};

/**
 * Operator alerts (ADR 016): stalled runs, failing providers, refused credentials, cost spikes,
 * dead letters, budgets and the projection's own. Open ones first by default (`?status=`), newest
 * first, live over the `alerts` room; each can be acknowledged once (recorded in the log).
 */
export default function AlertsPage() {
  const [params, setParams] = useSearchParams();
  const status = statusParam(params.get('status'));
  const list = useAlertList(status);
  const { open, byKind } = useOpenAlerts();
  const rows = useMemo(() => list.data?.pages.flatMap((p) => p.items) ?? [], [list.data]);
  const columns = useMemo(() => alertColumns(), []);

  const setStatus = (value: AlertStatus) =>
    setParams(
      (prev) => {
        const next = new URLSearchParams(prev);
        if (value === 'open') next.delete('status');
        else next.set('status', value);
        return next;
      },
      { replace: true },
    );

  const summary = Object.entries(byKind)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([kind, n]) => `${n} ${KIND_LABEL[kind] ?? kind}`)
    .join(' · ');

  return (
    <div className="page">
      <title>Alerts · Conclave</title>
      <header className="page-header">
        <div className="page-header__title">
          <h1>Alerts</h1>
          <p className="muted" data-testid="alerts-summary">
            {open === 0 ? 'No open alerts.' : `${open} open: ${summary}.`} Stalled runs, failing providers, refused credentials, cost spikes, dead letters and budgets.
          </p>
        </div>
      </header>

      <form className="toolbar" role="search" aria-label="Alert filters" onSubmit={(e) => e.preventDefault()}>
        <div className="field field--inline">
          <span id="alerts-status">Show</span>
          <div className="actions" role="group" aria-labelledby="alerts-status">
            {STATUSES.map((s) => (
              <Button key={s.value} size="small" variant={status === s.value ? 'primary' : 'ghost'} aria-pressed={status === s.value} onClick={() => setStatus(s.value)}>
                {s.label}
              </Button>
            ))}
          </div>
        </div>
      </form>

      <DataTable
        caption="Alerts"
        columns={columns}
        rows={rows}
        rowKey={(a) => a.id}
        rowProps={(a) => ({ 'data-testid': 'alert-row', 'data-id': a.id, 'data-kind': a.kind, 'data-state': a.acknowledgedAt ? 'acknowledged' : 'open' })}
        state={list}
        loadingLabel="Loading alerts…"
        feature="Alerts"
        empty={<p>{status === 'open' ? 'No open alerts: nothing needs you right now.' : 'No alerts.'}</p>}
        footer={<LoadMore query={list} />}
      />
    </div>
  );
}

const alertColumns = (): Column<AlertItem>[] => [
  { id: 'kind', header: 'Kind', cell: (a) => <StatusBadge status={KIND_BADGE[a.kind] ?? 'pending'} label={KIND_LABEL[a.kind] ?? a.kind} /> },
  { id: 'message', header: 'Message', cell: (a) => <div className="max-w-[40rem] whitespace-pre-wrap break-words">{a.message}</div> },
  { id: 'concerns', header: 'Concerns', cell: (a) => <Concerns alert={a} /> },
  { id: 'createdAt', header: 'Raised', cell: (a) => formatDateTime(a.createdAt) },
  {
    id: 'state',
    header: 'State',
    cell: (a) => <HandledState at={a.acknowledgedAt} by={a.acknowledgedBy} label="acknowledged" />,
  },
  { id: 'actions', header: <span className="sr-only">Actions</span>, cell: (a) => (a.acknowledgedAt ? null : <AcknowledgeButton alert={a} />) },
];

/** Links to what the alert is about: its run, its provider, its dead letter. */
function Concerns({ alert: a }: { alert: AlertItem }) {
  const details = (a.details ?? {}) as { id?: unknown; templateId?: unknown };
  const links = [
    a.runId && (
      <Link key="run" to={`/runs/${encodeURIComponent(a.runId)}`} className="mono">
        run {a.runId}
      </Link>
    ),
    a.providerName && (
      <Link key="provider" to="/providers">
        provider {a.providerName}
      </Link>
    ),
    a.kind === 'dead_letter' && typeof details.id === 'string' && (
      <Link key="dead-letter" to={`/dead-letters?state=all${a.runId ? `&runId=${encodeURIComponent(a.runId)}` : ''}`}>
        dead letter {details.id}
      </Link>
    ),
    typeof details.templateId === 'string' && (
      <Link key="template" to={`/templates/${encodeURIComponent(details.templateId)}`} className="mono">
        template {details.templateId}
      </Link>
    ),
  ].filter(Boolean);
  if (links.length === 0) return <span className="muted">—</span>;
  return <div className="flex flex-col gap-1">{links}</div>;
}

function AcknowledgeButton({ alert: a }: { alert: AlertItem }) {
  const acknowledge = useAcknowledgeAlert();
  return (
    <Button
      size="small"
      disabled={acknowledge.isPending}
      aria-label={`Acknowledge: ${a.message}`}
      onClick={() => acknowledge.mutate(a)}
    >
      Acknowledge
    </Button>
  );
}
