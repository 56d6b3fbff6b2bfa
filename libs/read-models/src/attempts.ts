import type { PhaseAttemptView, PhaseView } from '@conclave/contracts';

/**
 * A phase's attempts, derived from its lifecycle events in the timeline read model (no table of
 * its own: the timeline already holds every PhaseStarted / PhaseCompleted / PhaseFailed /
 * PhaseRetryScheduled, so a replay rebuilds the attempts with it).
 */

/** The timeline event types an attempt is told from. */
export const ATTEMPT_EVENT_TYPES = ['PhaseStarted', 'PhaseCompleted', 'PhaseFailed', 'PhaseRetryScheduled'] as const;

/** One of those events as the run query reads it (timeline_events: type, phase_id, occurred_at, data). */
export interface AttemptEvent {
  type: string;
  phaseId: string | null;
  at: string;
  data: unknown;
}

type Failure = { code: string; message: string };
type RetryCause = NonNullable<PhaseAttemptView['retried']>['cause'];

/**
 * Pure. `events` are the run's lifecycle events in sequence order (any phase); `phase` is the
 * phase's current state, which is the last word on its current attempt (a skip, a cancellation
 * or a rollback change it without an event of these types).
 */
export function phaseAttempts(
  events: readonly AttemptEvent[],
  phase: Pick<PhaseView, 'id' | 'attempt' | 'status' | 'startedAt' | 'completedAt' | 'error'>,
): PhaseAttemptView[] {
  const byNumber = new Map<number, PhaseAttemptView>();
  const get = (attempt: number): PhaseAttemptView => {
    let a = byNumber.get(attempt);
    if (!a) byNumber.set(attempt, (a = { attempt, status: 'running', startedAt: null, completedAt: null, error: null, retried: null }));
    return a;
  };
  for (const e of events) {
    if (e.phaseId !== phase.id) continue;
    const d = (e.data ?? {}) as { attempt?: unknown; reason?: Failure; cause?: RetryCause; notBefore?: string };
    const attempt = typeof d.attempt === 'number' ? d.attempt : null;
    if (attempt === null || attempt < 1) continue;
    switch (e.type) {
      case 'PhaseStarted':
        Object.assign(get(attempt), { status: 'running', startedAt: e.at, completedAt: null, error: null });
        break;
      case 'PhaseCompleted':
        Object.assign(get(attempt), { status: 'completed', completedAt: e.at, error: null });
        break;
      case 'PhaseFailed':
        Object.assign(get(attempt), { status: 'failed', completedAt: e.at, error: d.reason ? { code: d.reason.code, message: d.reason.message } : null });
        break;
      case 'PhaseRetryScheduled': {
        // the attempt before it: failed (a PhaseFailed came first, for a user retry) or abandoned by the policy
        const previous = byNumber.get(attempt - 1);
        if (!previous) break;
        previous.retried = { cause: d.cause ?? 'policy', notBefore: d.notBefore ?? e.at };
        if (previous.status === 'running') {
          previous.status = 'failed';
          previous.completedAt = e.at;
          previous.error = previous.error ?? { code: d.cause === 'timeout' ? 'timeout' : 'retried', message: d.cause === 'timeout' ? 'the attempt timed out' : 'the attempt failed and was retried' };
        }
        break;
      }
    }
  }
  const attempts = [...byNumber.values()].filter((a) => a.attempt <= phase.attempt).sort((a, b) => a.attempt - b.attempt);
  const current = attempts.find((a) => a.attempt === phase.attempt);
  if (current && phase.status !== 'pending') {
    current.status = phase.status;
    current.startedAt = phase.startedAt ?? current.startedAt;
    current.completedAt = phase.completedAt;
    current.error = phase.error;
  }
  // an earlier attempt never closed by an event (a rollback restarted the phase) did not finish
  for (const a of attempts) if (a !== current && (a.status === 'running' || a.status === 'waiting')) a.status = 'cancelled';
  return attempts;
}
