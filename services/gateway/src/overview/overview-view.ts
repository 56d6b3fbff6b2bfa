import type { OverviewFailure, OverviewRun, OverviewSettledRun, OverviewWait, RunStatus } from '@conclave/contracts';
import type { PauseReasonInfo, PendingInfo } from '@conclave/read-models';

/** The columns every run row of the overview's SQL has. */
interface RunRowHead {
  id: string;
  name: string | null;
  template_id: string;
  template_name: string;
  status: RunStatus;
  started_at: Date;
  cost_usd: number;
}

/** What the overview shows of every run, active or settled. */
function runHead(row: RunRowHead) {
  return {
    id: row.id,
    name: row.name,
    templateId: row.template_id,
    templateName: row.template_name,
    status: row.status,
    startedAt: row.started_at.toISOString(),
    costUsd: roundUsd(row.cost_usd),
  };
}

/** An active run as the overview's SQL reads it (phases as a jsonb array, timestamps as text). */
export interface ActiveRunRow extends RunRowHead {
  budget_usd: number | null;
  phases_total: number;
  phases_done: number;
  sequence: string;
  pending: PendingInfo;
  pause_reason: PauseReasonInfo | null;
  phases: { id: string; name: string | null; kind: string; status: string; startedAt: string | null; retryAt: string | null }[];
}

export interface FailureRow {
  run_id: string;
  run_name: string | null;
  template_id: string;
  template_name: string;
  run_status: RunStatus;
  phase_id: string | null;
  phase_name: string | null;
  error: { code: string; message: string };
  at: Date;
}

const PAUSED_BY: Record<PauseReasonInfo['code'], string> = { user: 'Paused by a user', budget: 'Paused: budget reached', provider_outage: 'Paused: provider outage' };

/**
 * What an active run waits for, most pressing first: a pause, then what a human must do (gates,
 * questions, manual continues, in the order the run asked), then scheduled retries.
 */
export function toOverviewRun(row: ActiveRunRow): OverviewRun {
  const nameOf = new Map(row.phases.map((p) => [p.id, p.name]));
  const phaseName = (id: string) => nameOf.get(id) ?? null;
  const waits: OverviewWait[] = [];
  if (row.status === 'paused') {
    const reason = row.pause_reason;
    const why = reason ? PAUSED_BY[reason.code] : 'Paused';
    waits.push({ kind: 'paused', phaseId: null, phaseName: null, message: reason?.message ? `${why} — ${reason.message}` : why, at: null });
  }
  for (const gate of row.pending.gates) waits.push({ kind: 'gate', phaseId: gate.phaseId, phaseName: phaseName(gate.phaseId), message: gate.message || 'Approval needed', at: null });
  for (const asked of row.pending.questions) {
    const n = asked.questions.length;
    waits.push({ kind: 'questions', phaseId: asked.phaseId, phaseName: phaseName(asked.phaseId), message: `${n} question${n === 1 ? '' : 's'} to answer`, at: null });
  }
  for (const phaseId of row.pending.continue) waits.push({ kind: 'continue', phaseId, phaseName: phaseName(phaseId), message: 'Waiting for a manual continue', at: null });
  for (const p of row.phases) {
    if (p.retryAt && p.status === 'pending') waits.push({ kind: 'retry', phaseId: p.id, phaseName: p.name, message: 'Retry scheduled', at: iso(p.retryAt) });
  }
  return {
    ...runHead(row),
    budgetUsd: row.budget_usd,
    phasesTotal: row.phases_total,
    phasesDone: row.phases_done,
    sequence: Number(row.sequence),
    running: row.phases.filter((p) => p.status === 'running').map((p) => ({ phaseId: p.id, phaseName: p.name, kind: p.kind, startedAt: p.startedAt ? iso(p.startedAt) : null })),
    waitingOn: waits,
  };
}

export interface SettledRunRow extends RunRowHead {
  completed_at: Date;
}

export function toOverviewSettledRun(row: SettledRunRow): OverviewSettledRun {
  return { ...runHead(row), completedAt: row.completed_at.toISOString() };
}

export function toOverviewFailure(row: FailureRow): OverviewFailure {
  return {
    runId: row.run_id,
    runName: row.run_name,
    templateId: row.template_id,
    templateName: row.template_name,
    runStatus: row.run_status,
    phaseId: row.phase_id,
    phaseName: row.phase_name,
    error: { code: row.error.code, message: row.error.message },
    at: row.at.toISOString(),
  };
}

/** jsonb renders timestamptz in the session's zone: normalise to UTC ISO like every other field. */
function iso(text: string): string {
  return new Date(text).toISOString();
}

/** USD to 1e-9 (sums of doubles drift in the last digits), as GET /costs rounds. */
export function roundUsd(usd: number): number {
  return Math.round(usd * 1e9) / 1e9;
}
