import type { CandidateView, PhaseView, RunView, VerdictView } from '@conclave/contracts';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api } from '../api/endpoints';
import { keys } from '../api/keys';
import type { ToolCallView as ToolCallRow } from '@conclave/contracts';
import { elapsedMs, formatClock, formatDateTime, formatDuration, formatTokens, formatUsd } from '../lib/format';
import { useNowOrAt } from '../lib/use-now';
import { JsonBlock } from '../ui/JsonBlock';
import { StatusBadge } from '../ui/StatusBadge';
import { ArtifactContent } from './ArtifactContent';
import { candidateLabel } from './candidate-label';
import { LoopRounds } from './loop/LoopRounds';
import { candidateRoundLabel, candidateScore, phaseWinnerId } from './loop/loop-rounds';
import { CandidateConversation } from './conversation/ConversationViewer';
import { PhaseChanges, hasChanges } from './PhaseChanges';
import { RejectionDetails } from './RejectionDetails';
import { ToolCalls, type ToolCallLike } from './ToolCalls';
import { PhaseActions, type OnSequence } from './RunControls';
import type { CandidateWithTools } from './run-reducer';
import type { LiveByCandidate, LiveCandidate } from './use-live-run';
import { AttemptSwitcher, EarlierAttempt } from './story/Attempts';
import { TraceLink } from './TraceLink';
import { Elapsed, InterviewDetails, JudgeLine, ScheduledRetry } from './story/parts';

interface Props {
  view: RunView;
  phase: PhaseView;
  /** token streams and tool calls of running candidates */
  live: LiveByCandidate;
  onSequence: OnSequence;
  onClose: () => void;
  /** the time of the event shown when the run page travels back (the phase as it was then): no actions, clocks stopped there */
  at?: string | undefined;
}

/** One phase: actions, candidates side by side (with live tokens and tool calls), the judge's verdict, the artifact. */
export function PhasePanel({ view, phase, live, onSequence, onClose, at }: Props) {
  const runId = view.id;
  // artifact reads wait until the read models reach the view's sequence
  const sequence = view.sequence;
  // Agent tool calls: the REST view does not carry them (a refetch drops what events folded in).
  const toolCalls = useQuery({
    queryKey: keys.toolCalls(runId),
    queryFn: ({ signal }) => api.toolCalls(runId, { minSequence: sequence, signal }),
    enabled: phase.kind === 'agent',
    retry: false,
  });
  const restCalls = new Map<string, ToolCallRow[]>();
  for (const t of toolCalls.data?.items ?? []) if (t.candidateId && t.phaseId === phase.id) restCalls.set(t.candidateId, [...(restCalls.get(t.candidateId) ?? []), t]);
  const active = phase.status === 'running' || phase.status === 'waiting';
  const now = useNowOrAt(active, at);
  const headingId = `phase-panel-${phase.id}`;
  // an earlier attempt shown instead of the current one (null: the current attempt, live)
  const [viewedAttempt, setViewedAttempt] = useState<number | null>(null);
  const attempts = phase.attempts ?? [];
  const earlier = viewedAttempt === null || viewedAttempt === phase.attempt ? undefined : attempts.find((a) => a.attempt === viewedAttempt);
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
            {phase.loop && (
              <div>
                <dt>Round</dt>
                <dd>{phase.loop.rounds.length > 0 ? `${phase.loop.rounds[phase.loop.rounds.length - 1]!.round + 1} of ${phase.loop.maxRounds}` : `— of ${phase.loop.maxRounds}`}</dd>
              </div>
            )}
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

      {!at && <PhaseActions view={view} phase={phase} onSequence={onSequence} />}

      {phase.error && (
        <div className="notice notice--error" role="alert">
          <strong>{phase.error.code}</strong> {phase.error.message}
        </div>
      )}

      <ScheduledRetry phase={phase} />

      {attempts.length > 1 && <AttemptSwitcher attempts={attempts} current={phase.attempt} viewed={earlier?.attempt ?? phase.attempt} onSelect={(n) => setViewedAttempt(n === phase.attempt ? null : n)} />}

      {phase.interview && <InterviewDetails interview={phase.interview} />}

      {earlier ? (
        <EarlierAttempt
          key={earlier.attempt}
          runId={runId}
          phaseId={phase.id}
          attempt={earlier}
          renderCandidates={(candidates, verdict) => (
            <div className="candidates">
              {candidates.map((c) => (
                <CandidateCard key={c.id} runId={runId} candidate={c} winner={verdict?.winnerId === c.id} score={verdict?.scores[c.id]?.overall} settled />
              ))}
            </div>
          )}
          renderVerdict={(verdict, candidates) => <Verdict verdict={verdict} candidates={candidates} />}
        />
      ) : (
        <>
          {phase.loop && <LoopRounds phase={phase} />}
          <h3>Candidates</h3>
          {phase.candidates.length === 0 ? (
            <p className="muted">{phase.status === 'pending' ? 'The phase has not started.' : 'No candidates for this phase.'}</p>
          ) : (
            <div className="candidates">
              {phase.candidates.map((c) => (
                <CandidateCard
                  key={c.id}
                  runId={runId}
                  candidate={c}
                  live={live[c.id]}
                  restToolCalls={restCalls.get(c.id)}
                  winner={phaseWinnerId(phase) === c.id}
                  score={candidateScore(phase, c.id)}
                  roundLabel={candidateRoundLabel(phase, c)}
                  settled={!active}
                  at={at}
                />
              ))}
            </div>
          )}

          {hasChanges(phase) && <PhaseChanges runId={runId} phase={phase} minSequence={sequence} />}

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
        </>
      )}
    </section>
  );
}

function CandidateCard({
  runId,
  candidate: c,
  winner,
  score,
  live,
  restToolCalls,
  roundLabel,
  settled = false,
  at,
}: {
  runId: string;
  candidate: CandidateWithTools;
  winner: boolean;
  score?: number;
  /** loop phases: "Round 2 of 5" */
  roundLabel?: string | null;
  live?: LiveCandidate;
  restToolCalls?: ToolCallRow[];
  /** its attempt is over: a candidate still `requested` will not answer (no clock, no "Generating…") */
  settled?: boolean;
  /** the run page's past: a running candidate's clock stops at this time */
  at?: string | undefined;
}) {
  const toolCalls: ToolCallLike[] = c.toolCalls ?? restToolCalls?.map((t) => ({ ...t, at: t.at ?? '' })) ?? c.partial?.toolCalls ?? live?.toolCalls ?? [];
  const output = c.output !== undefined ? (
    <JsonBlock value={c.output} label={`Output of ${candidateLabel(c)}`} maxHeight={320} />
  ) : c.status === 'requested' && live?.text ? (
    <pre className="code stream" aria-live="off" aria-label={`Streaming output of ${candidateLabel(c)}`}>
      {live.text}
      <span className="stream__cursor" aria-hidden="true">
        ▍
      </span>
    </pre>
  ) : (
    <p className="muted">
      {c.partial
        ? 'Stopped before an output: its partial work is under Changes.'
        : c.retry
          ? 'Waiting for its retry.'
          : c.status === 'requested'
            ? settled
              ? 'No answer: its attempt ended first.'
              : 'Generating…'
            : c.status === 'failed'
              ? 'No output: the candidate failed.'
              : 'Output not included in this view.'}
    </p>
  );
  // a candidate waiting for its retry has no worker: nothing streams until it is re-dispatched
  const running = c.status === 'requested' && !c.retry && !settled;
  return (
    <article
      className={`candidate${winner ? ' is-winner' : ''}`}
      aria-label={`${roundLabel ? `${roundLabel}, candidate` : 'Candidate'} ${c.slot + 1}: ${candidateLabel(c)}${winner ? ' (winner)' : ''}`}
      data-testid="candidate-card"
    >
      <header className="candidate__head">
        <div>
          {roundLabel && <div className="candidate__round">{roundLabel}</div>}
          <div className="candidate__model">{c.model || c.id}</div>
          <div className="muted">
            {c.provider}
            {c.provider === 'simulated' && <span className="badge badge--sim">simulated</span>}
          </div>
          {c.trace && (
            <div className="muted candidate__trace">
              <TraceLink traceId={c.trace.traceId} spanId={c.trace.spanId} />
            </div>
          )}
        </div>
        <div className="candidate__badges">
          {winner && <span className="badge badge--winner">★ winner</span>}
          <StatusBadge status={c.status} />
        </div>
      </header>
      <dl className="stats stats--grid">
        <div>
          <dt>Duration</dt>
          <dd>
            {running && c.durationMs === null && c.requestedAt ? (
              // keyed: back to live, the clock mounts afresh at the current time (no stale first frame)
              <Elapsed key={at ? 'past' : 'live'} since={c.requestedAt} at={at} />
            ) : (
              formatDuration(c.durationMs)
            )}
          </dd>
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
      {c.retry ? (
        <p className="candidate__error candidate__retry" role="status">
          retry {c.retry.number} of {c.retry.of} at {formatClock(c.retry.notBefore)}
          {c.error && (
            <>
              {' — '}
              <code>{c.error.code}</code>: {c.error.message}
            </>
          )}
        </p>
      ) : (
        c.error && (
          <p className="candidate__error">
            <code>{c.error.code}</code> {c.error.message}
          </p>
        )
      )}
      {c.partial && (
        <p className="notice notice--warn small">
          {c.partial.reason === 'timeout' ? 'Timed out' : 'Cancelled'}: {c.partial.files.length} file{c.partial.files.length === 1 ? '' : 's'} of partial work kept (see Changes).
        </p>
      )}
      {toolCalls.length > 0 && <ToolCalls calls={toolCalls} streaming={running && !c.partial} />}
      {c.status === 'rejected' ? <RejectionDetails runId={runId} candidate={c} fallback={output} /> : output}
      <CandidateConversation
        runId={runId}
        candidateId={c.id}
        transcriptRef={c.transcript ?? null}
        liveToolCalls={live?.toolCalls}
        running={running}
        label={`Conversation of ${candidateLabel(c)}`}
      />
    </article>
  );
}

function Verdict({ verdict, candidates }: { verdict: VerdictView; candidates: readonly CandidateView[] }) {
  const byId = new Map(candidates.map((c) => [c.id, c]));
  const entries = Object.entries(verdict.scores).sort(([, a], [, b]) => b.overall - a.overall);
  return (
    <div className="verdict">
      <JudgeLine judge={verdict.judge} />
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
      {verdict.missing.length > 0 && (
        <ul className="verdict__missing" aria-label="Candidates not compared">
          {verdict.missing.map((m) => {
            const c = byId.get(m.candidateId);
            return (
              <li key={m.candidateId} className="notice notice--warn small">
                Not compared: {c ? candidateLabel(c) : candidateLabel({ id: m.candidateId, provider: m.provider, model: m.model })} — <code>{m.error.code}</code>: {m.error.message}
              </li>
            );
          })}
        </ul>
      )}
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
