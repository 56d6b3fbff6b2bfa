import type { RunView } from '@conclave/contracts';
import { lazy, Suspense, useCallback, useEffect, useState } from 'react';
import type PipelineGraphType from '../dag/PipelineGraph';
import { Link, useParams, useSearchParams } from 'react-router-dom';
import { exportUrls } from '../api/endpoints';
import { elapsedMs, formatDateTime, formatDuration, formatTokens, formatUsd } from '../lib/format';
import { useNowOrAt } from '../lib/use-now';
import { isTerminal } from '../runs/run-summary';
import { Button } from '../ui/Button';
import { ErrorNotice } from '../ui/ErrorNotice';
import { Loading } from '../ui/Loading';
import { StatusBadge } from '../ui/StatusBadge';
import { useDownload } from '../ui/use-download';
import { PhasePanel } from './PhasePanel';
import { PausedBanner, PendingPanel, RunToolbar, StalledWorkersWarning } from './RunControls';
import { Timeline } from './Timeline';
import { useLiveRun, type LiveByCandidate } from './use-live-run';
import { WorkspaceBar } from './WorkspaceBar';
import { CompareWithOrigin } from '../runs/CompareWithOrigin';
import { RunInputs } from './story/RunInputs';
import { TraceLink } from './TraceLink';
import { ScrubBar } from './scrub/ScrubBar';
import { useScrub } from './scrub/use-scrub';
import './story/run-story.css';

// recharts loads with the spend chart, not with the page
const RunUsageChart = lazy(() => import('./story/RunUsageChart'));
const PastUsage = lazy(() => import('./story/RunUsageChart').then((m) => ({ default: m.UsageBreakdown })));
// markdown, the JSON tree and the zip writer load with the browser, not with the page
const ArtifactBrowser = lazy(() => import('./artifacts/ArtifactBrowser'));

// React Flow is the heaviest dependency: its chunk starts loading with this page's (in parallel with
// the run's fetch) and the graph appears when both are there. Not React.lazy: a Suspense fallback
// delays the reveal (React throttles it by ~300 ms), which doubled the time to a rendered DAG.
type GraphComponent = typeof PipelineGraphType;
type GraphState = GraphComponent | 'loading' | 'failed';
let loadedGraph: GraphState = 'loading';
const graphModule: Promise<GraphState> = import('../dag/PipelineGraph').then(
  (m) => (loadedGraph = m.default),
  () => 'failed',
);

function useGraphComponent(): GraphState {
  // an initializer function: a component passed as is would be called by useState
  const [graph, setGraph] = useState<GraphState>(() => loadedGraph);
  useEffect(() => {
    if (graph !== 'loading') return;
    let live = true;
    void graphModule.then((g) => live && setGraph(() => g));
    return () => {
      live = false;
    };
  }, [graph]);
  return graph;
}

function positiveInt(value: string | null): number | undefined {
  const n = Number(value);
  return value && Number.isInteger(n) && n >= 0 ? n : undefined;
}

const NOTHING_LIVE: LiveByCandidate = {};

/** Keyed by id: another run is another page (fresh buffers, fresh min_sequence). */
export default function RunRoute() {
  const { id = '' } = useParams();
  return <RunPage key={id} id={id} />;
}

function RunPage({ id }: { id: string }) {
  const [params, setParams] = useSearchParams();
  const { run, timeline, liveError, live, refetchAtLeast } = useLiveRun(id, positiveInt(params.get('min_sequence')));
  const selectedPhaseId = params.get('phase');
  const PipelineGraph = useGraphComponent();
  const timelineDownload = useDownload();
  // ?at=<sequence>: the run as it was at that event (scrub/), folded from the timeline
  const scrub = useScrub(id, run.data, timeline.data);

  const selectPhase = useCallback(
    (phaseId: string | null) =>
      setParams(
        (prev) => {
          const next = new URLSearchParams(prev);
          if (phaseId && phaseId !== prev.get('phase')) next.set('phase', phaseId);
          else next.delete('phase');
          return next;
        },
        { replace: true },
      ),
    [setParams],
  );

  if (run.isPending) return <Loading label="Loading run…" />;
  if (run.isError)
    return (
      <div className="page">
        <title>Run · Conclave</title>
        <p>
          <Link to="/runs">← Runs</Link>
        </p>
        <ErrorNotice error={run.error} title="Could not load the run" onRetry={() => void run.refetch()} />
      </div>
    );

  if (scrub.active && !scrub.view)
    return timeline.isError ? (
      <div className="page">
        <ErrorNotice error={timeline.error} title="Could not load the run's timeline" onRetry={() => void timeline.refetch()} />
      </div>
    ) : (
      <Loading label="Loading the run's timeline…" />
    );
  const view = scrub.view ?? run.data;
  const past = scrub.active;
  // over the past, clocks stop at the event shown
  const shownAt = past ? scrub.events[scrub.index]?.occurredAt : undefined;
  const selected = view.phases.find((p) => p.id === selectedPhaseId) ?? null;

  return (
    <div className="page">
      <title>{`${view.name ?? view.id} · Conclave`}</title>
      <RunHeader view={view} at={shownAt} />
      <WorkspaceBar view={view} />
      {/* the controls act on the run as it is now: not shown over its past */}
      {!past && <RunToolbar view={view} onSequence={refetchAtLeast} />}
      <PausedBanner view={view} />
      {!past && <StalledWorkersWarning active={!isTerminal(view.status)} />}
      {!past && <PendingPanel view={view} onSequence={refetchAtLeast} />}
      <ScrubBar scrub={scrub} runId={view.id} />
      {liveError && (
        <div className="notice notice--warn" role="status">
          Live updates unavailable: {liveError.message} <code>{liveError.code}</code>
        </div>
      )}
      {view.error && (
        <div className="notice notice--error" role="alert">
          <strong>Run failed:</strong> {view.error.message} <code>{view.error.code}</code>
        </div>
      )}
      {view.parked && (
        <div className="notice notice--error" role="alert">
          <strong>Parked:</strong> event {view.parked.sequence} (<code>{view.parked.type}</code>) of this run cannot be projected — {view.parked.reason}. This page
          shows the run as it was before that event; other runs are unaffected. Fix the cause, then rebuild the read models (<code>npm run replay</code>).
        </div>
      )}

      <RunInputs inputs={view.inputs} />

      <section className="card" aria-labelledby="pipeline-heading">
        <div className="card__head">
          <h2 id="pipeline-heading">Pipeline</h2>
          <span className="muted">Select a phase for its candidates, verdict and artifact.</span>
        </div>
        {PipelineGraph === 'loading' ? (
          <div className="graph graph--placeholder">Loading graph…</div>
        ) : PipelineGraph === 'failed' ? (
          <div className="graph graph--placeholder" role="alert">
            Could not load the graph (the dashboard may have been updated: reload the page). The phases are listed below.
          </div>
        ) : (
          <PipelineGraph phases={view.phases} selectedPhaseId={selectedPhaseId} onSelectPhase={selectPhase} label="Run pipeline" />
        )}
        <ul className="phase-chips" aria-label="Phases">
          {view.phases.map((p) => (
            <li key={p.id}>
              {/* one element per chip (its dot is a ::before, its status in the name): 200 phases make 200 chips */}
              <button
                type="button"
                className={`chip status--${p.status}`}
                aria-pressed={p.id === selectedPhaseId}
                aria-label={`${p.name ?? p.id}: ${p.status}`}
                onClick={() => selectPhase(p.id)}
              >
                {p.name ?? p.id}
              </button>
            </li>
          ))}
        </ul>
      </section>

      {selected && (
        <PhasePanel key={selected.id} view={view} phase={selected} live={past ? NOTHING_LIVE : live} at={shownAt} onSequence={refetchAtLeast} onClose={() => selectPhase(null)} />
      )}

      <Suspense fallback={<Loading label="Loading artifacts…" />}>
        <ArtifactBrowser view={view} />
      </Suspense>

      <section className="card" aria-labelledby="timeline-heading">
        <div className="card__head">
          <h2 id="timeline-heading">Timeline</h2>
          <span className="muted">
            {timeline.data ? `${timeline.data.length} events · ` : ''}
            <Button variant="ghost" size="small" disabled={timelineDownload.pending} onClick={() => timelineDownload.start(exportUrls.timeline(view.id), `${view.id}-timeline.json`)}>
              Export
            </Button>
          </span>
        </div>
        {timelineDownload.notice}
        {timeline.isPending ? (
          <Loading label="Loading timeline…" />
        ) : timeline.isError ? (
          <ErrorNotice error={timeline.error} title="Could not load the timeline" onRetry={() => void timeline.refetch()} />
        ) : (
          <Timeline rows={past ? timeline.data.slice(0, scrub.index + 1) : timeline.data} onSelectPhase={selectPhase} phases={view.phases} />
        )}
      </section>

      <section className="card" aria-labelledby="usage-heading">
        <div className="card__head">
          <h2 id="usage-heading">Spend by model</h2>
          <span className="muted">Tokens and cost by provider and model, judges included, over every attempt.</span>
        </div>
        <Suspense fallback={<Loading label="Loading chart…" />}>
          {past ? <PastUsage items={scrub.usage ?? []} /> : <RunUsageChart runId={view.id} sequence={view.sequence} />}
        </Suspense>
      </section>
    </div>
  );
}

function RunHeader({ view, at }: { view: RunView; at?: string | undefined }) {
  const now = useNowOrAt(!isTerminal(view.status), at);
  const simulated = view.phases.some((p) => p.candidates.some((c) => c.provider === 'simulated'));
  const done = view.phases.filter((p) => p.status === 'completed' || p.status === 'skipped').length;
  return (
    <header className="page-header">
      <div className="page-header__title">
        <p className="crumbs">
          <Link to="/runs">Runs</Link> /
        </p>
        <h1>
          {view.name ?? <span className="mono">{view.id}</span>} <StatusBadge status={view.status} />
          {simulated && (
            <span className="badge badge--sim" title="At least one candidate came from the offline simulated provider">
              simulated provider
            </span>
          )}
          {view.archived && (
            <span className="badge badge--archived" data-testid="archived-badge">
              archived
            </span>
          )}
        </h1>
        <p className="muted">
          <Link to={`/templates/${encodeURIComponent(view.templateId)}?version=${view.templateVersion}`}>{view.templateName || view.templateId}</Link> v
          {view.templateVersion} · <span className="mono">{view.id}</span> · started {formatDateTime(view.startedAt)}
          {view.traceId && (
            <>
              {' · '}
              <TraceLink traceId={view.traceId} />
            </>
          )}
        </p>
        <CompareWithOrigin view={view} />
      </div>
      <dl className="stats">
        <div>
          <dt>Cost</dt>
          <dd>{formatUsd(view.costUsd)}</dd>
        </div>
        <div>
          <dt>Tokens</dt>
          <dd>
            {formatTokens(view.tokens.input)} in / {formatTokens(view.tokens.output)} out
          </dd>
        </div>
        <div>
          <dt>Duration</dt>
          <dd>{formatDuration(elapsedMs(view.startedAt, view.completedAt, now))}</dd>
        </div>
        <div>
          <dt>Phases</dt>
          <dd>
            {done}/{view.phases.length}
          </dd>
        </div>
      </dl>
    </header>
  );
}
