import type { BudgetsView, CostItem, PutBudgetsBody } from '@conclave/contracts';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router-dom';
import { Bar, BarChart, CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { AXIS, GRID, TOOLTIP_STYLE, usdTick } from '../ui/chart-style';
import { api, exportUrls, type CostGroup } from '../api/endpoints';
import { keys } from '../api/keys';
import { formatDateTime, formatUsd } from '../lib/format';
import { useRoom } from '../live/use-room';
import { DataTable, type Column } from '../ui/DataTable';
import { DropdownMenu } from '../ui/DropdownMenu';
import { useDownload } from '../ui/use-download';
import { describeCommandError } from '../ui/feature-errors';
import { Tabs, TabsContent, TabsList, TabsTrigger } from '../ui/Tabs';
import { FeatureError } from '../ui/FeatureError';
import { Loading } from '../ui/Loading';
import { RangePicker, useTimeRange } from '../analytics/RangePicker';
import { describeRange, type TimeRange } from '../analytics/range';
import '../analytics/analytics.css';
import { notifyDone, notifyRefused } from '../ui/toast';
import { useAlertsRoom } from '../alerts/use-alerts';

const GROUPS: { value: CostGroup; label: string }[] = [
  { value: 'provider', label: 'Provider' },
  { value: 'model', label: 'Model' },
  { value: 'template', label: 'Template' },
  { value: 'day', label: 'Day' },
];

/** Spend by provider / model / template / day (tabs), budgets and alerts; refreshed live from the `costs` room. */
export default function CostsPage() {
  const [groupBy, setGroupBy] = useState<CostGroup>('provider');
  // the charts' time range (in the URL); budgets stay per calendar month
  const time = useTimeRange();
  const exportRange = { groupBy, ...(time.bounds ?? {}) };
  const qc = useQueryClient();
  const exportDownload = useDownload();
  // Spend changes with every generated candidate: refresh (throttled by TanStack's dedupe) on those events.
  useRoom('costs', {
    onEvent: (e) => {
      if (e.type === 'CandidateGenerated' || e.type === 'VerdictRecorded') void qc.invalidateQueries({ queryKey: ['costs'] });
      if (e.type.startsWith('Budget')) void qc.invalidateQueries({ queryKey: keys.alerts() });
    },
  });
  return (
    <div className="page">
      <title>Costs · Conclave</title>
      <header className="page-header">
        <div className="page-header__title">
          <h1>Costs</h1>
          <p className="muted">Spend by provider, model, template and day; budgets and alerts.</p>
        </div>
        <div className="actions">
          <DropdownMenu
            label="Export"
            items={[
              { label: 'CSV', onSelect: () => exportDownload.start(exportUrls.costs('csv', exportRange), `costs-by-${groupBy}.csv`) },
              { label: 'JSON', onSelect: () => exportDownload.start(exportUrls.costs('json', exportRange), `costs-by-${groupBy}.json`) },
            ]}
          />
        </div>
        {exportDownload.notice}
      </header>
      <RangePicker state={time} label="Time range of the spend" />
      <section className="card" aria-labelledby="spend-heading">
        <Tabs value={groupBy} onValueChange={(v) => setGroupBy(v as CostGroup)}>
          <div className="card__head">
            <h2 id="spend-heading">Spend by {groupBy}</h2>
            <TabsList aria-label="Group by">
              {GROUPS.map((g) => (
                <TabsTrigger key={g.value} value={g.value}>
                  {g.label}
                </TabsTrigger>
              ))}
            </TabsList>
          </div>
          {GROUPS.map((g) => (
            <TabsContent key={g.value} value={g.value}>
              <Spend groupBy={g.value} bounds={time.bounds} range={time.range} />
            </TabsContent>
          ))}
        </Tabs>
      </section>
      <div className="grid-2">
        <BudgetsCard />
        <AlertsCard />
      </div>
    </div>
  );
}

type CostRow = CostItem;
const COST_COLUMNS = (groupBy: CostGroup): Column<CostRow>[] => [
  { id: 'key', header: groupBy, cell: (r) => r.key },
  { id: 'cost', header: 'Cost', numeric: true, cell: (r) => formatUsd(r.costUsd) },
  { id: 'tokens', header: 'Tokens', cell: (r) => formatTokenField(r.tokens) },
  { id: 'calls', header: 'Calls', numeric: true, cell: (r) => r.calls ?? '—' },
];

/** `bounds` null: the picked range is invalid (the picker says why) and nothing is fetched. */
function Spend({ groupBy, bounds, range }: { groupBy: CostGroup; bounds: { from?: string; to?: string } | null; range: TimeRange }) {
  const costs = useQuery({
    queryKey: [...keys.costs(groupBy), bounds ?? {}],
    queryFn: ({ signal }) => api.costs(groupBy, { signal, ...(bounds ?? {}) }),
    enabled: bounds !== null,
    retry: false,
  });
  const items = costs.data?.items ?? [];
  const total = items.reduce((s, r) => s + r.costUsd, 0);
  return (
    <>
      {items.length > 0 && (
        <>
          <p className="muted">
            Total {formatUsd(total)} across {items.length} {groupBy === 'day' ? 'days' : `${groupBy}s`} over {describeRange(range)}.
          </p>
          <div className="chart" role="img" aria-label={`Chart of spend by ${groupBy}; the table below has the figures`}>
            <ResponsiveContainer width="100%" height={280}>
              {groupBy === 'day' ? (
                <LineChart data={items}>
                  <CartesianGrid {...GRID} />
                  <XAxis dataKey="key" {...AXIS} />
                  <YAxis {...AXIS} tickFormatter={usdTick} />
                  <Tooltip formatter={(v) => formatUsd(Number(v))} contentStyle={TOOLTIP_STYLE} />
                  <Line type="monotone" dataKey="costUsd" name="Cost" stroke="var(--accent)" strokeWidth={2} />
                </LineChart>
              ) : (
                <BarChart data={items}>
                  <CartesianGrid {...GRID} />
                  <XAxis dataKey="key" {...AXIS} />
                  <YAxis {...AXIS} tickFormatter={usdTick} />
                  <Tooltip formatter={(v) => formatUsd(Number(v))} contentStyle={TOOLTIP_STYLE} />
                  <Bar dataKey="costUsd" name="Cost" fill="var(--accent)" />
                </BarChart>
              )}
            </ResponsiveContainer>
          </div>
        </>
      )}
      <DataTable
        caption={`Spend by ${groupBy}`}
        columns={COST_COLUMNS(groupBy)}
        rows={items}
        rowKey={(r) => r.key}
        state={bounds === null ? { ...costs, isPending: false } : costs}
        loadingLabel="Loading costs…"
        feature="Costs"
        empty={<p className="muted">No spend recorded over {describeRange(range)}.</p>}
        compact
      />
    </>
  );
}

function formatTokenField(tokens: unknown): string {
  if (typeof tokens === 'number') return tokens.toLocaleString();
  const t = tokens as { input?: number; output?: number } | null;
  return t && typeof t.input === 'number' ? `${t.input.toLocaleString()} in / ${(t.output ?? 0).toLocaleString()} out` : '—';
}

type BudgetRow = { templateId: string; monthlyUsd: string };

/** Monthly budgets: global and per template, with this month's spend (GET/PUT /budgets). */
function BudgetsCard() {
  const qc = useQueryClient();
  const budgets = useQuery({ queryKey: keys.budgets(), queryFn: ({ signal }) => api.budgets({ signal }), retry: false });
  const [editing, setEditing] = useState<{ global: string; templates: BudgetRow[] } | null>(null);
  const save = useMutation({
    mutationFn: (body: PutBudgetsBody) => api.putBudgets(body),
    onError: (error) => notifyRefused('Saving the budgets was refused', error),
    onSuccess: (view) => {
      notifyDone('Budgets saved');
      setEditing(null);
      qc.setQueryData(keys.budgets(), view);
    },
  });
  const startEdit = (view: BudgetsView) =>
    setEditing({
      global: view.global.monthlyUsd === null ? '' : String(view.global.monthlyUsd),
      templates: view.templates.map((t) => ({ templateId: t.templateId, monthlyUsd: String(t.monthlyUsd) })),
    });
  const invalid =
    editing !== null &&
    ((editing.global !== '' && !(Number(editing.global) >= 0)) || editing.templates.some((t) => !t.templateId.trim() || t.monthlyUsd === '' || !(Number(t.monthlyUsd) >= 0)));
  const pct = (spent: number, budget: number | null) => (budget ? ` (${Math.round((spent / budget) * 100)}%)` : '');
  return (
    <section className="card" aria-labelledby="budgets-heading">
      <div className="card__head">
        <h2 id="budgets-heading">Monthly budgets{budgets.data ? ` · ${budgets.data.month}` : ''}</h2>
        {budgets.data && !editing && (
          <button type="button" className="btn btn--small" onClick={() => startEdit(budgets.data)}>
            Edit
          </button>
        )}
      </div>
      {budgets.isPending ? (
        <Loading label="Loading budgets…" />
      ) : budgets.isError ? (
        <FeatureError error={budgets.error} feature="Budgets" onRetry={() => void budgets.refetch()} />
      ) : !editing ? (
        <table className="table table--compact">
          <caption className="sr-only">Budgets and spend this month</caption>
          <thead>
            <tr>
              <th scope="col">Scope</th>
              <th scope="col">Budget</th>
              <th scope="col">Spent</th>
            </tr>
          </thead>
          <tbody>
            <tr>
              <td>All runs</td>
              <td>{budgets.data.global.monthlyUsd === null ? <span className="muted">none</span> : formatUsd(budgets.data.global.monthlyUsd)}</td>
              <td>
                {formatUsd(budgets.data.global.spentUsd)}
                {pct(budgets.data.global.spentUsd, budgets.data.global.monthlyUsd)}
              </td>
            </tr>
            {budgets.data.templates.map((t) => (
              <tr key={t.templateId}>
                <td>
                  template <a href={`/templates/${encodeURIComponent(t.templateId)}`}>{t.templateId}</a>
                </td>
                <td>{formatUsd(t.monthlyUsd)}</td>
                <td>
                  {formatUsd(t.spentUsd)}
                  {pct(t.spentUsd, t.monthlyUsd)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <form
          className="form"
          onSubmit={(e) => {
            e.preventDefault();
            if (invalid) return;
            save.mutate({
              globalMonthlyUsd: editing.global === '' ? null : Number(editing.global),
              templates: editing.templates.map((t) => ({ templateId: t.templateId.trim(), monthlyUsd: Number(t.monthlyUsd) })),
            });
          }}
        >
          <label className="field">
            All runs, USD per month (empty: none)
            <input type="number" min={0} step="0.01" value={editing.global} onChange={(e) => setEditing({ ...editing, global: e.target.value })} />
          </label>
          {editing.templates.map((t, i) => (
            <div key={i} className="form__row candidate-row">
              <label className="field field--grow">
                Template id
                <input value={t.templateId} onChange={(e) => setEditing({ ...editing, templates: editing.templates.map((x, j) => (j === i ? { ...x, templateId: e.target.value } : x)) })} />
              </label>
              <label className="field">
                USD per month
                <input type="number" min={0} step="0.01" value={t.monthlyUsd} onChange={(e) => setEditing({ ...editing, templates: editing.templates.map((x, j) => (j === i ? { ...x, monthlyUsd: e.target.value } : x)) })} />
              </label>
              <button type="button" className="btn btn--small btn--ghost" aria-label={`Remove the budget of ${t.templateId || 'this template'}`} onClick={() => setEditing({ ...editing, templates: editing.templates.filter((_, j) => j !== i) })}>
                ✕
              </button>
            </div>
          ))}
          <div className="actions">
            <button type="button" className="btn btn--small" onClick={() => setEditing({ ...editing, templates: [...editing.templates, { templateId: '', monthlyUsd: '' }] })}>
              + Template budget
            </button>
            <button type="submit" className="btn btn--small btn--primary" disabled={invalid || save.isPending}>
              Save
            </button>
            <button type="button" className="btn btn--small btn--ghost" onClick={() => setEditing(null)}>
              Cancel
            </button>
          </div>
          {save.error && <p className="form-error">{describeCommandError(save.error)}</p>}
        </form>
      )}
    </section>
  );
}

function runIdOf(details: unknown): string | null {
  const id = (details as { runId?: unknown } | null | undefined)?.runId;
  return typeof id === 'string' ? id : null;
}

function AlertsCard() {
  // live over the `alerts` room (no polling); the whole list, with acknowledging, is on /alerts
  useAlertsRoom();
  const alerts = useQuery({ queryKey: [...keys.alertList('open'), 'newest-10'], queryFn: ({ signal }) => api.alerts({ status: 'open', limit: 10, signal }), retry: false });
  return (
    <section className="card" aria-labelledby="alerts-heading">
      <div className="card__head">
        <h2 id="alerts-heading">Open alerts</h2>
        <Link to="/alerts">All alerts</Link>
      </div>
      {alerts.isPending ? (
        <Loading label="Loading alerts…" />
      ) : alerts.isError ? (
        <FeatureError error={alerts.error} feature="Alerts" onRetry={() => void alerts.refetch()} />
      ) : alerts.data.items.length === 0 ? (
        <p className="muted">No open alerts.</p>
      ) : (
        <ul className="alert-list">
          {alerts.data.items.map((a, i) => (
            <li key={a.id ?? i}>
              <code>{a.kind}</code> {a.message}
              {runIdOf(a.details) && (
                <>
                  {' '}
                  · <a href={`/runs/${encodeURIComponent(runIdOf(a.details)!)}`}>{runIdOf(a.details)}</a>
                </>
              )}
              <span className="muted small"> {formatDateTime(a.createdAt)}</span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
