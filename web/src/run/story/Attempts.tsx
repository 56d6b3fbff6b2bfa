import type { CandidateView, PhaseAttemptView, VerdictListItem } from '@conclave/contracts';
import type { ReactNode } from 'react';
import { formatClock, formatDateTime, formatDuration, elapsedMs } from '../../lib/format';
import { ErrorNotice } from '../../ui/ErrorNotice';
import { Loading } from '../../ui/Loading';
import { StatusBadge } from '../../ui/StatusBadge';
import { useAttemptDetails } from './api';

/**
 * Every attempt of a phase, one button each ("Attempt 1 · failed"); the current one is the live
 * view, an earlier one is read from REST (its candidates and verdicts are kept after a retry).
 */
export function AttemptSwitcher({ attempts, current, viewed, onSelect }: { attempts: readonly PhaseAttemptView[]; current: number; viewed: number; onSelect: (attempt: number) => void }) {
  return (
    <div className="attempts" role="group" aria-label="Attempts">
      {attempts.map((a) => (
        <button
          key={a.attempt}
          type="button"
          className={`chip status--${a.status}`}
          aria-pressed={a.attempt === viewed}
          onClick={() => onSelect(a.attempt)}
          title={a.error ? `${a.error.code}: ${a.error.message}` : undefined}
        >
          <span className="chip__dot" aria-hidden="true" />
          Attempt {a.attempt}
          <span className="muted"> · {a.attempt === current ? `current, ${a.status}` : a.status}</span>
        </button>
      ))}
    </div>
  );
}

interface EarlierAttemptProps {
  runId: string;
  phaseId: string;
  attempt: PhaseAttemptView;
  /** the phase panel's own rendering of candidates and of a verdict (cards, scores) */
  renderCandidates: (candidates: CandidateView[], verdict: VerdictListItem | null) => ReactNode;
  renderVerdict: (verdict: VerdictListItem, candidates: CandidateView[]) => ReactNode;
}

/** An earlier attempt as it ended: its outcome, candidates and verdict. */
export function EarlierAttempt({ runId, phaseId, attempt, renderCandidates, renderVerdict }: EarlierAttemptProps) {
  const details = useAttemptDetails(runId, phaseId, attempt.attempt, true);
  return (
    <section className="earlier-attempt" aria-label={`Attempt ${attempt.attempt}`}>
      <p className="earlier-attempt__head">
        <StatusBadge status={attempt.status} /> Attempt {attempt.attempt}
        {attempt.startedAt && <span className="muted"> · started {formatDateTime(attempt.startedAt)}</span>}
        {attempt.completedAt && <span className="muted"> · took {formatDuration(elapsedMs(attempt.startedAt, attempt.completedAt, Date.parse(attempt.completedAt)))}</span>}
        {attempt.retried && (
          <span className="muted">
            {' '}
            · retried ({attempt.retried.cause}) at {formatClock(attempt.retried.notBefore)}
          </span>
        )}
      </p>
      {attempt.error && (
        <div className="notice notice--error" role="status">
          <strong>{attempt.error.code}</strong> {attempt.error.message}
        </div>
      )}
      {details.isPending ? (
        <Loading label={`Loading attempt ${attempt.attempt}…`} />
      ) : details.isError ? (
        <ErrorNotice error={details.error} title={`Could not load attempt ${attempt.attempt}`} onRetry={() => void details.refetch()} />
      ) : (
        <>
          <h3>Candidates</h3>
          {details.data.candidates.length === 0 ? <p className="muted">No candidates in this attempt.</p> : renderCandidates(details.data.candidates, details.data.verdict)}
          {details.data.verdict && (
            <>
              <h3>Verdict</h3>
              {renderVerdict(details.data.verdict, details.data.candidates)}
            </>
          )}
        </>
      )}
    </section>
  );
}
