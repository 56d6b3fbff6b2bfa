import type {
  CandidateScore,
  Failure,
  PhaseStatus,
  Recorded,
  ResolvedOutput,
  RunEvent,
  RunStatus,
  Template,
} from '@conclave/contracts';

/**
 * The run aggregate as the orchestrator sees it: everything needed to decide, nothing more.
 * Rebuilt by folding the run's events (evolve); never persisted on its own.
 */
export interface CandidateState {
  id: string;
  slot: number;
  round: number;
  provider: string;
  model: string;
  status: 'requested' | 'generated' | 'failed' | 'rejected';
  attemptToken: string;
  output?: unknown;
  resolvedOutput: ResolvedOutput;
  error?: Failure;
}

export interface JudgeState {
  id: string;
  round: number;
  purpose: 'select' | 'evaluate';
  status: 'requested' | 'scored';
  attemptToken: string;
  winnerId?: string;
  scores?: Record<string, CandidateScore>;
  rationale?: string;
}

export interface PhaseState {
  id: string;
  status: PhaseStatus;
  /** 0 until the phase first starts */
  attempt: number;
  /** candidates and judges of the current attempt only */
  candidates: CandidateState[];
  judges: JudgeState[];
  artifactId: string | null;
  /** the recorded artifact content: what later phases bind as {{phases.<id>.output}} */
  output?: unknown;
  error?: Failure;
}

export interface ActiveRun {
  status: RunStatus;
  runId: string;
  templateId: string;
  templateVersion: number;
  template: Template;
  inputs: Record<string, unknown>;
  autoMode: boolean;
  budgetUsd: number | null;
  phases: Record<string, PhaseState>;
}

export type RunState = { status: 'empty' } | ActiveRun;

export const initialRunState = (): RunState => ({ status: 'empty' });

export function isActive(state: RunState): state is ActiveRun {
  return state.status !== 'empty';
}

type Data<T extends RunEvent['type']> = Extract<RunEvent, { type: T }>['data'];
/** A run event without its envelope: what evolve needs (decided events have no envelope yet). */
export type RunFact = { [K in RunEvent['type']]: { type: K; data: Data<K> } }[RunEvent['type']];

/** Fold one event into the state. Pure; unknown-to-the-run events leave it unchanged. */
export function evolve(state: RunState, event: RunFact): RunState {
  if (event.type === 'RunStarted') {
    const d = event.data;
    return {
      status: 'running',
      runId: d.runId,
      templateId: d.templateId,
      templateVersion: d.templateVersion,
      template: d.template,
      inputs: d.inputs,
      autoMode: d.autoMode,
      budgetUsd: d.budgetUsd,
      phases: Object.fromEntries(
        d.template.phases.map((p) => [p.id, { id: p.id, status: 'pending', attempt: 0, candidates: [], judges: [], artifactId: null } satisfies PhaseState]),
      ),
    };
  }
  if (!isActive(state)) return state;
  const withPhase = (phaseId: string, change: (p: PhaseState) => PhaseState): RunState => {
    const phase = state.phases[phaseId];
    return phase ? { ...state, phases: { ...state.phases, [phaseId]: change(phase) } } : state;
  };
  const withCandidate = (phaseId: string, candidateId: string, change: (c: CandidateState) => CandidateState) =>
    withPhase(phaseId, (p) => ({ ...p, candidates: p.candidates.map((c) => (c.id === candidateId ? change(c) : c)) }));

  switch (event.type) {
    case 'PhaseStarted': {
      const d = event.data;
      return withPhase(d.phaseId, (p) => ({ ...p, status: 'running', attempt: d.attempt, candidates: [], judges: [], artifactId: null, output: undefined, error: undefined }));
    }
    case 'CandidateRequested': {
      const d = event.data;
      return withPhase(d.phaseId, (p) =>
        p.attempt !== d.attempt || p.candidates.some((c) => c.id === d.candidateId)
          ? p
          : {
              ...p,
              candidates: [
                ...p.candidates,
                { id: d.candidateId, slot: d.slot, round: d.round, provider: d.provider, model: d.model, status: 'requested', attemptToken: d.attemptToken, resolvedOutput: d.output },
              ],
            },
      );
    }
    case 'CandidateGenerated': {
      const d = event.data;
      return withCandidate(d.phaseId, d.candidateId, (c) => ({ ...c, status: 'generated', output: d.output }));
    }
    case 'CandidateFailed': {
      const d = event.data;
      return withCandidate(d.phaseId, d.candidateId, (c) => ({ ...c, status: 'failed', error: d.error }));
    }
    case 'OutputRejected': {
      const d = event.data;
      return withCandidate(d.phaseId, d.candidateId, (c) => ({
        ...c,
        status: 'rejected',
        output: d.raw,
        error: { code: 'output_rejected', message: d.errors.join('; '), retryable: false },
      }));
    }
    case 'JudgeRequested': {
      const d = event.data;
      return withPhase(d.phaseId, (p) =>
        p.attempt !== d.attempt || p.judges.some((j) => j.id === d.judgeId)
          ? p
          : { ...p, judges: [...p.judges, { id: d.judgeId, round: d.round, purpose: d.purpose, status: 'requested', attemptToken: d.attemptToken }] },
      );
    }
    case 'VerdictRecorded': {
      const d = event.data;
      return withPhase(d.phaseId, (p) => ({
        ...p,
        judges: p.judges.map((j) => (j.id === d.judgeId ? { ...j, status: 'scored', winnerId: d.winnerId, scores: d.scores, rationale: d.rationale } : j)),
      }));
    }
    case 'ArtifactRecorded': {
      const d = event.data;
      return withPhase(d.phaseId, (p) => ({ ...p, artifactId: d.artifactId, output: d.content }));
    }
    case 'PhaseCompleted': {
      const d = event.data;
      return withPhase(d.phaseId, (p) => ({ ...p, status: 'completed' }));
    }
    case 'PhaseFailed': {
      const d = event.data;
      return withPhase(d.phaseId, (p) => ({ ...p, status: 'failed', error: d.reason }));
    }
    case 'PhaseSkipped': {
      const d = event.data;
      return withPhase(d.phaseId, (p) => ({ ...p, status: 'skipped' }));
    }
    case 'RunCompleted':
      return { ...state, status: 'completed' };
    case 'RunFailed':
      return { ...state, status: 'failed' };
    default: {
      const never: never = event;
      void never;
      return state;
    }
  }
}

/** Fold a run's recorded events (template events never reach a run stream). */
export function foldRun(events: Recorded[], from: RunState = initialRunState()): RunState {
  return events.reduce((s, e) => evolve(s, e as RunFact), from);
}
