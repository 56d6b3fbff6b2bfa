import {
  EVENT_DATA,
  ids,
  type BudgetRule,
  type CandidateView,
  type EventData,
  type PhaseView,
  type RunView,
  type SocketEvent,
  type Tokens,
  type ToolCallRecord,
} from '@conclave/contracts';
import { foldLoopArtifact, foldLoopRequested, foldLoopVerdict, resetLoop, roundOfId } from './loop/loop-rounds';
import { pendingPhases } from './pending-phases';
import { foldStory } from './story/fold';

/**
 * The run page's state: a RunView (from REST) with the log's events folded in as they arrive.
 *
 * Guarantees:
 * - pure: no I/O, no clock (times come from the events' `occurredAt`);
 * - idempotent: an event whose sequence is ≤ the view's `sequence` is ignored, so replays,
 *   duplicates (a socket in two rooms, a gap-fill overlapping live events) change nothing;
 * - unchanged input → the same object back (cheap React bail-out).
 * The projector remains the source of truth: a refetched RunView replaces this state whenever it
 * is at least as recent.
 */

export const FOLDED_EVENT_TYPES = [
  'RunStarted',
  'PhaseStarted',
  'CandidateRequested',
  'CandidateGenerated',
  'CandidateFailed',
  'JudgeRequested',
  'VerdictRecorded',
  'ArtifactRecorded',
  'OutputRejected',
  'PhaseCompleted',
  'PhaseFailed',
  'PhaseSkipped',
  'RunCompleted',
  'RunFailed',
  'GateOpened',
  'GateApproved',
  'GateRejected',
  'QuestionsAsked',
  'AnswersSubmitted',
  'ContinueRequired',
  'RunContinued',
  'RunPaused',
  'RunResumed',
  'RunCancelled',
  'PhaseRetryScheduled',
  'OutputAccepted',
  'ConditionEvaluated',
  'CheckpointCreated',
  'RolledBack',
  'RunForked',
  'CandidateRedispatched',
  'ResultRefused',
  'BudgetAlert',
  'BudgetExceeded',
  'BudgetRaised',
  'BudgetPolicyApplied',
  'IntegrationRequested',
  'ChangesIntegrated',
  'IntegrationFailed',
  'PartialWorkRecorded',
] as const;

/**
 * A candidate as the run page holds it: the contract's view plus the agent's audited tool calls
 * (from `CandidateGenerated.toolCalls`; the REST view does not carry them).
 */
export type CandidateWithTools = CandidateView & { toolCalls?: ToolCallRecord[] };
export type FoldedEventType = (typeof FOLDED_EVENT_TYPES)[number];
const FOLDED = new Set<string>(FOLDED_EVENT_TYPES);

export function isFoldedEventType(type: string): type is FoldedEventType {
  return FOLDED.has(type);
}

/** A run event with its data parsed by the contracts' schema. */
export type ParsedRunEvent = {
  [K in FoldedEventType]: { type: K; sequence: number; occurredAt: string; data: EventData<K> };
}[FoldedEventType];

/**
 * What happened to an event:
 * - `applied`: folded in;
 * - `stale`: sequence already seen (duplicate or older) — nothing changed;
 * - `foreign`: belongs to another run — nothing changed;
 * - `unknown`: a type this reducer does not fold (e.g. added to the catalog later) — only the
 *   sequence advanced; the caller should refetch the RunView to pick up its effect;
 * - `invalid`: data does not match the contract — only the sequence advanced (refetch too).
 */
export type FoldOutcome = 'applied' | 'stale' | 'foreign' | 'unknown' | 'invalid';

export function parseRunEvent(event: SocketEvent): ParsedRunEvent | null {
  if (!isFoldedEventType(event.type)) return null;
  const parsed = EVENT_DATA[event.type].safeParse(event.data);
  if (!parsed.success) return null;
  return { type: event.type, sequence: event.sequence, occurredAt: event.occurredAt, data: parsed.data } as ParsedRunEvent;
}

export function foldRunEvent(view: RunView, event: SocketEvent): { view: RunView; outcome: FoldOutcome } {
  if (event.runId !== null && event.runId !== view.id) return { view, outcome: 'foreign' };
  if (event.sequence <= view.sequence) return { view, outcome: 'stale' };
  if (!isFoldedEventType(event.type)) return { view: { ...view, sequence: event.sequence }, outcome: 'unknown' };
  const parsed = parseRunEvent(event);
  if (!parsed) return { view: { ...view, sequence: event.sequence }, outcome: 'invalid' };
  const next = foldStory(view, evolve(view, parsed), parsed);
  // recounted whenever phases change (a commit set, a new attempt, a rollback), as the projector does
  const filesChanged = next.phases === view.phases ? next.filesChanged : countFilesChanged(next.phases);
  return { view: { ...next, filesChanged, sequence: event.sequence }, outcome: 'applied' };
}

export function applyRunEvent(view: RunView, event: SocketEvent): RunView {
  return foldRunEvent(view, event).view;
}

/** Fold a batch in sequence order (a gap-fill page and live events may interleave). */
export function applyRunEvents(view: RunView, events: readonly SocketEvent[]): RunView {
  return [...events].sort((a, b) => a.sequence - b.sequence).reduce(applyRunEvent, view);
}

/** The state of a run no event has touched yet (a reducer-only start, e.g. for tests). */
export function emptyRunView(id: string): RunView {
  return {
    id,
    name: null,
    templateId: '',
    templateVersion: 0,
    templateName: '',
    status: 'running',
    inputs: {},
    phases: [],
    currentPhases: [],
    costUsd: 0,
    tokens: { input: 0, output: 0 },
    startedAt: '',
    completedAt: null,
    sequence: 0,
    error: null,
    pending: { gates: [], questions: [], continue: [] },
    pauseReason: null,
    budgetUsd: null,
    archived: false,
    workspace: null,
    filesChanged: 0,
    parked: null,
  };
}

/* ------------------------------------------------------------------ evolve */

function evolve(view: RunView, event: ParsedRunEvent): RunView {
  switch (event.type) {
    case 'RunStarted': {
      const d = event.data;
      return {
        ...view,
        name: d.name,
        templateId: d.templateId,
        templateVersion: d.templateVersion,
        templateName: d.template.name,
        inputs: d.inputs,
        status: 'running',
        phases: view.phases.length > 0 ? view.phases : pendingPhases(d.template),
        startedAt: event.occurredAt,
        completedAt: null,
        error: null,
        budgetUsd: d.budgetUsd,
        workspace: d.workspace ? { ...d.workspace, head: d.workspace.baseCommit } : (view.workspace ?? null),
        traceId: d.trace?.traceId ?? view.traceId ?? null,
        ...budgetPolicyAtStart(d.budgetPolicy ?? d.template.defaults.budgetPolicy, view),
      };
    }
    case 'PhaseStarted': {
      const { phaseId, attempt } = event.data;
      const next = updatePhase(view, phaseId, (p) => {
        if (attempt < p.attempt) return p;
        const base = attempt > p.attempt ? newAttempt(p, attempt) : p;
        return { ...base, status: 'running', startedAt: event.occurredAt, completedAt: null, error: null };
      });
      return next === view ? view : { ...next, currentPhases: addUnique(next.currentPhases, phaseId) };
    }
    case 'CandidateRequested': {
      const d = event.data;
      return updatePhase(view, d.phaseId, (p) => {
        if (d.attempt < p.attempt) return p;
        const base = d.attempt > p.attempt ? { ...newAttempt(p, d.attempt), status: 'running' as const } : p;
        const existing = base.candidates.find((c) => c.id === d.candidateId);
        const candidate: CandidateView = {
          id: d.candidateId,
          slot: d.slot,
          provider: d.provider,
          model: d.model,
          status: 'requested',
          tokens: existing?.tokens ?? { input: 0, output: 0 },
          costUsd: existing?.costUsd ?? 0,
          durationMs: null,
          error: null,
          round: d.round,
        };
        return foldLoopRequested({ ...base, candidates: upsertCandidate(base.candidates, candidate) }, d);
      });
    }
    case 'CandidateGenerated': {
      const d = event.data;
      let changed = false;
      const next = updatePhase(view, d.phaseId, (p) => {
        if (d.attempt !== p.attempt) return p;
        changed = true;
        const before = p.candidates.find((c) => c.id === d.candidateId) ?? placeholderCandidate(d.candidateId);
        const candidate: CandidateWithTools = {
          ...before,
          status: 'generated',
          output: d.output,
          // added to what its failed tries cost (as the projector does)
          tokens: addTokens(before.tokens, d.tokens),
          costUsd: before.costUsd + d.costUsd,
          durationMs: d.durationMs,
          error: null,
          retry: null,
          ...(d.toolCalls ? { toolCalls: d.toolCalls } : {}),
          ...(d.transcript ? { transcript: d.transcript } : {}),
          ...(d.trace ? { trace: d.trace } : {}),
        };
        return { ...p, candidates: upsertCandidate(p.candidates, candidate), costUsd: p.costUsd + d.costUsd, tokens: addTokens(p.tokens, d.tokens) };
      });
      return changed ? { ...next, costUsd: next.costUsd + d.costUsd, tokens: addTokens(next.tokens, d.tokens) } : next;
    }
    case 'CandidateFailed': {
      const d = event.data;
      // with `retry` this dispatch failed and the candidate stays outstanding until it is re-dispatched
      const retry = d.retry ? { number: d.retry.number, of: d.retry.of, notBefore: d.retry.notBefore } : null;
      return chargeFailedCall(view, d, (c) => ({
        ...c,
        status: retry ? 'requested' : 'failed',
        durationMs: d.durationMs ?? null,
        error: { code: d.error.code, message: d.error.message },
        retry,
        ...(d.transcript ? { transcript: d.transcript } : {}),
        ...(d.trace ? { trace: d.trace } : {}),
      }));
    }
    case 'JudgeRequested':
      // Nothing in RunView records a pending judgement; the phase stays `running`.
      return view;
    case 'VerdictRecorded': {
      const d = event.data;
      let changed = false;
      const next = updatePhase(view, d.phaseId, (p) => {
        if (d.attempt !== p.attempt) return p;
        changed = true;
        const folded: PhaseView = {
          ...p,
          verdict: { winnerId: d.winnerId, scores: d.scores, rationale: d.rationale, missing: d.missing },
          costUsd: p.costUsd + d.costUsd,
          tokens: addTokens(p.tokens, d.tokens),
        };
        return foldLoopVerdict(p, folded, d, event.occurredAt);
      });
      return changed ? { ...next, costUsd: next.costUsd + d.costUsd, tokens: addTokens(next.tokens, d.tokens) } : next;
    }
    case 'ArtifactRecorded': {
      const d = event.data;
      // a losing agent's candidate-diff sits beside the phase's own artifact: only the latter names the winner
      const own = d.artifactId === ids.artifact(view.id, d.phaseId, d.attempt);
      return updatePhase(view, d.phaseId, (p) => (d.attempt !== p.attempt ? p : own ? foldLoopArtifact(p, d) : { ...p, artifactId: d.artifactId }));
    }
    case 'OutputRejected': {
      const d = event.data;
      return chargeFailedCall(view, d, (c) => ({
        ...c,
        status: 'rejected',
        output: d.raw,
        error: { code: 'output_rejected', message: d.errors.join('; ') },
        retry: null,
        ...(d.transcript ? { transcript: d.transcript } : {}),
      }));
    }
    case 'PhaseCompleted': {
      const d = event.data;
      const next = updatePhase(view, d.phaseId, (p) =>
        d.attempt < p.attempt ? p : { ...p, status: 'completed', attempt: d.attempt, completedAt: event.occurredAt, artifactId: d.artifactId ?? p.artifactId, error: null },
      );
      return leavePhase(next, d.phaseId);
    }
    case 'PhaseFailed': {
      const d = event.data;
      const next = updatePhase(view, d.phaseId, (p) =>
        d.attempt < p.attempt
          ? p
          : { ...p, status: 'failed', attempt: d.attempt, completedAt: event.occurredAt, error: { code: d.reason.code, message: d.reason.message } },
      );
      return leavePhase(next, d.phaseId);
    }
    case 'PhaseSkipped': {
      const d = event.data;
      const next = updatePhase(view, d.phaseId, (p) => ({ ...p, status: 'skipped', completedAt: event.occurredAt }));
      return leavePhase(next, d.phaseId);
    }
    case 'RunCompleted':
      return { ...view, status: 'completed', completedAt: event.occurredAt, currentPhases: [], error: null };
    case 'RunFailed': {
      const d = event.data;
      return { ...view, status: 'failed', completedAt: event.occurredAt, currentPhases: [], error: { code: d.reason.code, message: d.reason.message } };
    }
    case 'GateOpened': {
      const d = event.data;
      const next = setPhaseWaiting(view, d.phaseId, d.attempt, event.occurredAt);
      const gates = [...next.pending.gates.filter((g) => g.phaseId !== d.phaseId), { phaseId: d.phaseId, message: d.message }];
      return waitOrRun({ ...next, pending: { ...next.pending, gates } });
    }
    case 'GateApproved':
    case 'GateRejected': {
      const d = event.data;
      const next = updatePhase(view, d.phaseId, (p) => (d.attempt < p.attempt || p.status !== 'waiting' ? p : { ...p, status: 'running' }));
      return waitOrRun({ ...next, pending: { ...next.pending, gates: next.pending.gates.filter((g) => g.phaseId !== d.phaseId) } });
    }
    case 'QuestionsAsked': {
      const d = event.data;
      const next = setPhaseWaiting(view, d.phaseId, d.attempt, event.occurredAt);
      const questions = [...next.pending.questions.filter((q) => q.phaseId !== d.phaseId), { phaseId: d.phaseId, questions: d.questions }];
      return waitOrRun({ ...next, pending: { ...next.pending, questions } });
    }
    case 'AnswersSubmitted': {
      const d = event.data;
      const next = updatePhase(view, d.phaseId, (p) => (d.attempt < p.attempt || p.status !== 'waiting' ? p : { ...p, status: 'running' }));
      return waitOrRun({ ...next, pending: { ...next.pending, questions: next.pending.questions.filter((q) => q.phaseId !== d.phaseId) } });
    }
    case 'ContinueRequired': {
      const ids = event.data.phaseIds;
      return waitOrRun({ ...view, pending: { ...view.pending, continue: [...view.pending.continue.filter((id) => !ids.includes(id)), ...ids] } });
    }
    case 'RunContinued': {
      const ids = event.data.phaseIds;
      return waitOrRun({ ...view, pending: { ...view.pending, continue: view.pending.continue.filter((id) => !ids.includes(id)) } });
    }
    case 'RunPaused':
      return isTerminalStatus(view.status) ? view : { ...view, status: 'paused', pauseReason: event.data.reason };
    case 'RunResumed':
      return view.status !== 'paused' ? { ...view, pauseReason: null } : waitOrRun({ ...view, status: 'running', pauseReason: null });
    case 'RunCancelled': {
      const phases = view.phases.map((p) => (p.status === 'running' || p.status === 'waiting' || p.status === 'pending' ? { ...p, status: 'cancelled' as const } : p));
      return {
        ...view,
        status: 'cancelled',
        completedAt: event.occurredAt,
        currentPhases: [],
        phases,
        pending: { gates: [], questions: [], continue: [] },
        pauseReason: null,
        error: event.data.reason ? { code: 'cancelled', message: event.data.reason } : view.error,
      };
    }
    case 'PhaseRetryScheduled': {
      const d = event.data;
      const next = updatePhase(view, d.phaseId, (p) => ({ ...p, status: 'pending', completedAt: null, error: null }));
      if (next === view) return view;
      // A retry of a failed run's phase brings the run back to life.
      return view.status === 'failed' || view.status === 'completed' ? { ...next, status: 'running', completedAt: null, error: null } : next;
    }
    case 'OutputAccepted': {
      const d = event.data;
      if (!d.candidateId) return view;
      const candidateId = d.candidateId;
      return updatePhase(view, d.phaseId, (p) => {
        if (d.attempt !== p.attempt) return p;
        const c = p.candidates.find((x) => x.id === candidateId) ?? placeholderCandidate(candidateId);
        return { ...p, candidates: upsertCandidate(p.candidates, { ...c, status: 'generated', output: d.output, error: null }) };
      });
    }
    case 'RolledBack': {
      const reset = new Set(event.data.resetPhaseIds);
      const phases = view.phases.map((p) =>
        reset.has(p.id) ? { ...p, status: 'pending' as const, startedAt: null, completedAt: null, candidates: [], verdict: null, artifactId: null, error: null, commit: null, ...resetLoop(p) } : p,
      );
      // the run branch is reset to the checkpoint's commit (absent in runs without a workspace)
      const commit = event.data.commit;
      const workspace = commit !== undefined && view.workspace ? { ...view.workspace, head: commit } : view.workspace;
      return {
        ...view,
        phases,
        workspace,
        status: view.status === 'paused' ? 'paused' : 'running',
        completedAt: null,
        error: null,
        currentPhases: view.currentPhases.filter((id) => !reset.has(id)),
        pending: {
          gates: view.pending.gates.filter((g) => !reset.has(g.phaseId)),
          questions: view.pending.questions.filter((q) => !reset.has(q.phaseId)),
          continue: view.pending.continue.filter((id) => !reset.has(id)),
        },
      };
    }
    case 'CandidateRedispatched': {
      const d = event.data;
      return updatePhase(view, d.phaseId, (p) => {
        if (d.attempt !== p.attempt) return p;
        const c = p.candidates.find((x) => x.id === d.candidateId);
        return c ? { ...p, candidates: upsertCandidate(p.candidates, { ...c, status: 'requested', error: null, retry: null }) } : p;
      });
    }
    case 'BudgetRaised':
      return { ...view, budgetUsd: event.data.budgetUsd };
    case 'ChangesIntegrated': {
      const d = event.data;
      // a late integration of an attempt the phase has moved past no longer describes it
      const next = updatePhase(view, d.phaseId, (p) =>
        d.attempt !== p.attempt ? p : { ...p, commit: { sha: d.commit, parent: d.parent, candidateId: d.candidateId, files: d.files } },
      );
      const workspace = next.workspace ? { ...next.workspace, head: d.commit } : next.workspace;
      return { ...next, workspace };
    }
    case 'PartialWorkRecorded': {
      const d = event.data;
      return updatePhase(view, d.phaseId, (p) => {
        if (d.attempt !== p.attempt) return p;
        const candidate: CandidateView = {
          ...(p.candidates.find((c) => c.id === d.candidateId) ?? placeholderCandidate(d.candidateId)),
          partial: { ...d.partial, toolCalls: d.toolCalls },
          ...(d.transcript ? { transcript: d.transcript } : {}),
        };
        return { ...p, candidates: upsertCandidate(p.candidates, candidate) };
      });
    }
    // Facts with no field in RunView (the timeline shows them; checkpoints are read from REST).
    case 'ConditionEvaluated':
    case 'CheckpointCreated':
    case 'RunForked':
    case 'ResultRefused':
    case 'BudgetAlert':
    case 'BudgetExceeded':
      return view;
    // its pause or stop arrives as the RunPaused / RunFailed beside it; shrunk or switched phases show in their candidates
    case 'BudgetPolicyApplied': {
      const policy = view.budgetPolicy ?? { rules: [], decisions: [] };
      if (policy.decisions.some((d) => d.ruleIndex === event.data.ruleIndex)) return view;
      return { ...view, budgetPolicy: { ...policy, decisions: [...policy.decisions, { sequence: event.sequence, at: event.occurredAt, ...event.data }] } };
    }
    // The timeline shows them; a conflict fails the phase through the decider's PhaseFailed.
    case 'IntegrationRequested':
    case 'IntegrationFailed':
      return view;
    default:
      return assertNever(event);
  }
}

/* ------------------------------------------------------------------ helpers */

/** The run's budget policy as RunStarted sets it (decisions already folded are kept). */
function budgetPolicyAtStart(rules: BudgetRule[] | undefined, view: RunView): Pick<RunView, 'budgetPolicy'> {
  if (!rules) return view.budgetPolicy ? { budgetPolicy: view.budgetPolicy } : {};
  return { budgetPolicy: { rules, decisions: view.budgetPolicy?.decisions ?? [] } };
}

function isTerminalStatus(status: RunView['status']): boolean {
  return status === 'completed' || status === 'failed' || status === 'cancelled';
}

function setPhaseWaiting(view: RunView, phaseId: string, attempt: number, at: string): RunView {
  return updatePhase(view, phaseId, (p) => (attempt < p.attempt ? p : { ...p, status: 'waiting', attempt, startedAt: p.startedAt ?? at }));
}

/** `waiting` while a human owes an answer, `running` once nothing is pending (a paused or finished run keeps its status). */
function waitOrRun(view: RunView): RunView {
  if (view.status !== 'running' && view.status !== 'waiting') return view;
  const { gates, questions, continue: cont } = view.pending;
  const status = gates.length + questions.length + cont.length > 0 ? 'waiting' : 'running';
  return status === view.status ? view : { ...view, status };
}

function assertNever(event: never): never {
  throw new Error(`unhandled run event ${(event as { type: string }).type}`);
}

/** Apply `fn` to one phase; the same view back when the phase is unknown or `fn` changed nothing. */
export function updatePhase(view: RunView, phaseId: string, fn: (phase: PhaseView) => PhaseView): RunView {
  const index = view.phases.findIndex((p) => p.id === phaseId);
  if (index < 0) return view;
  const before = view.phases[index]!;
  const after = fn(before);
  if (after === before) return view;
  const phases = view.phases.slice();
  phases[index] = after;
  return { ...view, phases };
}

/**
 * A candidate's failed or rejected call of the current attempt: `change` updates the candidate,
 * and what the call was still billed is charged to the candidate, its phase and the run (as the
 * projector's chargeFailedCall does).
 */
function chargeFailedCall(
  view: RunView,
  d: { phaseId: string; attempt: number; candidateId: string; costUsd?: number; tokens?: Tokens },
  change: (candidate: CandidateView) => CandidateView,
): RunView {
  const costUsd = d.costUsd;
  const tokens = costUsd === undefined ? { input: 0, output: 0 } : (d.tokens ?? { input: 0, output: 0 });
  let changed = false;
  const next = updatePhase(view, d.phaseId, (p) => {
    if (d.attempt !== p.attempt) return p;
    changed = true;
    const updated = change(p.candidates.find((c) => c.id === d.candidateId) ?? placeholderCandidate(d.candidateId));
    if (costUsd === undefined) return { ...p, candidates: upsertCandidate(p.candidates, updated) };
    const candidate = { ...updated, costUsd: updated.costUsd + costUsd, tokens: addTokens(updated.tokens, tokens) };
    return { ...p, candidates: upsertCandidate(p.candidates, candidate), costUsd: p.costUsd + costUsd, tokens: addTokens(p.tokens, tokens) };
  });
  return changed && costUsd !== undefined ? { ...next, costUsd: next.costUsd + costUsd, tokens: addTokens(next.tokens, tokens) } : next;
}

/** A later attempt starts clean; spend stays cumulative across attempts. */
function newAttempt(phase: PhaseView, attempt: number): PhaseView {
  // a new attempt's winner makes a new commit; the run branch keeps the old one until then
  return { ...phase, attempt, candidates: [], verdict: null, artifactId: null, error: null, completedAt: null, commit: null, ...resetLoop(phase) };
}

/** Distinct paths over the phases' current commits (what the run branch changed, as the projector counts it). */
export function countFilesChanged(phases: readonly PhaseView[]): number {
  const paths = new Set<string>();
  for (const p of phases) for (const f of p.commit?.files ?? []) paths.add(f.path);
  return paths.size;
}

function leavePhase(view: RunView, phaseId: string): RunView {
  return view.currentPhases.includes(phaseId) ? { ...view, currentPhases: view.currentPhases.filter((id) => id !== phaseId) } : view;
}

function addUnique(list: string[], id: string): string[] {
  return list.includes(id) ? list : [...list, id];
}

export function addTokens(a: Tokens, b: Tokens): Tokens {
  return { input: a.input + b.input, output: a.output + b.output };
}

/** Replace in place, or append; order is (round, slot) — loop phases add a round of candidates per revision. */
function upsertCandidate(list: CandidateView[], candidate: CandidateView): CandidateView[] {
  const index = list.findIndex((c) => c.id === candidate.id);
  if (index >= 0) {
    const next = list.slice();
    next[index] = candidate;
    return next;
  }
  return [...list, candidate].sort((a, b) => (a.round ?? roundOfId(a.id)) - (b.round ?? roundOfId(b.id)) || a.slot - b.slot);
}


/** For a result whose request we never saw: the slot is the id's `.c<slot>` suffix. */
function placeholderCandidate(id: string): CandidateView {
  const slot = Number(/\.c(\d+)$/.exec(id)?.[1] ?? Number.MAX_SAFE_INTEGER);
  return { id, slot, provider: '', model: '', status: 'requested', tokens: { input: 0, output: 0 }, costUsd: 0, durationMs: null, error: null };
}
