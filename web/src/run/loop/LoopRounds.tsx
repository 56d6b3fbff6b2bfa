import type { PhaseView } from '@conclave/contracts';
import { lazy, Suspense } from 'react';
import { formatClock } from '../../lib/format';
import { loopRounds, type RoundRow } from './loop-rounds';

// the chart library loads with the chart, not with the run page
const LoopScoreChart = lazy(() => import('./LoopScoreChart'));

/** What the loop did, in one sentence. */
function outcome(phase: PhaseView, rows: RoundRow[], maxRounds: number): string {
  const taken = rows.find((r) => r.taken);
  if (taken) {
    if (taken.passed) return `Passed in ${taken.label.toLowerCase()}: its output is the artifact.`;
    return `Stopped at ${maxRounds} rounds without passing: the best round (${taken.label.toLowerCase()}, score ${taken.score?.toFixed(2) ?? '—'}) became the artifact.`;
  }
  const last = rows[rows.length - 1];
  if (phase.status === 'running' && last) return `${last.label} under way.`;
  return rows.length === 0 ? 'No round has run yet.' : `${rows.length} round${rows.length === 1 ? '' : 's'} run.`;
}

/**
 * A loop phase's rounds: each one labelled "Round n of N" with its score against the threshold,
 * the evaluator's feedback (handed to the next round's reviser), and the round whose output became
 * the artifact marked ★ — the same candidate the ★ on its card names. A small chart draws the score
 * per round with the threshold line.
 */
export function LoopRounds({ phase }: { phase: PhaseView }) {
  const loop = phase.loop;
  if (!loop) return null;
  const rows = loopRounds(phase);
  const threshold = loop.passThreshold;
  const data = rows.map((r) => ({ round: `R${r.round + 1}`, score: r.score }));
  const chartLabel = `Score per round against the threshold ${threshold.toFixed(2)}: ${
    rows.map((r) => `${r.label} ${r.score === null ? 'not evaluated' : r.score.toFixed(2)}`).join(', ') || 'no round yet'
  }`;
  return (
    <section className="loop-rounds" aria-labelledby={`loop-rounds-${phase.id}`}>
      <h3 id={`loop-rounds-${phase.id}`}>Rounds</h3>
      <p className="muted" data-testid="loop-summary">
        Passes at a score of <strong data-testid="loop-threshold">{threshold.toFixed(2)}</strong> or more · at most {loop.maxRounds} rounds · {outcome(phase, rows, loop.maxRounds)}
      </p>
      {rows.length > 0 && (
        <div className="loop-rounds__chart" role="img" aria-label={chartLabel}>
          <Suspense fallback={null}>
            <LoopScoreChart data={data} threshold={threshold} />
          </Suspense>
        </div>
      )}
      <ol className="loop-rounds__list">
        {rows.map((r) => (
          <li key={r.round} className={`loop-round${r.taken ? ' is-taken' : ''}`} data-testid="loop-round" data-round={r.round + 1} data-taken={r.taken ? 'true' : undefined}>
            <div className="loop-round__head">
              <strong>{r.label}</strong>
              {r.taken && <span className="badge badge--winner">★ artifact</span>}
              {r.score === null ? (
                <span className="muted">{phase.status === 'running' ? 'awaiting evaluation' : 'not evaluated'}</span>
              ) : (
                <span className={`loop-round__score ${r.passed ? 'is-pass' : 'is-fail'}`} data-testid="loop-round-score">
                  score {r.score.toFixed(2)} {r.passed ? '≥' : '<'} {threshold.toFixed(2)} {r.passed ? '(passes)' : '(below threshold)'}
                </span>
              )}
              {r.best && !r.taken && r.score !== null && <span className="muted small">best so far</span>}
              {r.evaluatedAt && <span className="muted small">{formatClock(r.evaluatedAt)}</span>}
            </div>
            {Object.keys(r.criteria).length > 1 && (
              <p className="muted small">
                {Object.entries(r.criteria)
                  .map(([criterion, value]) => `${criterion} ${value.toFixed(2)}`)
                  .join(' · ')}
              </p>
            )}
            {r.feedback !== null && (
              <blockquote className="loop-round__feedback" data-testid="loop-round-feedback">
                {r.feedback || <span className="muted">No feedback given.</span>}
              </blockquote>
            )}
          </li>
        ))}
      </ol>
    </section>
  );
}
