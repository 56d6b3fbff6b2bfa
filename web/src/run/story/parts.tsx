import type { PhaseView, VerdictView } from '@conclave/contracts';
import { elapsedMs, formatClock, formatDuration, formatTokens, formatUsd } from '../../lib/format';
import { useNow, useNowOrAt } from '../../lib/use-now';

/** Small pieces of the phase panel (issue 13 §2): the judge behind a verdict, a running candidate's clock, interview progress. */

/** "Judged by openai/gpt-4.1-mini · 1.2k in / 300 out · $0.004" — the judge call behind a verdict. */
export function JudgeLine({ judge, purpose = 'select' }: { judge: VerdictView['judge']; purpose?: 'select' | 'evaluate' }) {
  if (!judge) return null;
  return (
    <p className="judge-line" data-testid="judge-line">
      <span className="muted">{purpose === 'evaluate' ? 'Evaluated by' : 'Judged by'}</span> <span className="mono">{`${judge.provider}/${judge.model}`}</span>
      <span className="muted"> · </span>
      {formatTokens(judge.tokens.input)} in / {formatTokens(judge.tokens.output)} out
      <span className="muted"> · </span>
      {formatUsd(judge.costUsd)}
    </p>
  );
}

/** A running candidate's time since it was requested, ticking each second; plain text stopped at `at` (the run page's past). */
export function Elapsed({ since, at }: { since: string; at?: string | undefined }) {
  const now = useNowOrAt(true, at);
  const elapsed = formatDuration(elapsedMs(since, null, now));
  if (at) return <>{elapsed}</>;
  return (
    <span className="elapsed" role="timer" aria-live="off" title="running">
      {elapsed}
    </span>
  );
}

/** How many of an interview's questions have an answer (answers are matched to questions by their text). */
export function interviewProgress(interview: NonNullable<PhaseView['interview']>): { answered: number; total: number } {
  const answered = new Set((interview.answers ?? []).filter((a) => a.answer.trim() !== '').map((a) => a.question));
  const total = interview.questions.length;
  return { answered: interview.questions.filter((q) => answered.has(q.question)).length, total };
}

/** An interview phase: "3 of 7 answered", then each question with its answer, as text. */
export function InterviewDetails({ interview }: { interview: NonNullable<PhaseView['interview']> }) {
  const { answered, total } = interviewProgress(interview);
  const answers = new Map((interview.answers ?? []).map((a) => [a.question, a.answer]));
  return (
    <section className="interview" aria-label="Interview">
      <h3>Interview</h3>
      <p className="interview__progress">
        <progress max={total} value={answered} aria-label="Questions answered" /> {answered} of {total} answered
      </p>
      <ol className="interview__list">
        {interview.questions.map((q) => {
          const answer = answers.get(q.question);
          return (
            <li key={q.id}>
              <p className="interview__question">{q.question}</p>
              {q.why && <p className="muted small">Why: {q.why}</p>}
              {answer !== undefined && answer.trim() !== '' ? (
                <blockquote className="interview__answer">{answer}</blockquote>
              ) : (
                <p className="muted small">{interview.answers ? 'Not answered.' : 'Waiting for an answer.'}</p>
              )}
            </li>
          );
        })}
      </ol>
    </section>
  );
}

/** "retry in 4 s" while the retry is ahead (ticking each second), then the time it went out. */
export function RetryCountdown({ at }: { at: string }) {
  const target = Date.parse(at);
  // ticks each second while the retry is ahead, and stops once it is due
  const now = useNow(Number.isFinite(target) && target > Date.now());
  if (!Number.isFinite(target)) return null;
  const left = target - now;
  return left > 0 ? (
    <span className="timeline__retry" role="timer" aria-label={`retry in ${formatDuration(left)}`}>
      retry in {formatDuration(Math.ceil(left / 1000) * 1000)}
    </span>
  ) : (
    <span className="timeline__retry muted">retry at {formatClock(at)}</span>
  );
}

/** A phase waiting out its backoff: which attempt comes next, when, and on which model if it was switched. */
export function ScheduledRetry({ phase }: { phase: Pick<PhaseView, 'status' | 'attempt' | 'retryAt' | 'retryOverride'> }) {
  if (phase.status !== 'pending' || !phase.retryAt) return null;
  return (
    <p className="notice notice--warn" role="status">
      Attempt {phase.attempt + 1} is scheduled{phase.retryOverride ? ` on ${phase.retryOverride.provider}/${phase.retryOverride.model}` : ''}: <RetryCountdown at={phase.retryAt} />
    </p>
  );
}
