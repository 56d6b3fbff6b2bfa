import type { AnalyticsView, DailyCost, ModelAnalytics, PhaseAnalytics, TemplateAnalytics, TopRun } from '@conclave/contracts';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { Link } from 'react-router-dom';
import { Bar, CartesianGrid, ComposedChart, Legend, Line, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { AXIS, GRID, TOOLTIP_STYLE, usdTick } from '../ui/chart-style';
import { formatDuration, formatTokens, formatUsd } from '../lib/format';
import { FeatureError } from '../ui/FeatureError';
import { Loading } from '../ui/Loading';
import { SelectField } from '../ui/Select';
import { StatusBadge } from '../ui/StatusBadge';
import { analyticsKey, fetchAnalytics } from './api';
import { RangePicker, useTimeRange } from './RangePicker';
import { describeRange, everyDay, rangeOnly } from './range';
import { SortableTable, type SortableColumn } from './SortableTable';
import { formatRate, useLiveRefresh } from './shared';
import './analytics.css';

const tokensCell = (t: { input: number; output: number }) => `${formatTokens(t.input)} in / ${formatTokens(t.output)} out`;
const ALL = '';

/**
 * Analytics over a time range: per template (runs, success and failure rates, duration p50/p95,
 * cost per run, tokens), per template phase, per model, the ten costliest runs and spend by day.
 * Refreshed from the `runs` room while open.
 */
export default function AnalyticsPage() {
  const time = useTimeRange();
  const bounds = time.bounds;
  const query = useQuery({
    queryKey: analyticsKey(bounds ?? {}),
    queryFn: ({ signal }) => fetchAnalytics(bounds ?? {}, signal),
    enabled: bounds !== null,
    placeholderData: keepPreviousData,
    retry: false,
  });
  useLiveRefresh();
  const data = query.data;
  return (
    <div className="page analytics-page">
      <title>Analytics · Conclave</title>
      <header className="page-header">
        <div className="page-header__title">
          <h1>Analytics</h1>
          <p className="muted">
            Runs, outcomes, durations and spend per template, phase and model over {describeRange(time.range)}. Which model is worth its price for a phase: the{' '}
            <Link to={{ pathname: '/analytics/frontier', search: rangeOnly(time.range) }}>quality–cost frontier</Link>.
          </p>
        </div>
      </header>
      <RangePicker state={time} />
      {bounds === null ? null : query.isPending ? (
        <Loading label="Loading analytics…" />
      ) : query.isError ? (
        <FeatureError error={query.error} feature="Analytics" onRetry={() => void query.refetch()} />
      ) : data ? (
        <div className="analytics" aria-busy={query.isFetching}>
          <Totals data={data} />
          <DailyChart data={data} bounds={bounds} />
          <section className="card" aria-labelledby="templates-heading">
            <div className="card__head">
              <h2 id="templates-heading">Per template</h2>
              <span className="muted small">runs started in the range</span>
            </div>
            {data.templates.length === 0 ? <p className="muted">No runs started in this range.</p> : <SortableTable caption="Runs per template" testId="analytics-templates" columns={TEMPLATE_COLUMNS} rows={data.templates} rowKey={(t) => t.templateId} />}
          </section>
          <PhasesCard data={data} />
          <section className="card" aria-labelledby="models-heading">
            <div className="card__head">
              <h2 id="models-heading">Per model</h2>
              <span className="muted small">calls made in the range, candidates and judges</span>
            </div>
            {data.models.length === 0 ? <p className="muted">No calls made in this range.</p> : <SortableTable caption="Calls per model" testId="analytics-models" columns={MODEL_COLUMNS} rows={data.models} rowKey={(m) => `${m.provider}/${m.model}`} />}
          </section>
          <section className="card" aria-labelledby="top-runs-heading">
            <div className="card__head">
              <h2 id="top-runs-heading">Most expensive runs</h2>
              <span className="muted small">the ten costliest started in the range</span>
            </div>
            {data.topRuns.length === 0 ? <p className="muted">No runs started in this range.</p> : <SortableTable caption="The ten most expensive runs" testId="analytics-top-runs" columns={TOP_RUN_COLUMNS} rows={data.topRuns} rowKey={(r) => r.id} initialSort={{ id: 'cost', desc: true }} />}
          </section>
        </div>
      ) : null}
    </div>
  );
}

function Totals({ data }: { data: AnalyticsView }) {
  const completed = data.templates.reduce((s, t) => s + t.completed, 0);
  const failed = data.templates.reduce((s, t) => s + t.failed, 0);
  const finished = data.templates.reduce((s, t) => s + t.completed + t.failed + t.cancelled, 0);
  return (
    <section className="card" aria-label="Totals">
      <dl className="stats analytics-totals" data-testid="analytics-totals">
        <div>
          <dt>Runs</dt>
          <dd data-testid="total-runs">{data.totals.runs}</dd>
        </div>
        <div>
          <dt>Completed</dt>
          <dd>{completed}</dd>
        </div>
        <div>
          <dt>Failed</dt>
          <dd>{failed}</dd>
        </div>
        <div>
          <dt>Success rate</dt>
          <dd>{formatRate(finished > 0 ? completed / finished : null)}</dd>
        </div>
        <div>
          <dt>Cost of these runs</dt>
          <dd data-testid="total-cost" data-value={data.totals.costUsd}>
            {formatUsd(data.totals.costUsd)}
          </dd>
        </div>
        <div>
          <dt>Tokens</dt>
          <dd data-testid="total-tokens">{tokensCell(data.totals.tokens)}</dd>
        </div>
      </dl>
    </section>
  );
}

type ChartDay = DailyCost & { totalTokens: number };

function DailyChart({ data, bounds }: { data: AnalyticsView; bounds: { from?: string; to?: string } }) {
  const days: ChartDay[] = useMemo(
    () => everyDay(bounds, data.daily, (day) => ({ day, costUsd: 0, tokens: { input: 0, output: 0 }, calls: 0 })).map((d) => ({ ...d, totalTokens: d.tokens.input + d.tokens.output })),
    [bounds, data.daily],
  );
  const spent = data.daily.reduce((s, d) => s + d.costUsd, 0);
  return (
    <section className="card" aria-labelledby="daily-heading">
      <div className="card__head">
        <h2 id="daily-heading">Cost over time</h2>
        <span className="muted small" data-testid="daily-total" data-value={spent}>
          {formatUsd(spent)} spent in {data.daily.length} {data.daily.length === 1 ? 'day' : 'days'} (calls made in the range)
        </span>
      </div>
      {data.daily.length === 0 ? (
        <p className="muted">No spend in this range.</p>
      ) : (
        <>
          <div className="chart" role="img" aria-label="Chart of cost and tokens per day; the figures are in the table below it">
            <ResponsiveContainer width="100%" height={280}>
              <ComposedChart data={days}>
                <CartesianGrid {...GRID} />
                <XAxis dataKey="day" {...AXIS} />
                <YAxis yAxisId="usd" {...AXIS} tickFormatter={usdTick} />
                <YAxis yAxisId="tokens" orientation="right" {...AXIS} tickFormatter={(v: number) => formatTokens(v)} />
                <Tooltip
                  formatter={(v, name) => (name === 'Cost' ? formatUsd(Number(v)) : formatTokens(Number(v)))}
                  contentStyle={TOOLTIP_STYLE}
                />
                <Legend />
                <Bar yAxisId="usd" dataKey="costUsd" name="Cost" fill="var(--accent)" />
                <Line yAxisId="tokens" type="linear" dataKey="totalTokens" name="Tokens" stroke="var(--st-running)" strokeWidth={2} dot={false} />
              </ComposedChart>
            </ResponsiveContainer>
          </div>
          <details className="analytics-days">
            <summary>Figures per day</summary>
            <SortableTable caption="Spend per day" testId="analytics-daily" columns={DAY_COLUMNS} rows={data.daily} rowKey={(d) => d.day} />
          </details>
        </>
      )}
    </section>
  );
}

function PhasesCard({ data }: { data: AnalyticsView }) {
  const [templateId, setTemplateId] = useState(ALL);
  const names = new Map(data.templates.map((t) => [t.templateId, t.templateName]));
  const options = [{ value: ALL, label: 'All templates' }, ...data.templates.map((t) => ({ value: t.templateId, label: t.templateName }))];
  const selected = names.has(templateId) ? templateId : ALL;
  const rows = data.phases.filter((p) => selected === ALL || p.templateId === selected).map((p) => ({ ...p, templateName: names.get(p.templateId) ?? p.templateId }));
  return (
    <section className="card" aria-labelledby="phases-heading">
      <div className="card__head">
        <h2 id="phases-heading">Duration per phase</h2>
        <SelectField fieldClassName="field--inline" label="Template" value={selected} onValueChange={setTemplateId} options={options} />
      </div>
      {rows.length === 0 ? (
        <p className="muted">No phases in this range.</p>
      ) : (
        <SortableTable caption="Phase durations and spend per template phase" testId="analytics-phases" columns={PHASE_COLUMNS} rows={rows} rowKey={(p) => `${p.templateId}/${p.phaseId}`} />
      )}
    </section>
  );
}

const TEMPLATE_COLUMNS: SortableColumn<TemplateAnalytics>[] = [
  { id: 'template', header: 'Template', value: (t) => t.templateName, cell: (t) => <Link to={`/templates/${encodeURIComponent(t.templateId)}`}>{t.templateName}</Link> },
  { id: 'runs', header: 'Runs', numeric: true, value: (t) => t.runs },
  { id: 'completed', header: 'Completed', numeric: true, value: (t) => t.completed },
  { id: 'failed', header: 'Failed', numeric: true, value: (t) => t.failed },
  { id: 'successRate', header: 'Success', numeric: true, value: (t) => t.successRate, cell: (t) => formatRate(t.successRate) },
  { id: 'failureRate', header: 'Failure', numeric: true, value: (t) => t.failureRate, cell: (t) => formatRate(t.failureRate) },
  { id: 'p50', header: 'Duration p50', numeric: true, value: (t) => t.durationMs.p50, cell: (t) => formatDuration(t.durationMs.p50) },
  { id: 'p95', header: 'Duration p95', numeric: true, value: (t) => t.durationMs.p95, cell: (t) => formatDuration(t.durationMs.p95) },
  { id: 'cost', header: 'Cost', numeric: true, value: (t) => t.costUsd, cell: (t) => formatUsd(t.costUsd) },
  { id: 'costPerRun', header: 'Cost per run', numeric: true, value: (t) => t.costPerRunUsd, cell: (t) => formatUsd(t.costPerRunUsd) },
  { id: 'tokens', header: 'Tokens', numeric: true, value: (t) => t.tokens.input + t.tokens.output, cell: (t) => tokensCell(t.tokens) },
];

const PHASE_COLUMNS: SortableColumn<PhaseAnalytics & { templateName: string }>[] = [
  { id: 'template', header: 'Template', value: (p) => p.templateName },
  { id: 'phase', header: 'Phase', value: (p) => p.phaseId, cell: (p) => (p.name && p.name !== p.phaseId ? `${p.name} (${p.phaseId})` : p.phaseId) },
  { id: 'kind', header: 'Kind', value: (p) => p.kind },
  { id: 'completed', header: 'Completed', numeric: true, value: (p) => p.completed },
  { id: 'failed', header: 'Failed', numeric: true, value: (p) => p.failed },
  { id: 'p50', header: 'p50', numeric: true, value: (p) => p.durationMs.p50, cell: (p) => formatDuration(p.durationMs.p50) },
  { id: 'p95', header: 'p95', numeric: true, value: (p) => p.durationMs.p95, cell: (p) => formatDuration(p.durationMs.p95) },
  { id: 'cost', header: 'Cost', numeric: true, value: (p) => p.costUsd, cell: (p) => formatUsd(p.costUsd) },
  { id: 'tokens', header: 'Tokens', numeric: true, value: (p) => p.tokens.input + p.tokens.output, cell: (p) => tokensCell(p.tokens) },
];

const MODEL_COLUMNS: SortableColumn<ModelAnalytics>[] = [
  { id: 'model', header: 'Model', value: (m) => m.model },
  { id: 'provider', header: 'Provider', value: (m) => m.provider },
  { id: 'runs', header: 'Runs', numeric: true, value: (m) => m.runs },
  { id: 'calls', header: 'Calls', numeric: true, value: (m) => m.calls },
  { id: 'successRate', header: 'Success', numeric: true, value: (m) => m.successRate, cell: (m) => formatRate(m.successRate) },
  { id: 'failureRate', header: 'Failure', numeric: true, value: (m) => m.failureRate, cell: (m) => formatRate(m.failureRate) },
  { id: 'p50', header: 'Call p50', numeric: true, value: (m) => m.durationMs.p50, cell: (m) => formatDuration(m.durationMs.p50) },
  { id: 'p95', header: 'Call p95', numeric: true, value: (m) => m.durationMs.p95, cell: (m) => formatDuration(m.durationMs.p95) },
  { id: 'cost', header: 'Cost', numeric: true, value: (m) => m.costUsd, cell: (m) => formatUsd(m.costUsd) },
  { id: 'costPerRun', header: 'Cost per run', numeric: true, value: (m) => m.costPerRunUsd, cell: (m) => formatUsd(m.costPerRunUsd) },
  { id: 'tokens', header: 'Tokens', numeric: true, value: (m) => m.tokens.input + m.tokens.output, cell: (m) => tokensCell(m.tokens) },
];

const TOP_RUN_COLUMNS: SortableColumn<TopRun>[] = [
  { id: 'run', header: 'Run', value: (r) => r.name ?? r.id, cell: (r) => <Link to={`/runs/${encodeURIComponent(r.id)}`}>{r.name ?? r.id}</Link> },
  { id: 'template', header: 'Template', value: (r) => r.templateName },
  { id: 'status', header: 'Status', value: (r) => r.status, cell: (r) => <StatusBadge status={r.status} /> },
  { id: 'started', header: 'Started', value: (r) => r.startedAt, cell: (r) => new Date(r.startedAt).toLocaleString() },
  { id: 'duration', header: 'Duration', numeric: true, value: (r) => r.durationMs, cell: (r) => formatDuration(r.durationMs) },
  { id: 'tokens', header: 'Tokens', numeric: true, value: (r) => r.tokens.input + r.tokens.output, cell: (r) => tokensCell(r.tokens) },
  { id: 'cost', header: 'Cost', numeric: true, value: (r) => r.costUsd, cell: (r) => formatUsd(r.costUsd) },
];

const DAY_COLUMNS: SortableColumn<DailyCost>[] = [
  { id: 'day', header: 'Day', value: (d) => d.day },
  { id: 'calls', header: 'Calls', numeric: true, value: (d) => d.calls },
  { id: 'cost', header: 'Cost', numeric: true, value: (d) => d.costUsd, cell: (d) => formatUsd(d.costUsd) },
  { id: 'tokens', header: 'Tokens', numeric: true, value: (d) => d.tokens.input + d.tokens.output, cell: (d) => tokensCell(d.tokens) },
];
