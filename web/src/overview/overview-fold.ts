import type { OverviewFailure, OverviewRun, OverviewView, OverviewWait, RunStatus, SocketEvent, WorkerView } from '@conclave/contracts';
import { effectiveStatus } from '../fleet/fleet';

/**
 * Live patches of GET /overview from log events (rooms `runs` and `costs`), applied between
 * refetches so the page moves at once; the refetch (throttled, with min_sequence) stays the source
 * of truth. Pure, and idempotent by sequence: an event at or before the view's `sequence` is
 * already in it (the view is one snapshot at that position), so the same event delivered through
 * two rooms, or replayed over a fresher answer, is counted once.
 *
 * Only envelope types and a few data fields are read: event types this fold does not know leave
 * the view as it is (the refetch brings whatever they changed).
 */

type Data = Record<string, unknown>;
const dataOf = (e: SocketEvent): Data => (e.data !== null && typeof e.data === 'object' ? (e.data as Data) : {});
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/** Priced calls: what they cost is added to the spend and to their run. */
const SPEND = new Set(['CandidateGenerated', 'VerdictRecorded', 'OutputRejected']);
/** as many failures and finished runs as GET /overview lists */
const FAILURES_SHOWN = 10;
const RECENT_SHOWN = 5;
const ACTIVE = new Set<RunStatus>(['running', 'waiting', 'paused']);
const PAUSED_BY: Record<string, string> = { user: 'Paused by a user', budget: 'Paused: budget reached', provider_outage: 'Paused: provider outage' };

/** Whether an event can change what the overview shows (the others need no refetch). */
export function affectsOverview(event: SocketEvent): boolean {
  return event.runId !== null && !IGNORED.has(event.type);
}
/** Frequent events that change nothing the overview shows. */
const IGNORED = new Set(['CandidateRequested', 'JudgeRequested', 'CheckpointCreated', 'ToolRunRequested', 'ToolRunCompleted', 'IntegrationRequested', 'PartialWorkRecorded']);

export function patchOverview(view: OverviewView, event: SocketEvent): OverviewView {
  if (event.sequence <= view.sequence || event.runId === null) return view;
  const next: OverviewView = { ...view, sequence: event.sequence };
  const runId = event.runId;
  const d = dataOf(event);
  const run = next.runs.active.find((r) => r.id === runId);

  if (SPEND.has(event.type)) return addSpend(next, run, event, typeof d.costUsd === 'number' && Number.isFinite(d.costUsd) ? d.costUsd : 0);

  switch (event.type) {
    case 'RunStarted': {
      if (run) return next;
      const template = (d.template ?? {}) as { name?: unknown; phases?: unknown };
      const started: OverviewRun = {
        id: runId,
        name: str(d.name),
        templateId: str(d.templateId) ?? '',
        templateName: str(template.name) ?? str(d.templateId) ?? '',
        status: 'running',
        startedAt: event.occurredAt,
        costUsd: 0,
        budgetUsd: typeof d.budgetUsd === 'number' ? d.budgetUsd : null,
        phasesTotal: Array.isArray(template.phases) ? template.phases.length : 0,
        phasesDone: 0,
        sequence: event.sequence,
        running: [],
        waitingOn: [],
      };
      const active = [...next.runs.active];
      // those waiting on a human first, then newest first: a new run leads the running ones
      const firstRunning = active.findIndex((r) => r.status === 'running');
      active.splice(firstRunning < 0 ? active.length : firstRunning, 0, started);
      return withRuns(next, active.slice(0, next.runs.limit), { total: next.runs.total + 1, delta: { running: 1 } });
    }
    case 'RunCompleted':
    case 'RunCancelled':
      return run ? settle(next, run, event.type === 'RunCompleted' ? 'completed' : 'cancelled', event.occurredAt) : next;
    case 'RunFailed': {
      const reason = (d.reason ?? {}) as { code?: unknown; message?: unknown };
      const phaseId = str(d.phaseId);
      const failure: OverviewFailure = {
        runId,
        runName: run?.name ?? null,
        templateId: run?.templateId ?? '',
        templateName: run?.templateName ?? '',
        runStatus: 'failed',
        phaseId,
        phaseName: phaseId ? (phaseNameOf(next, runId, phaseId) ?? null) : null,
        error: { code: str(reason.code) ?? 'failed', message: str(reason.message) ?? 'The run failed' },
        at: event.occurredAt,
      };
      // a failed run is listed once, in place of its phases' failures
      const failures = [failure, ...next.failures.filter((f) => f.runId !== runId)].slice(0, FAILURES_SHOWN);
      const settled = run ? settle(next, run, 'failed', event.occurredAt) : next;
      return { ...settled, failures };
    }
    case 'PhaseFailed': {
      if (!run) return next;
      const phaseId = str(d.phaseId);
      const reason = (d.reason ?? {}) as { code?: unknown; message?: unknown };
      const failure: OverviewFailure = {
        runId,
        runName: run.name,
        templateId: run.templateId,
        templateName: run.templateName,
        runStatus: run.status,
        phaseId,
        phaseName: phaseId ? phaseNameOf(next, runId, phaseId) : null,
        error: { code: str(reason.code) ?? 'failed', message: str(reason.message) ?? 'The phase failed' },
        at: event.occurredAt,
      };
      const failures = [failure, ...next.failures.filter((f) => !(f.runId === runId && f.phaseId === phaseId))].slice(0, FAILURES_SHOWN);
      return { ...patchRun(next, run, { running: run.running.filter((p) => p.phaseId !== phaseId) }), failures };
    }
    case 'PhaseStarted': {
      const phaseId = str(d.phaseId);
      if (!run || !phaseId) return next;
      const known = phaseNameOf(next, runId, phaseId);
      const running = [...run.running.filter((p) => p.phaseId !== phaseId), { phaseId, phaseName: known, kind: '', startedAt: event.occurredAt }];
      return patchRun(next, run, { running, waitingOn: run.waitingOn.filter((w) => !(w.kind === 'retry' && w.phaseId === phaseId)) });
    }
    case 'PhaseCompleted':
    case 'PhaseSkipped': {
      const phaseId = str(d.phaseId);
      if (!run) return next;
      return patchRun(next, run, { running: run.running.filter((p) => p.phaseId !== phaseId), phasesDone: Math.min(run.phasesTotal, run.phasesDone + 1) });
    }
    case 'GateOpened':
      return run ? addWait(next, run, { kind: 'gate', phaseId: str(d.phaseId), message: str(d.message) || 'Approval needed' }) : next;
    case 'QuestionsAsked': {
      const n = Array.isArray(d.questions) ? d.questions.length : 0;
      return run ? addWait(next, run, { kind: 'questions', phaseId: str(d.phaseId), message: `${n} question${n === 1 ? '' : 's'} to answer` }) : next;
    }
    case 'ContinueRequired': {
      if (!run) return next;
      const ids = Array.isArray(d.phaseIds) ? d.phaseIds.filter((id): id is string => typeof id === 'string') : [];
      return ids.reduce<OverviewView>((v, phaseId) => {
        const current = v.runs.active.find((r) => r.id === runId)!;
        return addWait(v, current, { kind: 'continue', phaseId, message: 'Waiting for a manual continue' });
      }, next);
    }
    case 'GateApproved':
    case 'GateRejected':
      return run ? removeWaits(next, run, (w) => w.kind === 'gate' && w.phaseId === str(d.phaseId), event.occurredAt, true) : next;
    case 'AnswersSubmitted':
      return run ? removeWaits(next, run, (w) => w.kind === 'questions' && w.phaseId === str(d.phaseId), event.occurredAt, true) : next;
    case 'RunContinued': {
      const ids = Array.isArray(d.phaseIds) ? d.phaseIds : [];
      return run ? removeWaits(next, run, (w) => w.kind === 'continue' && ids.includes(w.phaseId), event.occurredAt, false) : next;
    }
    case 'RunPaused':
    case 'BudgetExceeded': {
      if (!run || run.status === 'paused') return next;
      const reason = (d.reason ?? {}) as { code?: unknown; message?: unknown };
      const code = str(reason.code) ?? (event.type === 'BudgetExceeded' ? 'budget' : 'user');
      const why = PAUSED_BY[code] ?? 'Paused';
      const message = str(reason.message);
      const paused: OverviewWait = { kind: 'paused', phaseId: null, phaseName: null, message: message ? `${why} — ${message}` : why, at: null };
      return patchRun(next, run, { status: 'paused', waitingOn: [paused, ...run.waitingOn.filter((w) => w.kind !== 'paused')] });
    }
    case 'RunResumed': {
      if (!run || run.status !== 'paused') return next;
      const waitingOn = run.waitingOn.filter((w) => w.kind !== 'paused');
      return patchRun(next, run, { status: humanWaits(waitingOn) ? 'waiting' : 'running', waitingOn });
    }
    case 'PhaseRetryScheduled': {
      if (!run) return next;
      const phaseId = str(d.phaseId);
      const retry: OverviewWait = { kind: 'retry', phaseId, phaseName: phaseId ? phaseNameOf(next, runId, phaseId) : null, message: 'Retry scheduled', at: str(d.notBefore) };
      return patchRun(next, run, { waitingOn: [...run.waitingOn.filter((w) => !(w.kind === 'retry' && w.phaseId === phaseId)), retry], running: run.running.filter((p) => p.phaseId !== phaseId) });
    }
    default:
      return next;
  }
}

/** Fold events in order (those the view already holds are skipped). */
export function foldOverview(view: OverviewView, events: readonly SocketEvent[]): OverviewView {
  return events.reduce(patchOverview, view);
}

function addSpend(view: OverviewView, run: OverviewRun | undefined, event: SocketEvent, costUsd: number): OverviewView {
  if (costUsd === 0) return view;
  const at = Date.parse(event.occurredAt);
  const within = (w: { from: string; to: string }) => at >= Date.parse(w.from) && at < Date.parse(w.to);
  const { today, month, budgets } = view.spend;
  const inMonth = within(month);
  const spend = {
    today: within(today) ? { ...today, costUsd: today.costUsd + costUsd } : today,
    month: inMonth ? { ...month, costUsd: month.costUsd + costUsd } : month,
    budgets: inMonth
      ? {
          global: { ...budgets.global, spentUsd: budgets.global.spentUsd + costUsd },
          templates: budgets.templates.map((t) => (run && t.templateId === run.templateId ? { ...t, spentUsd: t.spentUsd + costUsd } : t)),
        }
      : budgets,
  };
  const patched = { ...view, spend };
  return run ? patchRun(patched, run, { costUsd: run.costUsd + costUsd }) : patched;
}

function patchRun(view: OverviewView, run: OverviewRun, change: Partial<OverviewRun>): OverviewView {
  const updated = { ...run, ...change };
  const active = view.runs.active.map((r) => (r.id === run.id ? updated : r));
  const delta = updated.status === run.status ? {} : { [run.status]: -1, [updated.status]: 1 };
  return withRuns(view, active, { delta });
}

/** The run left the active set (completed, failed, cancelled): it leads the recently finished ones. */
function settle(view: OverviewView, run: OverviewRun, status: RunStatus, at: string): OverviewView {
  const { id, name, templateId, templateName, startedAt, costUsd } = run;
  const recent = [{ id, name, templateId, templateName, startedAt, costUsd, status, completedAt: at }, ...view.runs.recent.filter((r) => r.id !== id)].slice(0, RECENT_SHOWN);
  const next = withRuns(
    view,
    view.runs.active.filter((r) => r.id !== id),
    { delta: { [run.status]: -1 } },
  );
  return { ...next, runs: { ...next.runs, recent } };
}

function withRuns(view: OverviewView, active: OverviewRun[], change: { total?: number; delta: Partial<Record<RunStatus, number>> }): OverviewView {
  const counts = { ...view.runs.counts };
  for (const [status, n] of Object.entries(change.delta) as [RunStatus, number][]) {
    if (ACTIVE.has(status)) counts[status as keyof typeof counts] = Math.max(0, counts[status as keyof typeof counts] + n);
  }
  return { ...view, runs: { ...view.runs, total: change.total ?? view.runs.total, counts, active } };
}

function addWait(view: OverviewView, run: OverviewRun, wait: { kind: OverviewWait['kind']; phaseId: string | null; message: string }): OverviewView {
  const full: OverviewWait = { ...wait, phaseName: wait.phaseId ? phaseNameOf(view, run.id, wait.phaseId) : null, at: null };
  const waitingOn = [...run.waitingOn.filter((w) => !(w.kind === wait.kind && w.phaseId === wait.phaseId)), full];
  return patchRun(view, run, {
    waitingOn,
    status: run.status === 'paused' ? 'paused' : 'waiting',
    running: wait.phaseId ? run.running.filter((p) => p.phaseId !== wait.phaseId) : run.running,
  });
}

/**
 * A human answered. `resumes`: the phases answered work again (a gate's decision or the answers
 * go back to the phase, as the read model has them `running`); a continue starts them later.
 */
function removeWaits(view: OverviewView, run: OverviewRun, drop: (w: OverviewWait) => boolean, at: string, resumes: boolean): OverviewView {
  const dropped = run.waitingOn.filter(drop);
  if (dropped.length === 0) return view;
  const waitingOn = run.waitingOn.filter((w) => !drop(w));
  const status: RunStatus = run.status === 'paused' ? 'paused' : humanWaits(waitingOn) ? 'waiting' : 'running';
  const back = resumes ? dropped.filter((w) => w.phaseId !== null && !run.running.some((p) => p.phaseId === w.phaseId)).map((w) => ({ phaseId: w.phaseId!, phaseName: w.phaseName, kind: '', startedAt: at })) : [];
  return patchRun(view, run, { waitingOn, status, running: [...run.running, ...back] });
}

const humanWaits = (waits: readonly OverviewWait[]) => waits.some((w) => w.kind === 'gate' || w.kind === 'questions' || w.kind === 'continue');

/** A phase's name as the view already knows it (from its running phases or waits), else null. */
function phaseNameOf(view: OverviewView, runId: string, phaseId: string): string | null {
  const run = view.runs.active.find((r) => r.id === runId);
  const fromRun = run?.running.find((p) => p.phaseId === phaseId)?.phaseName ?? run?.waitingOn.find((w) => w.phaseId === phaseId)?.phaseName;
  return fromRun ?? view.failures.find((f) => f.runId === runId && f.phaseId === phaseId)?.phaseName ?? null;
}

/** The fleet at a glance: workers up (reporting, not draining), busy, in flight, stalled. */
export interface FleetHealth {
  workers: number;
  up: number;
  busy: number;
  inFlight: number;
  stalled: number;
}

export function fleetHealth(workers: readonly WorkerView[], now: number): FleetHealth {
  let up = 0;
  let busy = 0;
  let inFlight = 0;
  let stalled = 0;
  for (const w of workers) {
    const status = effectiveStatus(w, now);
    if (status === 'stalled') stalled++;
    if (status === 'idle' || status === 'busy') up++;
    if (status === 'busy') busy++;
    if (status !== 'stopped' && status !== 'stalled') inFlight += w.inFlight;
  }
  return { workers: workers.length, up, busy, inFlight, stalled };
}
