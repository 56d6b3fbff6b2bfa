import type { ServiceMetrics } from './catalog';

/** What the observer reads of an appended event (a Recorded run event). */
interface AppendedEvent {
  type: string;
  occurredAt: string;
  data: unknown;
}

/** What the observer reads of the run after the append (the orchestrator's RunState when active). */
interface RunShape {
  status?: string;
  templateId?: string;
  template?: { phases: readonly { id: string; kind: string }[] };
}

/** phase starts remembered at most (runs that never end are forgotten oldest first) */
const MAX_RUNS = 10_000;

/**
 * Runs and phases as the orchestrator appends them: runs started / completed / failed / cancelled
 * by template, and each phase attempt's duration by kind (PhaseStarted → PhaseCompleted or
 * PhaseFailed of the same attempt). Called right after each append with what it appended, so
 * every fact is counted once by the replica that decided it; a phase whose start another
 * replica (or this process before a restart) appended is not timed.
 */
export class RunObserver {
  private readonly started = new Map<string, Map<string, number>>();

  constructor(private readonly metrics: ServiceMetrics) {}

  observe(runId: string, appended: readonly AppendedEvent[], run: RunShape): void {
    for (const e of appended) {
      switch (e.type) {
        case 'RunStarted':
          this.metrics.runStarted((e.data as { templateId: string }).templateId);
          break;
        case 'PhaseStarted':
          this.phases(runId).set((e.data as { phaseId: string }).phaseId, Date.parse(e.occurredAt));
          break;
        case 'PhaseCompleted':
        case 'PhaseFailed': {
          const phaseId = (e.data as { phaseId: string }).phaseId;
          const since = this.started.get(runId)?.get(phaseId);
          if (since === undefined) break;
          this.started.get(runId)!.delete(phaseId);
          const kind = run.template?.phases.find((p) => p.id === phaseId)?.kind ?? 'unknown';
          this.metrics.phaseEnded(kind, e.type === 'PhaseCompleted' ? 'completed' : 'failed', Math.max(0, Date.parse(e.occurredAt) - since) / 1000);
          break;
        }
        case 'RunCompleted':
        case 'RunFailed':
        case 'RunCancelled':
          this.started.delete(runId);
          this.metrics.runEnded(run.templateId ?? 'unknown', e.type === 'RunCompleted' ? 'completed' : e.type === 'RunFailed' ? 'failed' : 'cancelled');
          break;
      }
    }
  }

  private phases(runId: string): Map<string, number> {
    let phases = this.started.get(runId);
    if (!phases) {
      if (this.started.size >= MAX_RUNS) this.started.delete(this.started.keys().next().value!);
      phases = new Map();
      this.started.set(runId, phases);
    }
    return phases;
  }
}
