import type { CandidateView, PhaseView, VerdictView } from '@conclave/contracts';
import { elapsedMs, formatDateTime, formatDuration, formatTokens, formatUsd } from '../lib/format';
import { useNow } from '../lib/use-now';
import { JsonBlock } from '../ui/JsonBlock';
import { StatusBadge } from '../ui/StatusBadge';
import { ArtifactContent } from './ArtifactContent';

interface Props {
  runId: string;
  phase: PhaseView;
  /** the run view's sequence: artifact reads wait until the read models reach it */
  sequence: number;
  onClose: () => void;
}

/** One phase: candidates side by side, the judge's verdict, the artifact. */
export function PhasePanel({ runId, phase, sequence, onClose }: Props) {
  const active = phase.status === 'running' || phase.status === 'waiting';
  const now = useNow(active);
  const headingId = `phase-panel-${phase.id}`;
  return (
    <section className="card phase-panel" aria-labelledby={headingId}>
      <header className="phase-panel__head">
        <div>
          <h2 id={headingId}>
            {phase.name ?? phase.id} {phase.name && <span className="muted mono">({phase.id})</span>}
          </h2>
          <p className="muted">
            <code>{phase.kind}</code>
            {phase.dependsOn.length > 0 && <> · after {phase.dependsOn.join(', ')}</>}
            {phase.startedAt && <> · started {formatDateTime(phase.startedAt)}</>}
          </p>
        </div>
        <div className="phase-panel__stats">
          <StatusBadge status={phase.status} />
          <dl className="stats stats--inline">
            <div>
              <dt>Attempt</dt>
              <dd>{phase.attempt || '—'}</dd>
            </div>
            <div>
              <dt>Duration</dt>
              <dd>{formatDuration(elapsedMs(phase.startedAt, phase.completedAt, now))}</dd>
            </div>
            <div>
              <dt>Tokens</dt>
              <dd>
                {formatTokens(phase.tokens.input)} in / {formatTokens(phase.tokens.output)} out
              </dd>
            </div>
            <div>
              <dt>Cost</dt>
              <dd>{formatUsd(phase.costUsd)}</dd>
            </div>
          </dl>
          <button type="button" className="btn btn--ghost btn--small" onClick={onClose} aria-label="Close phase details">
            ✕
          </button>
        </div>
      </header>

      {phase.error && (
        <div className="notice notice--error" role="alert">
          <strong>{phase.error.code}</strong> {phase.error.message}
        </div>
      )}

      <h3>Candidates</h3>
      {phase.candidates.length === 0 ? (
        <p className="muted">{phase.status === 'pending' ? 'The phase has not started.' : 'No candidates for this phase.'}</p>
      ) : (
        <div className="candidates">
          {phase.candidates.map((c) => (
            <CandidateCard key={c.id} candidate={c} winner={phase.verdict?.winnerId === c.id} score={phase.verdict?.scores[c.id]?.overall} />
          ))}
        </div>
      )}

      {phase.verdict && (
        <>
          <h3>Verdict</h3>
          <Verdict verdict={phase.verdict} candidates={phase.candidates} />
        </>
      )}

      <h3>Artifact</h3>
      {phase.artifactId ? (
        <ArtifactContent runId={runId} artifactId={phase.artifactId} minSequence={sequence} />
      ) : (
        <p className="muted">No artifact recorded{phase.status === 'running' ? ' yet' : ''}.</p>
      )}
    </section>
  );
}

export function candidateLabel(c: Pick<CandidateView, 'provider' | 'model' | 'slot' | 'id'>): string {
  return c.provider || c.model ? `${c.provider}/${c.model}` : c.id;
}

function CandidateCard({ candidate: c, winner, score }: { candidate: CandidateView; winner: boolean; score?: number }) {
  return (
    <article className={`candidate${winner ? ' is-winner' : ''}`} aria-label={`Candidate ${c.slot + 1}: ${candidateLabel(c)}${winner ? ' (winner)' : ''}`}>
      <header className="candidate__head">
        <div>
          <div className="candidate__model">{c.model || c.id}</div>
          <div className="muted">
            {c.provider}
            {c.provider === 'simulated' && <span className="badge badge--sim">simulated</span>}
          </div>
        </div>
        <div className="candidate__badges">
          {winner && <span className="badge badge--winner">★ winner</span>}
          <StatusBadge status={c.status} />
        </div>
      </header>
      <dl className="stats stats--grid">
        <div>
          <dt>Duration</dt>
          <dd>{formatDuration(c.durationMs)}</dd>
        </div>
        <div>
          <dt>Tokens</dt>
          <dd>
            {formatTokens(c.tokens.input)} / {formatTokens(c.tokens.output)}
          </dd>
        </div>
        <div>
          <dt>Cost</dt>
          <dd>{formatUsd(c.costUsd)}</dd>
        </div>
        {score !== undefined && (
          <div>
            <dt>Score</dt>
            <dd>{score.toFixed(2)}</dd>
          </div>
        )}
      </dl>
      {c.error && (
        <p className="candidate__error">
          <code>{c.error.code}</code> {c.error.message}
        </p>
      )}
      {c.output !== undefined ? (
        <JsonBlock value={c.output} label={`Output of ${candidateLabel(c)}`} maxHeight={320} />
      ) : (
        <p className="muted">{c.status === 'requested' ? 'Generating…' : 'Output not included in this view.'}</p>
      )}
    </article>
  );
}

function Verdict({ verdict, candidates }: { verdict: VerdictView; candidates: readonly CandidateView[] }) {
  const byId = new Map(candidates.map((c) => [c.id, c]));
  const entries = Object.entries(verdict.scores).sort(([, a], [, b]) => b.overall - a.overall);
  return (
    <div className="verdict">
      <blockquote className="verdict__rationale">{verdict.rationale || <span className="muted">No rationale given.</span>}</blockquote>
      <div className="verdict__scores">
        {entries.map(([id, score]) => {
          const c = byId.get(id);
          const winner = id === verdict.winnerId;
          return (
            <div key={id} className={`score-card${winner ? ' is-winner' : ''}`}>
              <div className="score-card__title">
                {winner && <span aria-label="winner">★ </span>}
                {c ? candidateLabel(c) : id}
              </div>
              <ScoreBar label="overall" value={score.overall} strong />
              {Object.entries(score.criteria).map(([criterion, value]) => (
                <ScoreBar key={criterion} label={criterion} value={value} />
              ))}
            </div>
          );
        })}
      </div>
    </div>
  );
}

function ScoreBar({ label, value, strong }: { label: string; value: number; strong?: boolean }) {
  const pct = Math.round(Math.max(0, Math.min(1, value)) * 100);
  return (
    <div className={`score${strong ? ' score--strong' : ''}`}>
      <span className="score__label">{label}</span>
      <span className="score__bar" role="meter" aria-label={label} aria-valuemin={0} aria-valuemax={1} aria-valuenow={value}>
        <span style={{ width: `${pct}%` }} />
      </span>
      <span className="score__value">{value.toFixed(2)}</span>
    </div>
  );
}
