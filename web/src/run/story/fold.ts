import type { PhaseAttemptView, PhaseView, RunView } from '@conclave/contracts';
import type { ParsedRunEvent } from '../run-reducer';

/**
 * What the run page's story adds to the live fold (run-reducer.ts), applied after it: each
 * phase's attempts (as the read model derives them, read-models attempts.ts), the judge behind a
 * verdict, when a candidate was requested. Pure; `prev` is the view before the event, `next` after
 * the reducer's own change.
 */
export function foldStory(prev: RunView, next: RunView, event: ParsedRunEvent): RunView {
  switch (event.type) {
    case 'PhaseStarted': {
      const { phaseId, attempt } = event.data;
      // a stale start (an attempt the phase has moved past) changed nothing in the reducer either
      if (next.phases.find((p) => p.id === phaseId)?.attempt !== attempt) return next;
      const started = changePhase(next, phaseId, (p) => (p.retryAt || p.retryOverride ? { ...p, retryAt: null, retryOverride: null } : p));
      return changeAttempts(started, phaseId, (list) => {
        // an earlier attempt no event closed (a rollback restarted the phase) did not finish
        const closed = list.map((a) => (a.attempt < attempt && (a.status === 'running' || a.status === 'waiting') ? { ...a, status: 'cancelled' as const } : a));
        return upsert(closed.some((a, i) => a !== list[i]) ? closed : list, { attempt, status: 'running', startedAt: event.occurredAt, completedAt: null, error: null, retried: null });
      });
    }
    case 'PhaseCompleted': {
      const { phaseId, attempt } = event.data;
      return changeAttempts(next, phaseId, (list) => patch(list, attempt, { status: 'completed', completedAt: event.occurredAt, error: null }));
    }
    case 'PhaseFailed': {
      const { phaseId, attempt, reason } = event.data;
      return changeAttempts(next, phaseId, (list) => patch(list, attempt, { status: 'failed', completedAt: event.occurredAt, error: { code: reason.code, message: reason.message } }));
    }
    case 'PhaseRetryScheduled': {
      const { phaseId, attempt, cause, notBefore, override } = event.data;
      // the phase waits until then (the projector's retry_at / retry_override)
      const scheduled = changePhase(next, phaseId, (p) => ({ ...p, retryAt: notBefore, retryOverride: override }));
      return changeAttempts(scheduled, phaseId, (list) => {
        const before = list.find((a) => a.attempt === attempt - 1);
        if (!before) return list;
        const abandoned = before.status === 'running' || before.status === 'waiting';
        return patch(list, attempt - 1, {
          retried: { cause, notBefore },
          ...(abandoned
            ? {
                status: 'failed' as const,
                completedAt: event.occurredAt,
                error: before.error ?? { code: cause === 'timeout' ? 'timeout' : 'retried', message: cause === 'timeout' ? 'the attempt timed out' : 'the attempt failed and was retried' },
              }
            : {}),
        });
      });
    }
    case 'PhaseSkipped':
    case 'RunCancelled': {
      // the phase's current attempt ends with the phase
      const phases = next.phases.map((p) => {
        const current = p.attempts?.find((a) => a.attempt === p.attempt);
        if (!current || (current.status !== 'running' && current.status !== 'waiting') || (p.status !== 'skipped' && p.status !== 'cancelled')) return p;
        return { ...p, attempts: patch(p.attempts!, p.attempt, { status: p.status, completedAt: event.occurredAt }) };
      });
      return phases.some((p, i) => p !== next.phases[i]) ? { ...next, phases } : next;
    }
    case 'VerdictRecorded': {
      const d = event.data;
      // only a verdict this event set on the phase (the reducer decides which verdict a phase shows)
      const before = prev.phases.find((p) => p.id === d.phaseId)?.verdict;
      return changePhase(next, d.phaseId, (p) =>
        p.verdict && p.verdict !== before && p.attempt === d.attempt ? { ...p, verdict: { ...p.verdict, judge: { provider: d.provider, model: d.model, tokens: d.tokens, costUsd: d.costUsd } } } : p,
      );
    }
    case 'CandidateRequested': {
      const d = event.data;
      return changePhase(next, d.phaseId, (p) => {
        const index = p.candidates.findIndex((c) => c.id === d.candidateId);
        if (index < 0 || p.candidates[index]!.requestedAt) return p;
        const candidates = p.candidates.slice();
        candidates[index] = { ...candidates[index]!, requestedAt: event.occurredAt };
        return { ...p, candidates };
      });
    }
    default:
      return next;
  }
}

function changePhase(view: RunView, phaseId: string, fn: (p: PhaseView) => PhaseView): RunView {
  const index = view.phases.findIndex((p) => p.id === phaseId);
  if (index < 0) return view;
  const after = fn(view.phases[index]!);
  if (after === view.phases[index]) return view;
  const phases = view.phases.slice();
  phases[index] = after;
  return { ...view, phases };
}

function changeAttempts(view: RunView, phaseId: string, fn: (list: PhaseAttemptView[]) => PhaseAttemptView[]): RunView {
  return changePhase(view, phaseId, (p) => {
    const list = p.attempts ?? [];
    const after = fn(list);
    return after === list ? p : { ...p, attempts: after };
  });
}

function upsert(list: PhaseAttemptView[], attempt: PhaseAttemptView): PhaseAttemptView[] {
  const existing = list.find((a) => a.attempt === attempt.attempt);
  if (existing && existing.startedAt === attempt.startedAt && existing.status === 'running') return list;
  return [...list.filter((a) => a.attempt !== attempt.attempt), attempt].sort((a, b) => a.attempt - b.attempt);
}

function patch(list: PhaseAttemptView[], attempt: number, change: Partial<PhaseAttemptView>): PhaseAttemptView[] {
  const index = list.findIndex((a) => a.attempt === attempt);
  if (index < 0) return list;
  const next = list.slice();
  next[index] = { ...next[index]!, ...change };
  return next;
}
