import type { AlertItem, OverviewFailure, OverviewRun, OverviewView, OverviewWait } from '@conclave/contracts';
import type { ReactNode } from 'react';
import { Link } from 'react-router-dom';
import { useAlertList, useOpenAlerts } from '../alerts/use-alerts';
import { elapsedMs, formatDateTime, formatDuration, formatUsd } from '../lib/format';
import { useNow } from '../lib/use-now';
import { FeatureError } from '../ui/FeatureError';
import { Loading } from '../ui/Loading';
import { StatusBadge } from '../ui/StatusBadge';
import { fleetHealth } from './overview-fold';
import { useFleet, useOverview } from './use-overview';

const runHref = (runId: string, phaseId?: string | null) => `/runs/${encodeURIComponent(runId)}${phaseId ? `?phase=${encodeURIComponent(phaseId)}` : ''}`;
const runLabel = (r: { id: string; name: string | null }) => r.name || r.id.slice(0, 8);

/**
 * The home page: what runs and what waits for a human, what it costs today and this month against
 * the budgets, open alerts, the fleet's health and what failed lately — live over the `runs`,
 * `costs`, `alerts` and `fleet` rooms (no polling).
 */
export default function OverviewPage() {
  const overview = useOverview();
  const view = overview.data;
  return (
    <div className="page">
      <title>Overview · Conclave</title>
      <header className="page-header">
        <div className="page-header__title">
          <h1>Overview</h1>
          <p className="muted">What runs, what waits for you, what it costs and what broke — live.</p>
        </div>
        <div className="actions">
          <Link className="btn btn--primary" to="/templates">
            Start a run
          </Link>
        </div>
      </header>

      {overview.isPending ? (
        <Loading label="Loading the overview…" />
      ) : !view ? (
        <FeatureError error={overview.error} feature="The overview" onRetry={() => void overview.refetch()} />
      ) : (
        view && (
          <>
            {/* a refresh failed: what is shown is the last answer, still patched live */}
            {overview.isError && <FeatureError error={overview.error} feature="The overview" onRetry={() => void overview.refetch()} />}
            {view.runs.total === 0 && (
              <div className="empty" data-testid="overview-first-run">
                <p>
                  <strong>No runs yet</strong> — start one from <Link to="/templates">Templates</Link>.
                </p>
                <p>A run takes a template’s phases from its inputs to an artifact; this page then shows it live.</p>
              </div>
            )}
            <AtAGlance view={view} />
            <ActiveRuns view={view} />
          </>
        )
      )}
      <div className="grid-2">
        {view && <Spend view={view} />}
        <OpenAlerts />
      </div>
      <div className="grid-2">
        <Fleet />
        {view && <Failures failures={view.failures} recent={view.runs.recent} />}
      </div>
    </div>
  );
}

function AtAGlance({ view }: { view: OverviewView }) {
  const { counts } = view.runs;
  const alerts = useOpenAlerts();
  const fleet = useFleet();
  const now = useNow(true, 5000);
  const health = fleet.data ? fleetHealth(fleet.data.items, now) : null;
  return (
    <section className="card" aria-label="At a glance">
      <dl className="stats stats--grid">
        <Stat label="Running" testId="overview-count-running" value={counts.running} />
        <Stat label="Waiting on you" testId="overview-count-waiting" value={counts.waiting} />
        <Stat label="Paused" testId="overview-count-paused" value={counts.paused} />
        <Stat label="Spent today" testId="overview-spend-today" value={formatUsd(view.spend.today.costUsd)} data={{ 'data-usd': String(view.spend.today.costUsd) }} />
        <Stat label={`Spent in ${view.spend.month.month}`} testId="overview-spend-month" value={formatUsd(view.spend.month.costUsd)} data={{ 'data-usd': String(view.spend.month.costUsd) }} />
        <Stat label="Open alerts" testId="overview-alert-count" value={alerts.isPending ? '…' : alerts.isError ? '—' : alerts.open} />
        <Stat label="Workers up" testId="overview-workers-up" value={health ? `${health.up} of ${health.workers}` : '…'} />
        <Stat label="Stalled workers" testId="overview-workers-stalled" value={health ? health.stalled : '…'} />
      </dl>
    </section>
  );
}

function Stat({ label, value, testId, data }: { label: string; value: ReactNode; testId: string; data?: Record<string, string> }) {
  return (
    <div data-testid={testId} {...data}>
      <dt>{label}</dt>
      <dd>{value}</dd>
    </div>
  );
}

function ActiveRuns({ view }: { view: OverviewView }) {
  const now = useNow(view.runs.active.length > 0);
  const { active, counts, limit } = view.runs;
  const total = counts.running + counts.waiting + counts.paused;
  return (
    <section className="card" aria-labelledby="overview-active-heading">
      <div className="card__head">
        <h2 id="overview-active-heading">Active runs</h2>
        <Link to="/runs">All runs</Link>
      </div>
      {active.length === 0 ? (
        <p className="muted" data-testid="overview-no-active">
          Nothing is running. {view.runs.total > 0 ? 'Start another run' : 'Start a run'} from <Link to="/templates">Templates</Link>.
        </p>
      ) : (
        <div className="table-wrap">
          <table className="table table--compact">
            <caption className="sr-only">Running, waiting and paused runs, those waiting on you first</caption>
            <thead>
              <tr>
                <th scope="col">Run</th>
                <th scope="col">Status</th>
                <th scope="col">Waiting for / working on</th>
                <th scope="col">Phases</th>
                <th scope="col" className="text-right">
                  Cost
                </th>
                <th scope="col">Started</th>
              </tr>
            </thead>
            <tbody>
              {active.map((run) => (
                <tr key={run.id} data-testid="overview-active-run" data-run-id={run.id} data-status={run.status}>
                  <td>
                    <Link to={runHref(run.id)}>{runLabel(run)}</Link>
                    <div className="small muted">{run.templateName}</div>
                  </td>
                  <td>
                    <StatusBadge status={run.status} />
                  </td>
                  <td>
                    <RunActivity run={run} now={now} />
                  </td>
                  <td>
                    {run.phasesDone} / {run.phasesTotal}
                  </td>
                  <td className="text-right">
                    {formatUsd(run.costUsd)}
                    {run.budgetUsd !== null && <span className="small muted"> of {formatUsd(run.budgetUsd)}</span>}
                  </td>
                  <td>
                    <time dateTime={run.startedAt} title={formatDateTime(run.startedAt)}>
                      {formatDuration(elapsedMs(run.startedAt, null, now))} ago
                    </time>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {total > active.length && (
            <p className="small muted">
              The {limit} most pressing of {total} active runs. <Link to="/runs?status=waiting">All waiting runs</Link>
            </p>
          )}
        </div>
      )}
    </section>
  );
}

const WAIT_LABEL: Record<OverviewWait['kind'], string> = { gate: 'Approve', questions: 'Answer', continue: 'Continue', paused: 'Paused', retry: 'Retry' };

function RunActivity({ run, now }: { run: OverviewRun; now: number }) {
  if (run.waitingOn.length === 0 && run.running.length === 0) return <span className="muted">between phases</span>;
  return (
    <ul className="m-0 list-none p-0">
      {run.waitingOn.map((w, i) => (
        <li key={`${w.kind}:${w.phaseId ?? i}`} data-testid="overview-wait" data-kind={w.kind} data-phase-id={w.phaseId ?? ''}>
          {w.phaseId ? (
            <Link to={runHref(run.id, w.phaseId)}>
              {WAIT_LABEL[w.kind]} {w.phaseName ?? w.phaseId}
            </Link>
          ) : (
            <Link to={runHref(run.id)}>{WAIT_LABEL[w.kind]}</Link>
          )}
          <span className="muted">
            {' '}
            — {w.message}
            {w.kind === 'retry' && w.at ? ` in ${formatDuration(Math.max(0, Date.parse(w.at) - now))}` : ''}
          </span>
        </li>
      ))}
      {run.running.map((p) => (
        <li key={`running:${p.phaseId}`}>
          <Link to={runHref(run.id, p.phaseId)}>{p.phaseName ?? p.phaseId}</Link>
          <span className="muted"> running{p.startedAt ? ` for ${formatDuration(elapsedMs(p.startedAt, null, now))}` : ''}</span>
        </li>
      ))}
    </ul>
  );
}

function Spend({ view }: { view: OverviewView }) {
  const { today, month, budgets } = view.spend;
  const none = budgets.global.monthlyUsd === null && budgets.templates.length === 0;
  return (
    <section className="card" aria-labelledby="overview-spend-heading">
      <div className="card__head">
        <h2 id="overview-spend-heading">Spend</h2>
        <Link to="/costs">Costs</Link>
      </div>
      <p className="muted small">
        Today {formatUsd(today.costUsd)} · {month.month} {formatUsd(month.costUsd)} ({view.timeZone})
      </p>
      {none ? (
        <p className="muted">
          No monthly budget set. <Link to="/costs">Set one on Costs</Link> to be alerted at 80 % and 100 %.
        </p>
      ) : (
        <ul className="m-0 grid list-none gap-3 p-0" aria-label="Monthly budgets">
          {budgets.global.monthlyUsd !== null && <BudgetLine label="All runs" spent={budgets.global.spentUsd} budget={budgets.global.monthlyUsd} />}
          {budgets.templates.map((t) => (
            <BudgetLine key={t.templateId} label={t.templateName ?? t.templateId} href={`/templates/${encodeURIComponent(t.templateId)}`} spent={t.spentUsd} budget={t.monthlyUsd} />
          ))}
        </ul>
      )}
    </section>
  );
}

function BudgetLine({ label, href, spent, budget }: { label: string; href?: string; spent: number; budget: number }) {
  const pct = budget > 0 ? Math.round((spent / budget) * 100) : null;
  return (
    <li data-testid="overview-budget">
      <div className="flex items-baseline justify-between gap-2">
        <span>{href ? <Link to={href}>{label}</Link> : label}</span>
        <span className={pct !== null && pct >= 100 ? 'strong' : undefined}>
          {formatUsd(spent)} of {formatUsd(budget)}
          {pct !== null && ` (${pct} %)`}
        </span>
      </div>
      <meter className="w-full" min={0} max={Math.max(budget, 1e-9)} low={budget * 0.8} high={budget} optimum={0} value={Math.min(spent, budget)} aria-label={`${label}: ${pct ?? 0} % of the monthly budget spent`} />
    </li>
  );
}

function OpenAlerts() {
  const summary = useOpenAlerts();
  const list = useAlertList('open', 5);
  const items: AlertItem[] = list.data?.pages[0]?.items ?? [];
  return (
    <section className="card" aria-labelledby="overview-alerts-heading">
      <div className="card__head">
        <h2 id="overview-alerts-heading">Open alerts{summary.isPending ? '' : ` (${summary.open})`}</h2>
        <Link to="/alerts">All alerts</Link>
      </div>
      {list.isPending ? (
        <Loading label="Loading alerts…" />
      ) : list.isError ? (
        <FeatureError error={list.error} feature="Alerts" onRetry={() => void list.refetch()} />
      ) : items.length === 0 ? (
        <p className="muted">No open alerts. Budget thresholds, stalled runs and failing providers show up here.</p>
      ) : (
        <ul className="alert-list" data-testid="overview-alerts">
          {items.map((a) => (
            <li key={a.id}>
              <span className="badge status--failed">{a.kind.replaceAll('_', ' ')}</span> {a.message}{' '}
              {a.runId && (
                <Link to={runHref(a.runId)} aria-label={`Open the run of the alert “${a.message}”`}>
                  run
                </Link>
              )}
              <div className="small muted">{formatDateTime(a.createdAt)}</div>
            </li>
          ))}
        </ul>
      )}
      {summary.open > items.length && items.length > 0 && <p className="small muted">and {summary.open - items.length} more.</p>}
    </section>
  );
}

function Fleet() {
  const fleet = useFleet();
  const now = useNow(true, 5000);
  const health = fleet.data ? fleetHealth(fleet.data.items, now) : null;
  return (
    <section className="card" aria-labelledby="overview-fleet-heading">
      <div className="card__head">
        <h2 id="overview-fleet-heading">Fleet</h2>
        <Link to="/fleet">Workers</Link>
      </div>
      {fleet.isPending ? (
        <Loading label="Loading workers…" />
      ) : fleet.isError ? (
        <FeatureError error={fleet.error} feature="The fleet" onRetry={() => void fleet.refetch()} />
      ) : health && health.workers === 0 ? (
        <p className="muted">No worker has reported yet. Workers start with the services (npm start) and report every few seconds.</p>
      ) : (
        health && (
          <>
            <dl className="stats stats--inline" data-testid="overview-fleet">
              <div>
                <dt>Up</dt>
                <dd>
                  {health.up} of {health.workers}
                </dd>
              </div>
              <div>
                <dt>Busy</dt>
                <dd>{health.busy}</dd>
              </div>
              <div>
                <dt>In flight</dt>
                <dd data-testid="overview-in-flight">{health.inFlight}</dd>
              </div>
              <div>
                <dt>Stalled</dt>
                <dd>{health.stalled}</dd>
              </div>
            </dl>
            {health.stalled > 0 && (
              <p className="notice notice--warn" role="status">
                {health.stalled} worker{health.stalled > 1 ? 's have' : ' has'} stopped sending heartbeats: their calls are handed to others. <Link to="/fleet">See the fleet</Link>.
              </p>
            )}
          </>
        )
      )}
    </section>
  );
}

function Failures({ failures, recent }: { failures: OverviewFailure[]; recent: OverviewView['runs']['recent'] }) {
  return (
    <section className="card" aria-labelledby="overview-failures-heading">
      <div className="card__head">
        <h2 id="overview-failures-heading">Recent failures</h2>
        <Link to="/runs?status=failed">Failed runs</Link>
      </div>
      {failures.length === 0 ? (
        <p className="muted">No failures. When a run or a phase fails, its reason shows here with a link to it.</p>
      ) : (
        <ul className="m-0 grid list-none gap-3 p-0" data-testid="overview-failures">
          {failures.map((f) => (
            <li key={`${f.runId}:${f.phaseId ?? ''}`} data-testid="overview-failure" data-run-id={f.runId}>
              <Link to={runHref(f.runId, f.phaseId)}>
                {runLabel({ id: f.runId, name: f.runName })}
                {f.phaseId ? ` · ${f.phaseName ?? f.phaseId}` : ''}
              </Link>{' '}
              <StatusBadge status={f.runStatus} />
              <div className="small">
                <code>{f.error.code}</code> {f.error.message}
              </div>
              <div className="small muted">
                {f.templateName} · {formatDateTime(f.at)}
              </div>
            </li>
          ))}
        </ul>
      )}
      <h3 className="mt-4">Finished lately</h3>
      {recent.length === 0 ? (
        <p className="muted">No run has finished yet.</p>
      ) : (
        <ul className="m-0 grid list-none gap-2 p-0" data-testid="overview-recent">
          {recent.map((r) => (
            <li key={r.id} data-testid="overview-recent-run" data-run-id={r.id} data-status={r.status} className="flex flex-wrap items-baseline gap-2">
              <Link to={runHref(r.id)}>{runLabel(r)}</Link>
              <StatusBadge status={r.status} />
              <span className="small muted">
                {formatUsd(r.costUsd)} · {formatDuration(elapsedMs(r.startedAt, r.completedAt, 0))} · {formatDateTime(r.completedAt)}
              </span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
