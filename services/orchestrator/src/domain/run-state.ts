import type {
  CandidateScore,
  EventData,
  Failure,
  PhaseStatus,
  Recorded,
  ResolvedOutput,
  RunEvent,
  RunStatus,
} from '@conclave/contracts';
import type { BudgetDecision } from './budget-policy';

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
  /** transient failures retried so far (CandidateFailed with `retry`) */
  retries?: number;
  /** set while a retry waits for its time: the candidate stays outstanding, its failed token is spent */
  retryAt?: string;
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
  /** ISO time after which the current attempt is abandoned */
  deadline?: string;
  /** model override of the current (or scheduled) attempt */
  override?: { provider: string; model: string } | null;
  /** a scheduled retry: start `attempt` at `notBefore` */
  retry?: { attempt: number; notBefore: string; override: { provider: string; model: string } | null };
  /** candidates and judges of the current attempt only */
  candidates: CandidateState[];
  judges: JudgeState[];
  artifactId: string | null;
  /** the recorded artifact content: what later phases bind as {{phases.<id>.output}} */
  output?: unknown;
  error?: Failure;
  gate?: 'open' | 'approved' | 'rejected';
  gateComment?: string | null;
  questions?: { id: string; question: string; why?: string }[];
  answers?: { question: string; answer: string }[];
  /** an output a user accepted (after a rejection), or one reused by a fork */
  accepted?: { candidateId: string | null; output: unknown };
  conditionResult?: boolean;
  /** agent phases of a run with a workspace: putting the winner on the run branch */
  integration?: { attemptToken: string; candidateId: string; status: 'requested' | 'integrated' | 'failed'; commit?: string; error?: Failure; conflicts?: string[] };
  /** a tool phase's run of its program */
  tool?: { attemptToken: string; status: 'requested' | 'completed' | 'failed'; result?: { exitCode: number; stdout: string; stderr: string }; error?: Failure };
}

export interface Checkpoint {
  id: string;
  phaseId: string;
  completedPhaseIds: string[];
  /** the run branch's tip at the checkpoint (runs with a workspace) */
  commit?: string;
}

/** What a run starts from (RunStarted without its origin): the decider's StartRun input and the run state both carry it. */
export type RunStart = Omit<EventData<'RunStarted'>, 'origin'>;

export interface ActiveRun extends RunStart {
  status: RunStatus;
  phases: Record<string, PhaseState>;
  /** phases held for a manual `continue`, and those the user let go */
  awaitingContinue: string[];
  continued: string[];
  checkpoints: Checkpoint[];
  /** results refused as stale, by command id (recorded once) */
  refused: string[];
  /** settled cost of generated candidates and verdicts */
  spentUsd: number;
  /** budget alert thresholds already raised (50, 80, 100) */
  budgetAlerts: number[];
  /** the budget policy's rules fired so far (BudgetPolicyApplied), in order */
  budgetDecisions: BudgetDecision[];
  /** consecutive retryable failures per provider since its last success or the last resume */
  providerFailures: Record<string, number>;
  /** runs with a workspace: the run branch's tip as the log knows it */
  head?: string;
  /** the commits put on the run branch, in order (forks find the commit at their fork point) */
  integrations: { phaseId: string; commit: string }[];
  /** candidates whose partial work (cancelled / timed out) is recorded */
  partials: string[];
}

export type RunState = { status: 'empty' } | ActiveRun;

export const initialRunState = (): RunState => ({ status: 'empty' });

export function isActive(state: RunState): state is ActiveRun {
  return state.status !== 'empty';
}

type Data<T extends RunEvent['type']> = Extract<RunEvent, { type: T }>['data'];
/** A run event without its envelope: what evolve needs (decided events have no envelope yet). */
export type RunFact = { [K in RunEvent['type']]: { type: K; data: Data<K> } }[RunEvent['type']];

const settled = (p: PhaseState) => p.status === 'completed' || p.status === 'skipped';

/** running vs waiting: a run waits while a human owes it something and nothing else moves. */
function withLiveStatus(run: ActiveRun): ActiveRun {
  if (run.status !== 'running' && run.status !== 'waiting') return run;
  const phases = Object.values(run.phases);
  const humanOwed = phases.some((p) => p.status === 'waiting') || run.awaitingContinue.length > 0;
  const moving = phases.some((p) => p.status === 'running');
  return { ...run, status: humanOwed && !moving ? 'waiting' : 'running' };
}

/** A failed run comes back to life when the user retries, skips or accepts its failed phase. */
function revive(run: ActiveRun): ActiveRun {
  return run.status === 'failed' ? { ...run, status: 'running' } : run;
}

/** Fold one event into the state. Pure. */
export function evolve(state: RunState, event: RunFact): RunState {
  if (event.type === 'RunStarted') {
    const d = event.data;
    return {
      status: 'running',
      runId: d.runId,
      templateId: d.templateId,
      templateVersion: d.templateVersion,
      template: d.template,
      name: d.name,
      inputs: d.inputs,
      autoMode: d.autoMode,
      budgetUsd: d.budgetUsd,
      ...(d.workspace ? { workspace: d.workspace, head: d.workspace.baseCommit } : {}),
      ...(d.trace ? { trace: d.trace } : {}),
      ...(d.budgetPolicy ? { budgetPolicy: d.budgetPolicy } : {}),
      integrations: [],
      partials: [],
      phases: Object.fromEntries(
        d.template.phases.map((p) => [p.id, { id: p.id, status: 'pending', attempt: 0, candidates: [], judges: [], artifactId: null } satisfies PhaseState]),
      ),
      awaitingContinue: [],
      continued: [],
      checkpoints: [],
      refused: [],
      spentUsd: 0,
      budgetAlerts: [],
      budgetDecisions: [],
      providerFailures: {},
    };
  }
  if (!isActive(state)) return state;
  const next = apply(state, event);
  return next === state ? state : withLiveStatus(next);
}

function withPhaseOf(run: ActiveRun, phaseId: string, change: (p: PhaseState) => PhaseState): ActiveRun {
  const phase = run.phases[phaseId];
  return phase ? { ...run, phases: { ...run.phases, [phaseId]: change(phase) } } : run;
}

function apply(state: ActiveRun, event: RunFact): ActiveRun {
  const withPhase = (phaseId: string, change: (p: PhaseState) => PhaseState): ActiveRun => withPhaseOf(state, phaseId, change);
  const withCandidate = (phaseId: string, candidateId: string, change: (c: CandidateState) => CandidateState) =>
    withPhase(phaseId, (p) => ({ ...p, candidates: p.candidates.map((c) => (c.id === candidateId ? change(c) : c)) }));

  switch (event.type) {
    case 'RunStarted':
      return state; // handled by evolve: a second RunStarted on a stream changes nothing
    case 'PhaseStarted': {
      const d = event.data;
      return withPhase(d.phaseId, (p) => ({
        id: p.id,
        status: 'running',
        attempt: d.attempt,
        deadline: d.deadline,
        override: d.override ?? p.retry?.override ?? null,
        candidates: [],
        judges: [],
        artifactId: null,
        accepted: p.accepted && p.attempt === 0 ? p.accepted : undefined, // a fork's reused output
      }));
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
    case 'CandidateRedispatched': {
      const d = event.data;
      return withCandidate(d.phaseId, d.candidateId, (c) => ({ ...c, status: 'requested', attemptToken: d.attemptToken, error: undefined, retryAt: undefined }));
    }
    case 'CandidateGenerated': {
      const d = event.data;
      const provider = state.phases[d.phaseId]?.candidates.find((c) => c.id === d.candidateId)?.provider;
      const next = withCandidate(d.phaseId, d.candidateId, (c) => ({ ...c, status: 'generated', output: d.output }));
      return { ...next, spentUsd: next.spentUsd + d.costUsd, providerFailures: provider ? { ...next.providerFailures, [provider]: 0 } : next.providerFailures };
    }
    case 'CandidateFailed': {
      const d = event.data;
      const provider = state.phases[d.phaseId]?.candidates.find((c) => c.id === d.candidateId)?.provider;
      // a failure with `retry` keeps the candidate outstanding until its re-dispatch
      const charged = withCandidate(d.phaseId, d.candidateId, (c) =>
        d.retry ? { ...c, status: 'requested', error: d.error, retries: d.retry.number, retryAt: d.retry.notBefore } : { ...c, status: 'failed', error: d.error, retryAt: undefined },
      );
      const next = { ...charged, spentUsd: charged.spentUsd + (d.costUsd ?? 0) };
      // a candidate dropped after its own retries counts once; a try that will be retried does not
      const providerTrouble = provider && !d.retry && d.error.retryable && d.error.code !== 'timeout' && d.error.code !== 'cancelled';
      return providerTrouble ? { ...next, providerFailures: { ...next.providerFailures, [provider]: (next.providerFailures[provider] ?? 0) + 1 } } : next;
    }
    case 'OutputRejected': {
      const d = event.data;
      const next = withCandidate(d.phaseId, d.candidateId, (c) => ({
        ...c,
        status: 'rejected',
        output: d.raw,
        error: { code: 'output_rejected', message: d.errors.join('; '), retryable: false },
      }));
      return { ...next, spentUsd: next.spentUsd + (d.costUsd ?? 0) };
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
      const paid = { ...state, spentUsd: state.spentUsd + d.costUsd };
      return withPhaseOf(paid, d.phaseId, (p) => ({
        ...p,
        judges: p.judges.map((j) => (j.id === d.judgeId ? { ...j, status: 'scored', winnerId: d.winnerId, scores: d.scores, rationale: d.rationale } : j)),
      }));
    }
    case 'ArtifactRecorded': {
      const d = event.data;
      if (d.artifactType === 'candidate-diff') return state; // a loser's work, kept beside the phase's artifact
      return withPhase(d.phaseId, (p) => ({ ...p, artifactId: d.artifactId, output: d.content }));
    }
    case 'PhaseCompleted':
      return withPhase(event.data.phaseId, (p) => ({ ...p, status: 'completed', retry: undefined }));
    case 'PhaseFailed': {
      const d = event.data;
      return withPhase(d.phaseId, (p) => ({ ...p, status: 'failed', error: d.reason }));
    }
    case 'PhaseSkipped': {
      const next = withPhase(event.data.phaseId, (p) => ({ ...p, status: 'skipped', retry: undefined }));
      return Object.values(next.phases).some((p) => p.status === 'failed') ? next : revive(next);
    }
    case 'PhaseRetryScheduled': {
      const d = event.data;
      return revive(withPhase(d.phaseId, (p) => ({ ...p, status: 'pending', error: undefined, retry: { attempt: d.attempt, notBefore: d.notBefore, override: d.override } })));
    }
    case 'OutputAccepted': {
      const d = event.data;
      return revive(withPhase(d.phaseId, (p) => ({ ...p, status: 'running', error: undefined, accepted: { candidateId: d.candidateId, output: d.output } })));
    }
    case 'GateOpened':
      return withPhase(event.data.phaseId, (p) => ({ ...p, status: 'waiting', gate: 'open' }));
    case 'GateApproved':
      return withPhase(event.data.phaseId, (p) => ({ ...p, status: 'running', gate: 'approved', gateComment: event.data.comment }));
    case 'GateRejected':
      return withPhase(event.data.phaseId, (p) => ({ ...p, status: 'running', gate: 'rejected', gateComment: event.data.comment }));
    case 'QuestionsAsked':
      return withPhase(event.data.phaseId, (p) => ({ ...p, status: 'waiting', questions: event.data.questions }));
    case 'AnswersSubmitted':
      return withPhase(event.data.phaseId, (p) => ({ ...p, status: 'running', answers: event.data.answers }));
    case 'ConditionEvaluated':
      return withPhase(event.data.phaseId, (p) => ({ ...p, conditionResult: event.data.result }));
    case 'ContinueRequired':
      return { ...state, awaitingContinue: [...new Set([...state.awaitingContinue, ...event.data.phaseIds])] };
    case 'RunContinued':
      return {
        ...state,
        awaitingContinue: state.awaitingContinue.filter((id) => !event.data.phaseIds.includes(id)),
        continued: [...new Set([...state.continued, ...event.data.phaseIds])],
      };
    case 'RunPaused':
      return { ...state, status: 'paused' };
    case 'RunResumed':
      return { ...state, status: 'running', providerFailures: {} }; // resume retries the providers
    case 'RunCancelled':
      return { ...state, status: 'cancelled' };
    case 'CheckpointCreated': {
      const d = event.data;
      return state.checkpoints.some((c) => c.id === d.checkpointId)
        ? state
        : { ...state, checkpoints: [...state.checkpoints, { id: d.checkpointId, phaseId: d.phaseId, completedPhaseIds: d.completedPhaseIds, ...(d.commit ? { commit: d.commit } : {}) }] };
    }
    case 'RolledBack': {
      let next: ActiveRun = {
        ...state,
        status: state.status === 'paused' ? 'paused' : 'running',
        awaitingContinue: [],
        continued: [],
        ...(event.data.commit ? { head: event.data.commit } : {}),
        integrations: state.integrations.filter((i) => !event.data.resetPhaseIds.includes(i.phaseId)),
      };
      for (const id of event.data.resetPhaseIds) {
        const p = next.phases[id];
        if (p) next = { ...next, phases: { ...next.phases, [id]: { id, status: 'pending', attempt: p.attempt, candidates: [], judges: [], artifactId: null } } };
      }
      return next;
    }
    case 'RunForked': {
      let next = state;
      for (const r of event.data.reused) {
        const p = next.phases[r.phaseId];
        if (p) next = { ...next, phases: { ...next.phases, [r.phaseId]: { ...p, accepted: { candidateId: null, output: r.content } } } };
      }
      return next;
    }
    case 'ToolRunRequested':
      return withPhase(event.data.phaseId, (p) => (p.attempt === event.data.attempt ? { ...p, tool: { attemptToken: event.data.attemptToken, status: 'requested' } } : p));
    case 'ToolRunCompleted': {
      const { exitCode, stdout, stderr } = event.data;
      return withPhase(event.data.phaseId, (p) => (p.tool ? { ...p, tool: { ...p.tool, status: 'completed', result: { exitCode, stdout, stderr } } } : p));
    }
    case 'ToolRunFailed':
      return withPhase(event.data.phaseId, (p) => (p.tool ? { ...p, tool: { ...p.tool, status: 'failed', error: event.data.error } } : p));
    case 'IntegrationRequested': {
      const d = event.data;
      return withPhase(d.phaseId, (p) => (p.attempt === d.attempt ? { ...p, integration: { attemptToken: d.attemptToken, candidateId: d.candidateId, status: 'requested' } } : p));
    }
    case 'ChangesIntegrated': {
      const d = event.data;
      const phase = state.phases[d.phaseId];
      if (!phase || phase.attempt !== d.attempt || phase.integration?.status !== 'requested') return state;
      const next = withPhase(d.phaseId, (p) => ({ ...p, integration: { ...p.integration!, status: 'integrated', commit: d.commit } }));
      return { ...next, head: d.commit, integrations: [...next.integrations, { phaseId: d.phaseId, commit: d.commit }] };
    }
    case 'IntegrationFailed': {
      const d = event.data;
      return withPhase(d.phaseId, (p) =>
        p.attempt === d.attempt && p.integration?.status === 'requested' ? { ...p, integration: { ...p.integration, status: 'failed', error: d.error, conflicts: d.conflicts } } : p,
      );
    }
    case 'PartialWorkRecorded':
      return state.partials.includes(event.data.candidateId) ? state : { ...state, partials: [...state.partials, event.data.candidateId] };
    case 'ResultRefused':
      return { ...state, refused: [...state.refused, event.data.commandId] };
    case 'BudgetRaised':
      return { ...state, budgetUsd: event.data.budgetUsd };
    case 'BudgetAlert':
      return { ...state, budgetAlerts: [...state.budgetAlerts, event.data.thresholdPct] };
    case 'BudgetExceeded':
      return state;
    case 'BudgetPolicyApplied': {
      const d = event.data;
      if (state.budgetDecisions.some((b) => b.ruleIndex === d.ruleIndex)) return state;
      return { ...state, budgetDecisions: [...state.budgetDecisions, { ruleIndex: d.ruleIndex, action: d.action, ...(d.model ? { model: d.model } : {}), phaseIds: d.phaseIds }] };
    }
    case 'RunCompleted':
      return { ...state, status: 'completed' };
    case 'RunFailed':
      return { ...state, status: 'failed' };
    default: {
      const never: never = event;
      throw new Error(`unhandled event ${JSON.stringify(never)}`);
    }
  }
}

export { settled as isSettled };

/** Fold a run's recorded events (template events never reach a run stream). */
export function foldRun(events: Recorded[], from: RunState = initialRunState()): RunState {
  return events.reduce((s, e) => evolve(s, e as RunFact), from);
}
