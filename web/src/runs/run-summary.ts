import type { RunStatus, RunSummary, SocketEvent } from '@conclave/contracts';

/**
 * Optimistic patch of a runs-list row from a live event, applied before the list is refetched
 * (the refetch, with min_sequence, stays the source of truth). Pure and idempotent by sequence.
 * Only the envelope's type and a few numeric fields are read, so it tolerates event types the
 * catalog does not have yet.
 */
const STATUS_BY_TYPE: Record<string, RunStatus> = {
  RunStarted: 'running',
  RunResumed: 'running',
  RunPaused: 'paused',
  BudgetExceeded: 'paused',
  GateOpened: 'waiting',
  QuestionsAsked: 'waiting',
  RunCompleted: 'completed',
  RunFailed: 'failed',
  RunCancelled: 'cancelled',
};
const TERMINAL = new Set<RunStatus>(['completed', 'failed', 'cancelled']);
const PHASE_DONE = new Set(['PhaseCompleted', 'PhaseSkipped']);
const SPEND = new Set(['CandidateGenerated', 'VerdictRecorded']);

export function isTerminal(status: RunStatus): boolean {
  return TERMINAL.has(status);
}

export function patchRunSummary(row: RunSummary, event: SocketEvent): RunSummary {
  if (event.runId !== row.id || event.sequence <= row.sequence) return row;
  let next: RunSummary = { ...row, sequence: event.sequence };
  const status = STATUS_BY_TYPE[event.type];
  if (status) {
    next = { ...next, status, completedAt: TERMINAL.has(status) ? event.occurredAt : null };
  } else if (PHASE_DONE.has(event.type)) {
    next = { ...next, phasesDone: Math.min(next.phasesTotal, next.phasesDone + 1) };
  } else if (SPEND.has(event.type)) {
    const cost = (event.data as { costUsd?: unknown } | null)?.costUsd;
    if (typeof cost === 'number' && Number.isFinite(cost)) next = { ...next, costUsd: next.costUsd + cost };
  }
  return next;
}
