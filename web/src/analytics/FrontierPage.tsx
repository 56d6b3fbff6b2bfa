import { DEFAULT_FRONTIER_EPSILON, type FrontierModel, type FrontierPhase, type FrontierRecommendation } from '@conclave/contracts';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useId, useMemo } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { CartesianGrid, LabelList, Legend, ResponsiveContainer, Scatter, ScatterChart, Tooltip, XAxis, YAxis } from 'recharts';
import { api } from '../api/endpoints';
import { keys } from '../api/keys';
import { formatDuration, formatUsd } from '../lib/format';
import { AXIS, GRID, TOOLTIP_STYLE, usdTick } from '../ui/chart-style';
import { FeatureError } from '../ui/FeatureError';
import { Loading } from '../ui/Loading';
import { SelectField } from '../ui/Select';
import { fetchFrontier, frontierKey } from './api';
import { RangePicker, useTimeRange } from './RangePicker';
import { describeRange, lastDay, rangeOnly } from './range';
import { formatRate, useLiveRefresh } from './shared';
import { SortableTable, type SortableColumn } from './SortableTable';
import './analytics.css';

/** a decimal from 0 to 1, as the API reads `epsilon` */
const EPSILON = /^(0(\.\d*)?|1(\.0*)?|\.\d+)$/;
const modelKey = (m: { provider: string; model: string }) => `${m.provider}/${m.model}`;
const score = (s: number | null) => (s === null ? '—' : s.toFixed(3));

/**
 * The quality–cost frontier of a template's phases (`/analytics/frontier?templateId=&phaseId=`,
 * with the analytics range and `epsilon` in the URL): one point per producer model at its mean
 * cost and mean judge score, the Pareto frontier drawn through the models nothing beats on both,
 * the recommended model (the cheapest within ε of the best score) with its reasoning and a
 * back-test link to the Judge lab, and the figures in a sortable table. Refreshed from the `runs`
 * room while open, as the analytics page is.
 */
export default function FrontierPage() {
  const time = useTimeRange();
  const [search, setSearch] = useSearchParams();
  const templateId = search.get('templateId') ?? '';
  const phaseId = search.get('phaseId') ?? '';
  const epsilonText = search.get('epsilon') ?? String(DEFAULT_FRONTIER_EPSILON);
  const epsilonValid = EPSILON.test(epsilonText);
  const setParam = (key: string, value: string | null) =>
    setSearch(
      (current) => {
        const next = new URLSearchParams(current);
        if (value === null || value === '') next.delete(key);
        else next.set(key, value);
        return next;
      },
      { replace: true },
    );

  const templates = useQuery({ queryKey: keys.templates(), queryFn: ({ signal }) => api.listTemplates({ signal }) });
  const params = time.bounds && templateId && epsilonValid ? { ...time.bounds, templateId, epsilon: epsilonText } : null;
  const query = useQuery({
    queryKey: frontierKey(params ?? { templateId: '' }),
    queryFn: ({ signal }) => fetchFrontier(params!, signal),
    enabled: params !== null,
    placeholderData: keepPreviousData,
    retry: false,
  });
  useLiveRefresh();
  const phases = query.data?.phases ?? [];
  const phase = phases.find((p) => p.phaseId === phaseId) ?? phases[0] ?? null;

  const templateOptions = (templates.data?.items ?? []).map((t) => ({ value: t.id, label: t.name }));
  return (
    <div className="page analytics-page frontier-page">
      <title>Quality–cost frontier · Conclave</title>
      <header className="page-header">
        <div className="page-header__title">
          <h1>Quality–cost frontier</h1>
          <p className="muted">
            Which model is worth its price for a phase: mean judge score against mean cost per candidate over {describeRange(time.range)}. <Link to={{ pathname: '/analytics', search: rangeOnly(time.range) }}>Back to analytics</Link>
          </p>
        </div>
      </header>
      <div className="frontier-controls">
        <SelectField fieldClassName="field--inline" label="Template" value={templateId} placeholder="Pick a template" onValueChange={(v) => setSearch((c) => withTemplate(c, v), { replace: true })} options={templateOptions} />
        <SelectField
          fieldClassName="field--inline"
          label="Phase"
          value={phase?.phaseId ?? ''}
          placeholder={templateId ? 'No phase with candidates' : 'Pick a template first'}
          disabled={phases.length === 0}
          onValueChange={(v) => setParam('phaseId', v)}
          options={phases.map((p) => ({ value: p.phaseId, label: p.name && p.name !== p.phaseId ? `${p.name} (${p.phaseId})` : p.phaseId }))}
        />
        <EpsilonField value={epsilonText} valid={epsilonValid} onChange={(v) => setParam('epsilon', v)} />
      </div>
      <RangePicker state={time} />
      {!templateId ? (
        <p className="muted">Pick a template to see its phases&apos; models on the frontier.</p>
      ) : params === null ? null : query.isPending ? (
        <Loading label="Loading the frontier…" />
      ) : query.isError ? (
        <FeatureError error={query.error} feature="The frontier" onRetry={() => void query.refetch()} />
      ) : phase === null ? (
        <p className="muted">No candidates of this template were requested in this range.</p>
      ) : (
        <div className="analytics" aria-busy={query.isFetching}>
          <Recommendation phase={phase} bounds={time.bounds ?? {}} />
          <FrontierChart phase={phase} />
          <section className="card" aria-labelledby="frontier-table-heading">
            <div className="card__head">
              <h2 id="frontier-table-heading">Models of {phase.phaseId}</h2>
              <span className="muted small">
                {phase.judgedRounds} judged {phase.judgedRounds === 1 ? 'round' : 'rounds'}; settled candidates requested in the range
              </span>
            </div>
            <SortableTable caption={`Figures per model of phase ${phase.phaseId}`} testId="frontier-models" columns={COLUMNS} rows={phase.models} rowKey={modelKey} />
          </section>
        </div>
      )}
    </div>
  );
}

/** Another template: its phases are not the last one's. */
function withTemplate(current: URLSearchParams, templateId: string): URLSearchParams {
  const next = new URLSearchParams(current);
  next.set('templateId', templateId);
  next.delete('phaseId');
  return next;
}

function EpsilonField({ value, valid, onChange }: { value: string; valid: boolean; onChange: (value: string) => void }) {
  const id = useId();
  return (
    <label className="field field--inline">
      ε (score tolerance)
      <input type="number" min={0} max={1} step={0.01} value={value} aria-invalid={valid ? undefined : true} aria-describedby={valid ? undefined : id} onChange={(e) => onChange(e.target.value)} className="frontier-epsilon" />
      {!valid && (
        <span id={id} className="form-error" role="alert">
          ε must be a number from 0 to 1.
        </span>
      )}
    </label>
  );
}

function Recommendation({ phase, bounds }: { phase: FrontierPhase; bounds: { from?: string; to?: string } }) {
  const rec = phase.recommendation;
  // the lab's dates are UTC days, the last one included (as this page's custom range in the URL)
  const last = lastDay(bounds);
  const backtest = new URLSearchParams({ templateId: phase.templateId, phases: phase.phaseId, ...(bounds.from ? { from: bounds.from } : {}), ...(last ? { to: last } : {}) });
  return (
    <section className="card frontier-recommendation" aria-labelledby="recommendation-heading" data-testid="frontier-recommendation">
      <div className="card__head">
        <h2 id="recommendation-heading">Recommendation</h2>
        <Link className="btn btn--small" to={`/judge-lab?${backtest.toString()}`} data-testid="frontier-backtest">
          Back-test in the Judge lab
        </Link>
      </div>
      {rec === null ? (
        <p className="muted">No judge scored this phase&apos;s candidates in the range: there is nothing to compare. Phases with one candidate and no judge have costs and latencies only.</p>
      ) : (
        <RecommendationFigures rec={rec} />
      )}
    </section>
  );
}

function RecommendationFigures({ rec }: { rec: FrontierRecommendation }) {
  return (
    <>
      <p className="frontier-recommendation__model">
        <strong data-testid="recommended-model">{rec.model}</strong> <span className="muted">({rec.provider})</span>
      </p>
      <p data-testid="recommendation-reason">{rec.reason}</p>
      <dl className="stats">
        <div>
          <dt>Mean score</dt>
          <dd>{score(rec.meanScore)}</dd>
        </div>
        <div>
          <dt>Mean cost</dt>
          <dd>{formatUsd(rec.meanCostUsd)}</dd>
        </div>
        <div>
          <dt>Best score</dt>
          <dd>
            {score(rec.best.meanScore)} <span className="muted small">{rec.best.model}</span>
          </dd>
        </div>
        <div>
          <dt>Threshold (best − {rec.epsilon})</dt>
          <dd>{score(rec.threshold)}</dd>
        </div>
        <div>
          <dt>Saving per candidate</dt>
          <dd data-testid="recommendation-saving" data-value={rec.savingUsd}>
            {formatUsd(rec.savingUsd)}
            {rec.savingRatio === null ? '' : ` (${formatRate(rec.savingRatio)})`}
          </dd>
        </div>
        <div>
          <dt>Within tolerance</dt>
          <dd>{rec.withinEpsilon.map((m) => m.model).join(', ')}</dd>
        </div>
      </dl>
    </>
  );
}

type Point = FrontierModel & { meanScore: number; recommended: boolean };

/** A model's dot: the recommended one larger in the accent colour, the frontier's filled, the dominated hollow. */
function ModelDot(props: { cx?: number; cy?: number; payload?: Point }) {
  const { cx, cy, payload } = props;
  if (cx === undefined || cy === undefined || !payload) return <g />;
  const kind = payload.recommended ? 'recommended' : payload.onFrontier ? 'frontier' : 'dominated';
  return (
    <circle
      cx={cx}
      cy={cy}
      r={payload.recommended ? 9 : 6}
      className={`frontier-dot frontier-dot--${kind}`}
      data-testid="frontier-point"
      data-model={modelKey(payload)}
      data-kind={kind}
      data-cost={payload.meanCostUsd}
      data-score={payload.meanScore}
    />
  );
}
const noDot = () => <g />;

function FrontierChart({ phase }: { phase: FrontierPhase }) {
  const points: Point[] = useMemo(() => {
    const rec = phase.recommendation;
    return phase.models.flatMap((m) => (m.meanScore === null ? [] : [{ ...m, meanScore: m.meanScore, recommended: rec !== null && modelKey(rec) === modelKey(m) }]));
  }, [phase]);
  const unplaced = phase.models.filter((m) => m.meanScore === null);
  return (
    <section className="card" aria-labelledby="frontier-chart-heading">
      <div className="card__head">
        <h2 id="frontier-chart-heading">Cost against score</h2>
        <span className="muted small">one point per model; the line joins the Pareto frontier (nothing is both cheaper and better)</span>
      </div>
      {points.length === 0 ? (
        <p className="muted">No model of this phase has a judge score in the range.</p>
      ) : (
        <div className="chart" role="img" aria-label={`Mean cost against mean judge score per model of phase ${phase.phaseId}; the frontier is ${phase.frontier.map((m) => m.model).join(', ')}; the figures are in the table below`} data-testid="frontier-chart">
          <ResponsiveContainer width="100%" height={360}>
            <ScatterChart margin={{ top: 24, right: 32, bottom: 24, left: 8 }}>
              <CartesianGrid {...GRID} />
              <XAxis type="number" dataKey="meanCostUsd" name="Mean cost" tickFormatter={usdTick} {...AXIS} label={{ value: 'mean cost per candidate (USD)', position: 'insideBottom', offset: -12, fill: 'var(--text-muted)' }} />
              <YAxis type="number" dataKey="meanScore" name="Mean score" domain={[0, 1]} {...AXIS} label={{ value: 'mean judge score', angle: -90, position: 'insideLeft', fill: 'var(--text-muted)' }} />
              <Tooltip contentStyle={TOOLTIP_STYLE} formatter={(v, name) => (name === 'Mean cost' ? formatUsd(Number(v)) : score(Number(v)))} />
              <Legend verticalAlign="top" />
              <Scatter name="Pareto frontier" className="frontier-line" data={phase.frontier} line={{ stroke: 'var(--accent)', strokeWidth: 2 }} lineType="joint" shape={noDot} legendType="line" fill="var(--accent)" isAnimationActive={false} />
              <Scatter name="Models" data={points} shape={ModelDot} fill="var(--st-running)" isAnimationActive={false}>
                <LabelList dataKey="model" position="top" offset={12} fill="var(--text)" />
              </Scatter>
            </ScatterChart>
          </ResponsiveContainer>
        </div>
      )}
      {unplaced.length > 0 && <p className="muted small">Not on the chart (no judge score): {unplaced.map((m) => m.model).join(', ')}.</p>}
    </section>
  );
}

const COLUMNS: SortableColumn<FrontierModel>[] = [
  { id: 'model', header: 'Model', value: (m) => m.model },
  { id: 'provider', header: 'Provider', value: (m) => m.provider },
  { id: 'candidates', header: 'Candidates', numeric: true, value: (m) => m.candidates },
  { id: 'winRate', header: 'Win rate', numeric: true, value: (m) => m.winRate, cell: (m) => (m.winRate === null ? '—' : `${formatRate(m.winRate)} (${m.wins}/${m.judged})`) },
  { id: 'meanScore', header: 'Mean score', numeric: true, value: (m) => m.meanScore, cell: (m) => score(m.meanScore) },
  { id: 'scored', header: 'Scored', numeric: true, value: (m) => m.scored },
  { id: 'meanCost', header: 'Mean cost', numeric: true, value: (m) => m.meanCostUsd, cell: (m) => formatUsd(m.meanCostUsd) },
  { id: 'costPerPoint', header: 'Cost per score point', numeric: true, value: (m) => m.costPerScorePointUsd, cell: (m) => formatUsd(m.costPerScorePointUsd) },
  { id: 'p50', header: 'Latency p50', numeric: true, value: (m) => m.latencyMs.p50, cell: (m) => formatDuration(m.latencyMs.p50) },
  { id: 'p95', header: 'Latency p95', numeric: true, value: (m) => m.latencyMs.p95, cell: (m) => formatDuration(m.latencyMs.p95) },
  { id: 'failureRate', header: 'Failure rate', numeric: true, value: (m) => m.failureRate, cell: (m) => formatRate(m.failureRate) },
  {
    id: 'frontier',
    header: 'Frontier',
    value: (m) => (m.onFrontier ? 'on the frontier' : m.dominatedBy ? `dominated by ${m.dominatedBy.model}` : 'no score'),
  },
];
