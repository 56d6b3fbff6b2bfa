import type { Recorded, TraceContext } from '@conclave/contracts';
import { contractsHeaders } from '@conclave/event-log';
import { derivedSpanId, injectTrace, recordSpan, tracingEnabled } from '@conclave/service-kit';
import { isActive, type RunState } from '../domain';

/**
 * A run's trace (issue 14 §3). The run's root span context is made when the run starts and recorded
 * in RunStarted; a phase attempt's span id is derived from it (`derivedSpanId(trace, 'phase', id,
 * attempt)`), so any process finds it from the log alone. Work commands carry their phase's span
 * as W3C `traceparent` in their NATS headers (the workers' spans are its children); a phase's span
 * is emitted when the attempt ends and the run's when the run settles, each under its recorded id
 * and with the start time this process saw. A run lasting hours therefore holds no span open: its
 * context lives in the log, and spans are made per step with that parent.
 *
 * Caveat: a start this process did not see (it restarted, or another replica started the phase)
 * is unknown; the span is then emitted with no duration and `conclave.start_unknown`.
 *
 * Tracing off (or a run started while it was off): every function here returns at its first line.
 */
const SERVICE = 'orchestrator';
/** runs whose trace this process knows (bounded; the oldest are forgotten first) */
const MAX_RUNS = 20_000;

interface TracedRun {
  trace: TraceContext;
  /** when this process saw the run start, if it did */
  startedAt?: number;
  /** open phase attempts (`phaseId\0attempt`) → when they started */
  phases: Map<string, number>;
}
const runs = new Map<string, TracedRun>();

/** The span of a phase attempt (the parent of its candidates', judges' and tool's spans). */
export function phaseSpan(trace: TraceContext, phaseId: string, attempt: number): TraceContext {
  return { traceId: trace.traceId, spanId: derivedSpanId(trace.traceId, 'phase', phaseId, attempt) };
}

/** Remember a run's trace as the repository knows the run (every load and decision). */
export function noteRunTrace(runId: string, state: RunState): TracedRun | undefined {
  if (!tracingEnabled() || !isActive(state) || !state.trace) return undefined;
  let run = runs.get(runId);
  if (!run) {
    runs.set(runId, (run = { trace: state.trace, phases: new Map() }));
    if (runs.size > MAX_RUNS) runs.delete(runs.keys().next().value!);
  }
  return run;
}

/**
 * Headers of a work command: the contracts fingerprint and, when the run is traced, `traceparent`
 * naming its phase attempt's span (a run-wide workspace task: the run's span).
 */
export function commandHeaders(payload: unknown): ReturnType<typeof contractsHeaders> {
  const headers = contractsHeaders();
  if (!tracingEnabled()) return headers;
  const { runId, phaseId, attempt } = payload as { runId?: string; phaseId?: string; attempt?: number };
  const run = runId === undefined ? undefined : runs.get(runId);
  if (!run) return headers;
  return injectTrace(headers, phaseId && attempt ? phaseSpan(run.trace, phaseId, attempt) : run.trace);
}

/** After a decision's commit: emit the spans of the phase attempts and the run it ended. */
export function traceAppended(runId: string, appended: readonly Recorded[], state: RunState): void {
  const run = noteRunTrace(runId, state);
  if (!run || !isActive(state)) return;
  const endPhase = (phaseId: string, attempt: number, at: number, status: string, error: string | null, always: boolean) => {
    const key = `${phaseId}\u0000${attempt}`;
    const started = run.phases.get(key);
    if (started === undefined && !always) return;
    run.phases.delete(key);
    recordSpan(SERVICE, `phase ${phaseId}`, {
      ids: phaseSpan(run.trace, phaseId, attempt),
      parent: run.trace,
      startTime: started ?? at,
      endTime: at,
      error,
      attributes: {
        'conclave.run_id': runId,
        'conclave.phase_id': phaseId,
        'conclave.phase.kind': state.template.phases.find((p) => p.id === phaseId)?.kind ?? 'unknown',
        'conclave.phase.attempt': attempt,
        'conclave.phase.status': status,
        ...(started === undefined ? { 'conclave.start_unknown': true } : {}),
      },
    });
  };
  for (const e of appended) {
    const at = Date.parse(e.occurredAt);
    switch (e.type) {
      case 'RunStarted':
        run.startedAt = at;
        break;
      case 'PhaseStarted':
        run.phases.set(`${e.data.phaseId}\u0000${e.data.attempt}`, at);
        break;
      case 'PhaseCompleted':
        endPhase(e.data.phaseId, e.data.attempt, at, 'completed', null, true);
        break;
      case 'PhaseFailed':
        endPhase(e.data.phaseId, e.data.attempt, at, 'failed', e.data.reason.message, true);
        break;
      case 'PhaseSkipped': {
        const attempt = state.phases[e.data.phaseId]?.attempt ?? 0;
        if (attempt > 0) endPhase(e.data.phaseId, attempt, at, 'skipped', null, false);
        break;
      }
      case 'PhaseRetryScheduled':
        // the attempt before it was abandoned (a timeout) unless its PhaseFailed already ended it
        endPhase(e.data.phaseId, e.data.attempt - 1, at, `abandoned (${e.data.cause})`, null, false);
        break;
      case 'RolledBack':
        for (const phaseId of e.data.resetPhaseIds) for (const key of [...run.phases.keys()]) if (key.startsWith(`${phaseId}\u0000`)) endPhase(phaseId, Number(key.split('\u0000')[1]), at, 'rolled back', null, false);
        break;
      case 'RunCompleted':
      case 'RunFailed':
      case 'RunCancelled': {
        const status = e.type === 'RunCompleted' ? 'completed' : e.type === 'RunFailed' ? 'failed' : 'cancelled';
        for (const key of [...run.phases.keys()]) {
          const [phaseId, attempt] = key.split('\u0000') as [string, string];
          endPhase(phaseId, Number(attempt), at, status, null, false);
        }
        recordSpan(SERVICE, `run ${state.template.name}`, {
          ids: run.trace,
          parent: null,
          startTime: run.startedAt ?? at,
          endTime: at,
          error: e.type === 'RunFailed' ? e.data.reason.message : null,
          attributes: {
            'conclave.run_id': runId,
            'conclave.template_id': state.templateId,
            'conclave.template_version': state.templateVersion,
            'conclave.run.status': status,
            ...(run.startedAt === undefined ? { 'conclave.start_unknown': true } : {}),
          },
        });
        runs.delete(runId);
        break;
      }
      default:
        break;
    }
  }
}
