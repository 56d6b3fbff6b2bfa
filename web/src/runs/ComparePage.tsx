import { COMPARE_MAX_RUNS, COMPARE_MIN_RUNS, type ComparePhase, type CompareRun, type RunComparison } from '@conclave/contracts';
import { useQuery } from '@tanstack/react-query';
import { useMemo, useState, type ReactNode } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { formatDuration, formatTokens, formatUsd } from '../lib/format';
import { cn } from '../ui/cn';
import { ErrorNotice } from '../ui/ErrorNotice';
import { Loading } from '../ui/Loading';
import { StatusBadge } from '../ui/StatusBadge';
import { compareIds, compareKey, fetchComparison } from './compare-api';
import { bestIndices, lineDiff, outputText, winnerScore } from './compare-view';
import './runs.css';

const runLabel = (run: CompareRun) => run.name ?? run.id;

/**
 * `/compare?runs=a,b[,c,d]`: two to four runs side by side (GET /runs/compare). The totals, then
 * per phase (aligned by id; "not in this run" where a run lacks it) the models, winner, judge
 * scores, tokens, cost and duration, with the best cost, duration and score marked, and a line diff
 * of each run's winning output against the first run's. The URL is the whole state: share it.
 */
export default function ComparePage() {
  const [params] = useSearchParams();
  const { ids, valid: countOk } = useMemo(() => compareIds(params), [params]);
  const comparison = useQuery({ queryKey: compareKey(ids), queryFn: ({ signal }) => fetchComparison(ids, signal), enabled: countOk });

  return (
    <div className="page">
      <title>Compare runs · Conclave</title>
      <header className="page-header">
        <div className="page-header__title">
          <p className="crumbs">
            <Link to="/runs">Runs</Link> /
          </p>
          <h1>Compare runs</h1>
          <p className="muted">Phase by phase: models, winners’ outputs, judge scores, tokens, cost and duration.</p>
        </div>
      </header>
      {!countOk ? (
        <div className="notice notice--warn" role="alert">
          <strong>Pick {COMPARE_MIN_RUNS} to {COMPARE_MAX_RUNS} runs to compare</strong>
          <p className="notice__message">
            This address names {ids.length}. Tick the runs on the <Link to="/runs">runs list</Link>, or use “Compare with origin” on a fork or re-run.
          </p>
        </div>
      ) : comparison.isPending ? (
        <Loading label="Loading the comparison…" />
      ) : comparison.isError ? (
        <ErrorNotice error={comparison.error} title="Could not compare these runs" onRetry={() => void comparison.refetch()} />
      ) : (
        <Comparison data={comparison.data} />
      )}
    </div>
  );
}

export function Comparison({ data }: { data: RunComparison }) {
  const { runs, phases } = data;
  const cost = bestIndices(
    runs.map((r) => r.totals.costUsd),
    'min',
  );
  const duration = bestIndices(
    runs.map((r) => r.totals.durationMs),
    'min',
  );
  return (
    <>
      <section aria-labelledby="compare-totals">
        <h2 id="compare-totals">Totals</h2>
        <div className="table-wrap">
          <table className="table compare-runs" data-testid="compare-totals">
            <caption className="sr-only">Totals per run</caption>
            <thead>
              <tr>
                <td />
                {runs.map((r) => (
                  <th key={r.id} scope="col">
                    <Link to={`/runs/${encodeURIComponent(r.id)}`}>{runLabel(r)}</Link>
                    {r.origin && (
                      <div className="muted small">
                        {r.origin.kind === 'fork' ? 'fork' : 're-run'} of <span className="mono">{runs.find((x) => x.id === r.origin?.runId)?.name ?? r.origin.runId}</span>
                      </div>
                    )}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              <Row label="Template" cells={runs.map((r) => `${r.templateName || r.templateId} v${r.templateVersion}`)} />
              <Row label="Status" cells={runs.map((r) => <StatusBadge key={r.id} status={r.status} />)} />
              <Row label="Cost" testId="total-cost" best={cost} cells={runs.map((r) => formatUsd(r.totals.costUsd))} />
              <Row label="Duration" testId="total-duration" best={duration} cells={runs.map((r) => (r.totals.durationMs === null ? 'running' : formatDuration(r.totals.durationMs)))} />
              <Row label="Tokens" testId="total-tokens" cells={runs.map((r) => `${formatTokens(r.totals.tokens.input)} in / ${formatTokens(r.totals.tokens.output)} out`)} />
              <Row label="Phases completed" cells={runs.map((r) => `${r.totals.phasesCompleted}/${r.totals.phasesTotal}`)} />
            </tbody>
          </table>
        </div>
      </section>
      {phases.map((phase) => (
        <PhaseComparison key={phase.id} phase={phase} runs={runs} />
      ))}
    </>
  );
}

/** One column heading per run, by its name. */
function RunHeads({ runs }: { runs: readonly CompareRun[] }) {
  return runs.map((r) => (
    <th key={r.id} scope="col">
      {runLabel(r)}
    </th>
  ));
}

function Row({ label, cells, best, testId }: { label: string; cells: ReactNode[]; best?: Set<number>; testId?: string }) {
  return (
    <tr data-testid={testId}>
      <th scope="row">{label}</th>
      {cells.map((cell, i) => (
        <td key={i} className={cn(best?.has(i) && 'compare-best')} data-best={best?.has(i) ? 'true' : undefined}>
          {cell}
        </td>
      ))}
    </tr>
  );
}

const absent = <span className="compare-absent">not in this run</span>;

function PhaseComparison({ phase, runs }: { phase: ComparePhase; runs: CompareRun[] }) {
  const cells = phase.runs;
  const cost = bestIndices(
    cells.map((c) => c?.costUsd),
    'min',
  );
  const duration = bestIndices(
    cells.map((c) => c?.durationMs),
    'min',
  );
  const score = bestIndices(cells.map(winnerScore), 'max');
  const texts = cells.map((c) => (c ? outputText(c.output) : null));
  const headingId = `compare-phase-${phase.id}`;
  return (
    <section className="compare-phase" aria-labelledby={headingId} data-testid="compare-phase" data-phase-id={phase.id}>
      <h2 id={headingId}>
        {phase.name ?? phase.id} <span className="muted small mono">{phase.kind}</span>
      </h2>
      <div className="table-wrap">
        <table className="table table--compact compare-runs">
          <caption className="sr-only">Phase {phase.name ?? phase.id}, run by run</caption>
          <thead>
            <tr>
              <td />
              <RunHeads runs={runs} />
            </tr>
          </thead>
          <tbody>
            <Row label="Status" cells={cells.map((c, i) => (c ? <StatusBadge key={i} status={c.status} /> : absent))} />
            <Row label="Models" cells={cells.map((c) => (c ? c.models.map((m) => `${m.provider}/${m.model}`).join(', ') || '—' : absent))} />
            <Row label="Winner" testId="phase-winner" cells={cells.map((c) => (c ? (c.winner ? `${c.winner.provider}/${c.winner.model}` : '—') : absent))} />
            <Row
              label="Judge scores"
              testId="phase-scores"
              best={score}
              cells={cells.map((c) =>
                c ? (
                  c.scores.length ? (
                    c.scores.map((s) => `${s.model} ${s.overall.toFixed(2)}${s.winner ? ' ✓' : ''}`).join(' · ')
                  ) : (
                    '—'
                  )
                ) : (
                  absent
                ),
              )}
            />
            <Row label="Tokens" testId="phase-tokens" cells={cells.map((c) => (c ? `${formatTokens(c.tokens.input)} in / ${formatTokens(c.tokens.output)} out` : absent))} />
            <Row label="Cost" testId="phase-cost" best={cost} cells={cells.map((c) => (c ? formatUsd(c.costUsd) : absent))} />
            <Row label="Duration" testId="phase-duration" best={duration} cells={cells.map((c) => (c ? (c.durationMs === null ? '—' : formatDuration(c.durationMs)) : absent))} />
          </tbody>
        </table>
      </div>
      <OutputDiffs texts={texts} runs={runs} phaseId={phase.id} />
    </section>
  );
}

/** Each run's winning output against the first run's that has one, as a line diff; the outputs themselves fold below. */
function OutputDiffs({ texts, runs, phaseId }: { texts: (string | null)[]; runs: CompareRun[]; phaseId: string }) {
  // the outputs themselves render once asked for: ten phases of full texts are most of the page otherwise
  const [shown, setShown] = useState(false);
  const baseIndex = texts.findIndex((t) => t !== null && t !== '');
  const pairs = useMemo(
    () => (baseIndex < 0 ? [] : texts.flatMap((t, i) => (i === baseIndex || t === null || t === '' ? [] : [{ i, rows: lineDiff(texts[baseIndex]!, t) }]))),
    [texts, baseIndex],
  );
  if (baseIndex < 0) return <p className="muted small">No winning output yet.</p>;
  return (
    <div className="compare-diff">
      {pairs.map(({ i, rows }) => {
        const same = rows.every((r) => r.kind === 'context');
        return (
          <div key={i} data-testid="output-diff">
            <h3>
              Winner’s output: {runLabel(runs[baseIndex]!)} → {runLabel(runs[i]!)}
              {same && <span className="muted"> (identical)</span>}
            </h3>
            {!same && (
              <div className="table-wrap diff-table-wrap">
                <table className="diff-table">
                  <caption className="sr-only">
                    Lines removed from {runLabel(runs[baseIndex]!)} and added in {runLabel(runs[i]!)}
                  </caption>
                  <tbody>
                    {rows.map((r, k) => (
                      <tr key={k} className={`diff-line diff-line--${r.kind === 'context' ? 'context' : r.kind}`}>
                        <td className="diff-line__no">{r.left ?? ''}</td>
                        <td className="diff-line__no">{r.right ?? ''}</td>
                        <td className="diff-line__sign">{r.kind === 'add' ? '+' : r.kind === 'del' ? '−' : ' '}</td>
                        <td className="diff-line__text">{r.text}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </div>
        );
      })}
      <details onToggle={(e) => setShown(e.currentTarget.open)}>
        <summary>Outputs side by side</summary>
        {shown && (
          <div className="table-wrap">
            <table className="table table--compact">
              <caption className="sr-only">Winning outputs of phase {phaseId}</caption>
              <thead>
                <tr>
                  <RunHeads runs={runs} />
                </tr>
              </thead>
              <tbody>
                <tr>
                  {texts.map((t, i) => (
                    <td key={i}>{t === null ? absent : <pre className="compare-output">{t || '—'}</pre>}</td>
                  ))}
                </tr>
              </tbody>
            </table>
          </div>
        )}
      </details>
    </div>
  );
}
