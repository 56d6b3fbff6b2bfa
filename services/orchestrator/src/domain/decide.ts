import jsonLogic from 'json-logic-js';
import {
  artifactJsonSchema,
  DEFAULT_CRITERIA,
  ids,
  round6,
  type CandidateResult,
  type EventData,
  type Failure,
  type GenerativePhase,
  type JsonSchema,
  type MissingCandidate,
  type ModelRef,
  type Phase,
  type ResolvedOutput,
  type RunCommand,
  type ToolResult,
  type VerdictResult,
  type WorkspaceResult,
} from '@conclave/contracts';
import { crossedRule, reservedPct, steeredModels, steeredPhases, steerOf, type BudgetFigures } from './budget-policy';
import { interviewPrompt, renderPrompt, renderText, type BindingContext } from './render';
import { evolve, isActive, isSettled, type ActiveRun, type CandidateState, type PhaseState, type RunFact, type RunStart, type RunState } from './run-state';

/**
 * The orchestrator's pure decider. `decide(state, input, ctx)` returns the events to append:
 * first the facts the input establishes (idempotent by business key: a duplicate result
 * establishes nothing, a stale one is recorded as refused once), then `reconcile`, which derives
 * every next step from the state and the clock in ctx. Because reconcile runs on every input, a
 * redelivered input also heals an append that a crash cut short (ADR 001). Event ids derive
 * from business keys, so a repeated decision deduplicates in JetStream as well.
 */
export type StartRunInput = RunStart & {
  type: 'StartRun';
  origin?: EventData<'RunStarted'>['origin'];
  /** a fork: upstream outputs recorded in the source run, reused as they are */
  fork?: EventData<'RunForked'>;
};

export type DeciderInput =
  | StartRunInput
  | { type: 'CandidateResult'; result: CandidateResult }
  | { type: 'VerdictResult'; result: VerdictResult }
  | { type: 'ToolResult'; result: ToolResult }
  | { type: 'WorkspaceResult'; result: WorkspaceResult }
  /** a timer fired (phase deadline, retry backoff): reconcile against ctx.now */
  | { type: 'Tick' }
  /** the worker holding this dispatch stopped heartbeating: dispatch it again under a new token */
  | { type: 'Stalled'; attemptToken: string }
  | { type: 'Reconcile' }
  /** an event of the run's stream does not decode (poison written by something else): the run fails with it */
  | { type: 'Unreadable'; sequence: number; reason: string }
  | { type: 'Command'; command: Exclude<RunCommand, { type: 'ForkRun' | 'RerunRun' }> };

export interface DeciderContext {
  /** output validation (ajv in the shell); returns human-readable errors, empty when valid */
  validate: (output: unknown, schema: JsonSchema) => string[];
  /** the decision's clock (ISO-8601), from the shell */
  now: string;
  /** the expected cost of one call (budget reservations); 0 when unknown */
  estimateUsd?: (provider: string, model: string, maxTokens?: number) => number;
}

/** consecutive retryable failures of one provider that pause the run (a provider outage) */
export const OUTAGE_THRESHOLD = 3;
const BUDGET_THRESHOLDS = [50, 80, 100] as const;

export type DecidedEvent = RunFact & { id: string };

/** A command the run's state does not allow (409). */
export class IllegalCommandError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IllegalCommandError';
  }
}
/** A command naming what the run does not have (404). */
export class UnknownTargetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnknownTargetError';
  }
}

const MAX_STEPS = 10_000;

/**
 * A run never hangs on an internal error: when an input the run must take (a result, a timer, a
 * stall) makes the decision throw, the run fails with a typed `internal_error` naming the detail —
 * on the phase the input was about when there is one, so the user can retry it — instead of the
 * input being redelivered forever. Commands and starts still throw (the caller gets the error).
 */
export function decide(state: RunState, input: DeciderInput, ctx: DeciderContext): DecidedEvent[] {
  try {
    return decideOrThrow(state, input, ctx);
  } catch (err) {
    if (err instanceof IllegalCommandError || err instanceof UnknownTargetError) throw err;
    if (!isActive(state) || input.type === 'StartRun' || input.type === 'Command') throw err;
    if (state.status === 'failed' || state.status === 'completed' || state.status === 'cancelled') return []; // nothing left to stop
    return internalFailure(state, input, err, ctx);
  }
}

function internalFailure(run: ActiveRun, input: DeciderInput, err: unknown, ctx: DeciderContext): DecidedEvent[] {
  const detail = (err instanceof Error ? err.message : String(err)).slice(0, 2000);
  const phaseId = 'result' in input ? input.result.phaseId : null;
  const phase = phaseId ? run.phases[phaseId] : undefined;
  const reason: Failure = { code: 'internal_error', message: `the orchestrator could not handle ${input.type}${phaseId ? ` for phase "${phaseId}"` : ''}: ${detail}`, retryable: false };
  const failPhase = phase && !isSettled(phase) && phase.status !== 'failed' ? [event(run.runId, 'PhaseFailed', `${phase.id}.${phase.attempt}`, { phaseId: phase.id, attempt: phase.attempt, reason })] : [];
  return [...failPhase, event(run.runId, 'RunFailed', `failed@${ctx.now}`, { reason, phaseId: failPhase.length > 0 ? phase!.id : null })];
}

function decideOrThrow(state: RunState, input: DeciderInput, ctx: DeciderContext): DecidedEvent[] {
  const facts = establish(state, input, ctx);
  let current = facts.reduce((s, e) => evolve(s, e), state);
  const events = [...facts];
  for (let i = 0; i < MAX_STEPS; i++) {
    const next = reconcileStep(current, ctx);
    if (next.length === 0) return events;
    events.push(...next);
    current = next.reduce((s, e) => evolve(s, e), current);
  }
  throw new Error('reconcile did not settle'); // a bug, never a user error
}

/* ================================================================== facts */

function establish(state: RunState, input: DeciderInput, ctx: DeciderContext): DecidedEvent[] {
  switch (input.type) {
    case 'StartRun': {
      if (isActive(state)) {
        if (state.runId === input.runId) return []; // a retried start
        throw new IllegalCommandError(`run ${state.runId} already exists`);
      }
      const { type: _t, fork, origin, ...data } = input;
      const started = event(input.runId, 'RunStarted', 'started', { ...data, origin: origin ?? null });
      return fork ? [started, event(input.runId, 'RunForked', 'forked', fork)] : [started];
    }
    case 'CandidateResult':
      return isActive(state) ? [...partialWorkFacts(state, input.result), ...candidateFacts(state, input.result, ctx)] : [];
    case 'VerdictResult':
      return isActive(state) ? verdictFacts(state, input.result, ctx) : [];
    case 'ToolResult':
      return isActive(state) ? toolFacts(state, input.result) : [];
    case 'WorkspaceResult':
      return isActive(state) ? workspaceFacts(state, input.result) : [];
    case 'Tick':
    case 'Reconcile':
      return [];
    case 'Stalled':
      return isActive(state) ? stalledFacts(state, input.attemptToken) : [];
    case 'Unreadable':
      // decide() turns this into the run's internal_error failure (nothing of the run may be trusted past it)
      throw new Error(`event ${input.sequence} of this run cannot be read: ${input.reason}`);
    case 'Command':
      if (!isActive(state)) throw new UnknownTargetError('the run does not exist');
      return commandFacts(state, input.command, ctx);
    default: {
      const never: never = input;
      throw new Error(`unknown input ${JSON.stringify(never)}`);
    }
  }
}

function refuse(run: ActiveRun, r: { commandId: string; phaseId: string; attemptToken: string }, reason: EventData<'ResultRefused'>['reason']): DecidedEvent[] {
  if (run.refused.includes(r.commandId)) return [];
  return [event(run.runId, 'ResultRefused', r.commandId, { commandId: r.commandId, phaseId: r.phaseId, attemptToken: r.attemptToken, reason })];
}

/** Stale (another attempt or dispatch) results are refused and recorded; duplicates establish nothing. */
function candidateFacts(run: ActiveRun, r: CandidateResult, ctx: DeciderContext): DecidedEvent[] {
  const phase = run.phases[r.phaseId];
  if (!phase) return refuse(run, r, 'unknown_work');
  if (phase.attempt !== r.attempt) return refuse(run, r, 'stale_attempt');
  const candidate = phase.candidates.find((c) => c.id === r.candidateId);
  if (!candidate) return refuse(run, r, 'unknown_work');
  if (candidate.attemptToken !== r.attemptToken) return candidate.status === 'requested' || r.attemptToken !== candidate.attemptToken ? refuse(run, r, 'stale_token') : [];
  if (candidate.status !== 'requested' || candidate.retryAt || !recordsResults(run)) return []; // settled, or its failure already recorded
  const base = { phaseId: r.phaseId, attempt: r.attempt, candidateId: r.candidateId };
  const transcript = r.outcome.transcript ? { transcript: r.outcome.transcript } : {};
  // a call that failed or was rejected may still have been billed
  const spent = r.outcome.costUsd !== undefined ? { costUsd: r.outcome.costUsd, ...(r.outcome.tokens ? { tokens: r.outcome.tokens } : {}) } : {};
  if (r.outcome.status === 'failed') {
    // the worker's own schema check failed (after its repair attempt): the same rejection as ours, raw output kept for accept
    if (r.outcome.error.code === 'output_invalid' && r.outcome.raw !== undefined) {
      return [event(run.runId, 'OutputRejected', r.candidateId, { ...base, errors: [r.outcome.error.message], raw: parseRaw(r.outcome.raw), ...transcript, ...spent })];
    }
    // the worker lost its lease (it was frozen past it) and gave the work back unfinished
    if (r.outcome.error.code === 'lease_lost') return [redispatch(run, phase, candidate, 'lease_lost')];
    const retry = candidateRetry(run, phase, candidate, r.outcome.error, ctx);
    return [
      event(run.runId, 'CandidateFailed', `${r.candidateId}/${r.attemptToken}`, {
        ...base,
        attemptToken: r.attemptToken,
        error: r.outcome.error,
        durationMs: r.durationMs,
        workerId: r.workerId,
        ...transcript,
        ...spent,
        ...(retry ? { retry } : {}),
        ...(r.trace ? { trace: r.trace } : {}),
      }),
    ];
  }
  const errors = ctx.validate(r.outcome.output, candidate.resolvedOutput.schema);
  if (errors.length > 0) return [event(run.runId, 'OutputRejected', r.candidateId, { ...base, errors, raw: r.outcome.output, ...transcript, ...spent })];
  return [
    event(run.runId, 'CandidateGenerated', r.candidateId, {
      ...base,
      output: r.outcome.output,
      tokens: r.outcome.tokens,
      costUsd: r.outcome.costUsd,
      durationMs: r.durationMs,
      workerId: r.workerId,
      ...(r.outcome.toolCalls ? { toolCalls: r.outcome.toolCalls } : {}),
      ...transcript,
      ...(r.trace ? { trace: r.trace } : {}),
    }),
  ];
}

/**
 * Issue 11 §6: a transient failure (429, 5xx, timeout, reset — the worker marks it retryable)
 * retries this candidate alone under the phase's retry policy (maxAttempts tries in all, the
 * policy's exponential backoff, or longer when the provider's retry-after asks for it). Null: it
 * is dropped from this attempt, and the comparison goes on without it.
 */
function candidateRetry(run: ActiveRun, phase: PhaseState, c: CandidateState, error: Failure, ctx: DeciderContext): { number: number; of: number; notBefore: string } | null {
  const policy = phaseDef(run, phase.id).retry ?? run.template.defaults.retry;
  const done = c.retries ?? 0;
  if (!error.retryable || error.code === 'cancelled' || done + 1 >= policy.maxAttempts) return null;
  const jitter = 0.8 + 0.4 * unitHash(`${run.runId}/${c.id}/${c.attemptToken}`);
  const delayMs = Math.max(Math.round(policy.backoffSeconds * 1000 * 2 ** done * jitter), error.retryAfterMs ?? 0);
  return { number: done + 1, of: policy.maxAttempts - 1, notBefore: new Date(Date.parse(ctx.now) + delayMs).toISOString() };
}

/** The candidate's next dispatch: a new attempt token (the old one's late result is then stale). */
function redispatch(run: ActiveRun, phase: PhaseState, c: CandidateState, reason: 'stalled' | 'retry' | 'lease_lost'): DecidedEvent {
  const n = Number(c.attemptToken.slice(c.attemptToken.lastIndexOf('@') + 1)) || 1;
  const next = `${c.id}@${n + 1}`;
  return event(run.runId, 'CandidateRedispatched', next, { phaseId: phase.id, attempt: phase.attempt, candidateId: c.id, attemptToken: next, reason });
}

/** The round's candidates a comparison goes without (failed for good or rejected), and why. */
function missingOf(phase: PhaseState, round: number): MissingCandidate[] {
  return phase.candidates
    .filter((c) => c.round === round && (c.status === 'failed' || c.status === 'rejected'))
    .map((c) => ({ candidateId: c.id, provider: c.provider, model: c.model, error: c.error ?? { code: c.status, message: `the candidate was ${c.status}`, retryable: false } }));
}

/** A model's raw answer as JSON when it is JSON (so accepting it as is keeps its structure), else the text. */
function parseRaw(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

function verdictFacts(run: ActiveRun, r: VerdictResult, ctx: DeciderContext): DecidedEvent[] {
  const phase = run.phases[r.phaseId];
  if (!phase) return refuse(run, r, 'unknown_work');
  if (phase.attempt !== r.attempt) return refuse(run, r, 'stale_attempt');
  const judge = phase.judges.find((j) => j.id === r.judgeId);
  if (!judge) return refuse(run, r, 'unknown_work');
  if (judge.attemptToken !== r.attemptToken) return refuse(run, r, 'stale_token');
  if (judge.status !== 'requested' || phase.status !== 'running' || !recordsResults(run)) return [];
  const def = phaseDef(run, phase.id);
  if (r.outcome.status === 'failed') return failOrRetry(run, def, phase, { code: 'judge_failed', message: r.outcome.error.message, retryable: r.outcome.error.retryable }, ctx);
  const { winnerId } = r.outcome;
  if (!phase.candidates.some((c) => c.id === winnerId)) {
    return failOrRetry(run, def, phase, { code: 'judge_failed', message: `the judge named unknown candidate ${winnerId}`, retryable: true }, ctx);
  }
  return [
    event(run.runId, 'VerdictRecorded', r.judgeId, {
      phaseId: phase.id,
      attempt: phase.attempt,
      round: judge.round,
      judgeId: judge.id,
      purpose: judge.purpose,
      winnerId: r.outcome.winnerId,
      scores: r.outcome.scores,
      rationale: r.outcome.rationale,
      order: r.outcome.order,
      missing: missingOf(phase, judge.round),
      provider: r.provider,
      model: r.model,
      tokens: r.outcome.tokens,
      costUsd: r.outcome.costUsd,
    }),
  ];
}

function toolFacts(run: ActiveRun, r: ToolResult): DecidedEvent[] {
  const phase = run.phases[r.phaseId];
  if (!phase || !phase.tool) return refuse(run, r, 'unknown_work');
  if (phase.attempt !== r.attempt) return refuse(run, r, 'stale_attempt');
  if (phase.tool.attemptToken !== r.attemptToken) return refuse(run, r, 'stale_token');
  if (phase.tool.status !== 'requested' || !recordsResults(run)) return [];
  const key = `${phase.id}.${phase.attempt}`;
  return r.outcome.status === 'completed'
    ? [
        event(run.runId, 'ToolRunCompleted', key, {
          phaseId: phase.id,
          attempt: phase.attempt,
          exitCode: r.outcome.exitCode,
          stdout: r.outcome.stdout,
          stderr: r.outcome.stderr,
          durationMs: r.durationMs,
          workerId: r.workerId,
        }),
      ]
    : [event(run.runId, 'ToolRunFailed', key, { phaseId: phase.id, attempt: phase.attempt, error: r.outcome.error, workerId: r.workerId })];
}

/**
 * A cancelled or timed-out agent's work so far (its diff, tool calls and conversation) is kept
 * whatever the run's state: the user may want it even from a cancelled run. Once per candidate.
 */
function partialWorkFacts(run: ActiveRun, r: CandidateResult): DecidedEvent[] {
  if (r.outcome.status !== 'failed' || !r.outcome.partial || run.partials.includes(r.candidateId)) return [];
  const phase = run.phases[r.phaseId];
  // a timed-out candidate's worker may report after the retry began: its attempt is then an older one
  if (!phase || r.attempt > phase.attempt || (r.attempt === phase.attempt && !phase.candidates.some((c) => c.id === r.candidateId))) return [];
  return [
    event(run.runId, 'PartialWorkRecorded', r.candidateId, {
      phaseId: r.phaseId,
      attempt: r.attempt,
      candidateId: r.candidateId,
      partial: r.outcome.partial,
      toolCalls: r.outcome.toolCalls ?? [],
      ...(r.outcome.transcript ? { transcript: r.outcome.transcript } : {}),
    }),
  ];
}

/** The run branch's answer to an integration; resets and clean-ups establish nothing. */
function workspaceFacts(run: ActiveRun, r: WorkspaceResult): DecidedEvent[] {
  if (r.kind !== 'integrate') return [];
  const phase = run.phases[r.phaseId];
  if (!phase?.integration) return refuse(run, r, 'unknown_work');
  if (phase.attempt !== r.attempt) return refuse(run, r, 'stale_attempt');
  if (phase.integration.attemptToken !== r.attemptToken) return refuse(run, r, 'stale_token');
  if (phase.integration.status !== 'requested' || !recordsResults(run)) return [];
  const base = { phaseId: phase.id, attempt: phase.attempt, candidateId: phase.integration.candidateId };
  const key = `${phase.id}.${phase.attempt}`;
  switch (r.outcome.status) {
    case 'integrated':
      return [event(run.runId, 'ChangesIntegrated', key, { ...base, commit: r.outcome.commit, parent: r.outcome.parent, files: r.outcome.files, workerId: r.workerId })];
    case 'conflict':
      return [
        event(run.runId, 'IntegrationFailed', key, {
          ...base,
          conflicts: r.outcome.conflicts,
          error: { code: 'merge_conflict', message: `the winner's changes conflict with the run branch in ${r.outcome.conflicts.join(', ') || 'some paths'}: retry the phase to redo it on the current branch`, retryable: true },
        }),
      ];
    case 'failed':
      return [event(run.runId, 'IntegrationFailed', key, { ...base, conflicts: [], error: r.outcome.error })];
    case 'done':
      return [];
  }
}

/** Re-dispatch a stalled candidate with the next token; the old token's late result is then stale. */
function stalledFacts(run: ActiveRun, attemptToken: string): DecidedEvent[] {
  if (run.status !== 'running' && run.status !== 'waiting') return [];
  for (const phase of Object.values(run.phases)) {
    // a candidate waiting for its retry has no worker: its failed dispatch cannot stall
    const c = phase.candidates.find((x) => x.attemptToken === attemptToken && x.status === 'requested' && !x.retryAt);
    if (!c) continue;
    return [redispatch(run, phase, c, 'stalled')];
  }
  return [];
}

const isLive = (run: ActiveRun) => run.status === 'running' || run.status === 'waiting' || run.status === 'paused';
/**
 * Whether results of in-flight work are recorded. A failed run still records them (facts only:
 * reconcile does nothing while it is failed): a retry of the failed phase revives the run, and a
 * phase that was running beside it must find its results rather than wait for ones dropped.
 */
const recordsResults = (run: ActiveRun) => isLive(run) || run.status === 'failed';

function commandFacts(run: ActiveRun, command: Extract<DeciderInput, { type: 'Command' }>['command'], ctx: DeciderContext): DecidedEvent[] {
  const key = `${command.type}@${ctx.now}`;
  const finished = run.status === 'completed' || run.status === 'cancelled';
  const target = (phaseId: string) => {
    const phase = run.phases[phaseId];
    if (!phase) throw new UnknownTargetError(`the run has no phase "${phaseId}"`);
    return { phase, def: phaseDef(run, phaseId) };
  };
  switch (command.type) {
    case 'PauseRun':
      if (run.status !== 'running' && run.status !== 'waiting') throw new IllegalCommandError(`a ${run.status} run cannot be paused`);
      return [event(run.runId, 'RunPaused', key, { reason: { code: 'user', message: 'paused by a user' } })];
    case 'ResumeRun':
      if (run.status !== 'paused') throw new IllegalCommandError(`a ${run.status} run cannot be resumed`);
      return [event(run.runId, 'RunResumed', key, {})];
    case 'CancelRun': {
      if (finished || run.status === 'failed') throw new IllegalCommandError(`a ${run.status} run cannot be cancelled`);
      const outstanding = Object.values(run.phases).flatMap((p) => [
        ...p.candidates.filter((c) => c.status === 'requested').map((c) => c.attemptToken),
        ...p.judges.filter((j) => j.status === 'requested').map((j) => j.attemptToken),
        ...(p.tool?.status === 'requested' ? [p.tool.attemptToken] : []),
      ]);
      return [event(run.runId, 'RunCancelled', key, { reason: command.reason ?? null, abortedCommandIds: outstanding })];
    }
    case 'ContinueRun':
      if (run.awaitingContinue.length === 0) throw new IllegalCommandError('no phase is waiting for continue');
      if (run.status === 'paused') throw new IllegalCommandError('the run is paused: resume it first');
      return [event(run.runId, 'RunContinued', key, { phaseIds: run.awaitingContinue })];
    case 'RetryPhase': {
      const { phase, def } = target(command.phaseId);
      if (finished) throw new IllegalCommandError(`a ${run.status} run cannot retry phases`);
      if (phase.status !== 'failed') throw new IllegalCommandError(`phase "${phase.id}" is ${phase.status}; only a failed phase can be retried`);
      if ((command.provider === undefined) !== (command.model === undefined)) throw new IllegalCommandError('name both provider and model to switch models');
      if (command.provider && !isGenerative(def)) throw new IllegalCommandError(`phase "${phase.id}" (${def.kind}) has no model to switch`);
      return [
        event(run.runId, 'PhaseRetryScheduled', `${phase.id}.${phase.attempt + 1}`, {
          phaseId: phase.id,
          attempt: phase.attempt + 1,
          notBefore: ctx.now,
          cause: 'user',
          override: command.provider && command.model ? { provider: command.provider, model: command.model } : null,
        }),
      ];
    }
    case 'SkipPhase': {
      const { phase } = target(command.phaseId);
      if (finished) throw new IllegalCommandError(`a ${run.status} run cannot skip phases`);
      if (isSettled(phase)) throw new IllegalCommandError(`phase "${phase.id}" is already ${phase.status}`);
      return [...cancelOutstanding(run, phase), event(run.runId, 'PhaseSkipped', `${phase.id}.user`, { phaseId: phase.id, reason: 'skipped by a user' })];
    }
    case 'ApproveGate':
    case 'RejectGate': {
      const { phase, def } = target(command.phaseId);
      if (def.kind !== 'gate') throw new IllegalCommandError(`phase "${phase.id}" is not a gate`);
      if (phase.gate !== 'open' || phase.status !== 'waiting') throw new IllegalCommandError(`gate "${phase.id}" is not waiting for a decision`);
      const data = { phaseId: phase.id, attempt: phase.attempt, comment: command.comment ?? null };
      return [command.type === 'ApproveGate' ? event(run.runId, 'GateApproved', `${phase.id}.${phase.attempt}`, data) : event(run.runId, 'GateRejected', `${phase.id}.${phase.attempt}`, data)];
    }
    case 'SubmitAnswers': {
      const { phase, def } = target(command.phaseId);
      if (def.kind !== 'interview') throw new IllegalCommandError(`phase "${phase.id}" is not an interview`);
      if (phase.status !== 'waiting' || !phase.questions || phase.answers) throw new IllegalCommandError(`interview "${phase.id}" is not waiting for answers`);
      return [event(run.runId, 'AnswersSubmitted', `${phase.id}.${phase.attempt}`, { phaseId: phase.id, attempt: phase.attempt, answers: command.answers })];
    }
    case 'AcceptOutput': {
      const { phase } = target(command.phaseId);
      const rejected = [...phase.candidates].reverse().find((c) => c.status === 'rejected');
      if (phase.status !== 'failed' || (!rejected && command.output === undefined)) {
        throw new IllegalCommandError(`phase "${phase.id}" has no rejected output to accept (it is ${phase.status})`);
      }
      return [
        event(run.runId, 'OutputAccepted', `${phase.id}.${phase.attempt}`, {
          phaseId: phase.id,
          attempt: phase.attempt,
          candidateId: rejected?.id ?? null,
          edited: command.output !== undefined,
          output: command.output !== undefined ? command.output : rejected!.output,
        }),
      ];
    }
    case 'RollbackRun': {
      const checkpoint = run.checkpoints.find((c) => c.id === command.checkpointId);
      if (!checkpoint) throw new UnknownTargetError(`the run has no checkpoint "${command.checkpointId}"`);
      if (run.status === 'cancelled') throw new IllegalCommandError('a cancelled run cannot be rolled back');
      const keep = new Set(checkpoint.completedPhaseIds);
      const reset = run.template.phases.map((p) => p.id).filter((id) => !keep.has(id) && run.phases[id]!.status !== 'pending');
      if (reset.length === 0) throw new IllegalCommandError(`nothing happened after checkpoint "${checkpoint.id}"`);
      const cancels = reset.flatMap((id) => cancelOutstanding(run, run.phases[id]!));
      return [
        ...cancels,
        event(run.runId, 'RolledBack', `${checkpoint.id}@${ctx.now}`, { checkpointId: checkpoint.id, resetPhaseIds: reset, ...(checkpoint.commit ? { commit: checkpoint.commit } : {}) }),
      ];
    }
    case 'RaiseBudget':
      if (run.budgetUsd !== null && command.budgetUsd <= run.budgetUsd) throw new IllegalCommandError(`the budget is already $${run.budgetUsd}; raise it above that`);
      return [event(run.runId, 'BudgetRaised', key, { budgetUsd: command.budgetUsd })];
    default: {
      const never: never = command;
      throw new Error(`unknown command ${JSON.stringify(never)}`);
    }
  }
}

/** Outstanding work of a phase being abandoned (by a user, a budget stop): failed as cancelled (workers are told by the shell). */
function cancelOutstanding(run: ActiveRun, phase: PhaseState, why = 'abandoned by a user command'): DecidedEvent[] {
  return phase.candidates
    .filter((c) => c.status === 'requested')
    .map((c) =>
      event(run.runId, 'CandidateFailed', `${c.id}/${c.attemptToken}`, {
        phaseId: phase.id,
        attempt: phase.attempt,
        candidateId: c.id,
        attemptToken: c.attemptToken,
        error: { code: 'cancelled', message: why, retryable: false },
      }),
    );
}

/* ================================================================== reconcile */

/** The next events the state calls for (empty when it waits on the outside world or the clock). */
export function reconcileStep(state: RunState, ctx: DeciderContext): DecidedEvent[] {
  if (!isActive(state) || !isLive(state)) return [];
  const step = nextStep(state, ctx);
  return state.status === 'paused' ? step : guardBudget(state, step, ctx);
}

function nextStep(run: ActiveRun, ctx: DeciderContext): DecidedEvent[] {
  const canDispatch = run.status !== 'paused';
  if (run.budgetUsd !== null) {
    const crossed = BUDGET_THRESHOLDS.find((t) => !run.budgetAlerts.includes(t) && run.spentUsd >= (run.budgetUsd! * t) / 100);
    if (crossed) return [event(run.runId, 'BudgetAlert', `${crossed}`, { thresholdPct: crossed, spentUsd: run.spentUsd, budgetUsd: run.budgetUsd })];
  }
  const down = Object.entries(run.providerFailures).find(([, n]) => n >= OUTAGE_THRESHOLD);
  if (down && canDispatch) {
    return [
      event(run.runId, 'RunPaused', `outage.${down[0]}@${ctx.now}`, {
        reason: { code: 'provider_outage', provider: down[0], message: `provider "${down[0]}" failed ${down[1]} times in a row; resume to retry` },
      }),
    ];
  }

  for (const def of run.template.phases) {
    const phase = run.phases[def.id]!;
    if (phase.status === 'running') {
      const step = advancePhase(run, def, phase, ctx, canDispatch);
      if (step.length > 0) return step;
    }
  }
  for (const def of run.template.phases) {
    const phase = run.phases[def.id]!;
    const checkpointId = `${def.id}@${phase.attempt}`;
    if (phase.status === 'completed' && !run.checkpoints.some((c) => c.id === checkpointId)) {
      const completed = run.template.phases.filter((p) => run.phases[p.id]!.status === 'completed').map((p) => p.id);
      return [event(run.runId, 'CheckpointCreated', checkpointId, { checkpointId, phaseId: def.id, completedPhaseIds: completed, ...(run.head ? { commit: run.head } : {}) })];
    }
  }
  const failed = run.template.phases.find((p) => run.phases[p.id]!.status === 'failed');
  if (failed) {
    const reason = run.phases[failed.id]!.error ?? { code: 'phase_failed', message: `phase ${failed.id} failed`, retryable: false };
    return [event(run.runId, 'RunFailed', `failed@${ctx.now}`, { reason: { ...reason, message: `phase "${failed.id}" failed: ${reason.message}` }, phaseId: failed.id })];
  }
  if (!canDispatch) return [];

  const due = run.template.phases.filter((p) => {
    const phase = run.phases[p.id]!;
    return phase.status === 'pending' && phase.retry && phase.retry.notBefore <= ctx.now;
  });
  if (due.length > 0) return due.flatMap((p) => startPhase(run, p, run.phases[p.id]!.retry!.attempt, ctx, run.phases[p.id]!.retry!.override));

  const ready = run.template.phases.filter((p) => {
    const phase = run.phases[p.id]!;
    return phase.status === 'pending' && !phase.retry && p.dependsOn.every((d) => isSettled(run.phases[d]!));
  });
  const held = ready.filter((p) => needsContinue(run, p) && !run.continued.includes(p.id));
  const newlyHeld = held.filter((p) => !run.awaitingContinue.includes(p.id)).map((p) => p.id);
  if (newlyHeld.length > 0) return [event(run.runId, 'ContinueRequired', `${newlyHeld.join('+')}@${ctx.now}`, { phaseIds: newlyHeld })];
  const go = ready.filter((p) => !held.includes(p));
  if (go.length > 0) return go.flatMap((p) => startPhase(run, p, run.phases[p.id]!.attempt + 1, ctx, null));

  // a rolled-back run completes again: the key must differ, or JetStream's duplicate window drops it
  if (run.template.phases.every((p) => isSettled(run.phases[p.id]!))) return [event(run.runId, 'RunCompleted', `completed.${run.checkpoints.length}`, {})];
  return [];
}

/**
 * Budgets: a step that dispatches work is checked against what is spent, what outstanding work
 * has reserved and what the step would reserve. First the budget policy (ADR 024): the lowest
 * rule not fired yet whose threshold that reserved spend reaches fires, and the step is dropped —
 * reconcile plans it again under the rule (shrunk, switched), or the run pauses or stops. Then the
 * hard cap: over budget, the run pauses (it does not fail): raise the budget and resume.
 */
function guardBudget(run: ActiveRun, step: DecidedEvent[], ctx: DeciderContext): DecidedEvent[] {
  if (run.budgetUsd === null || !ctx.estimateUsd) return step;
  const estimate = ctx.estimateUsd;
  const cost = (e: DecidedEvent) =>
    e.type === 'CandidateRequested' ? estimate(e.data.provider, e.data.model, e.data.options?.maxTokens) : e.type === 'JudgeRequested' ? estimate(e.data.provider, e.data.model) : 0;
  const stepCost = step.reduce((sum, e) => sum + cost(e), 0);
  if (stepCost === 0) return step;
  const reserved = Object.values(run.phases).reduce(
    (sum, p) => sum + p.candidates.filter((c) => c.status === 'requested').reduce((s, c) => s + estimate(c.provider, c.model), 0),
    0,
  );
  const first = step.find((e) => e.type === 'CandidateRequested' || e.type === 'JudgeRequested')!;
  const phaseId = (first.data as { phaseId: string }).phaseId;
  const figures: BudgetFigures = { budgetUsd: run.budgetUsd, spentUsd: round6(run.spentUsd), reservedUsd: round6(reserved), estimateUsd: round6(stepCost) };
  const policy = applyBudgetPolicy(run, figures, phaseId, ctx);
  if (policy) return policy;
  if (run.spentUsd + reserved + stepCost <= run.budgetUsd) return step;
  return [
    event(run.runId, 'BudgetExceeded', `${phaseId}@${ctx.now}`, { phaseId, ...figures }),
    event(run.runId, 'RunPaused', `budget@${ctx.now}`, {
      reason: { code: 'budget', message: `phase "${phaseId}" would need ~$${stepCost.toFixed(4)} with $${run.spentUsd.toFixed(4)} spent of $${run.budgetUsd}; raise the budget and resume` },
    }),
  ];
}

/** The budget policy's decision for a step (null: no rule fires); the step itself is never part of it. */
function applyBudgetPolicy(run: ActiveRun, figures: BudgetFigures, phaseId: string, ctx: DeciderContext): DecidedEvent[] | null {
  const crossed = crossedRule(run, figures);
  if (!crossed) return null;
  const { index, rule } = crossed;
  const phaseIds = steeredPhases(run, rule);
  const applied = event(run.runId, 'BudgetPolicyApplied', `rule${index}`, {
    ruleIndex: index,
    thresholdPct: rule.atPct,
    action: rule.action,
    ...(rule.model ? { model: rule.model } : {}),
    ...figures,
    phaseId,
    phaseIds,
  });
  const why = `the reserved spend would reach ${reservedPct(figures).toFixed(1)}% of the $${figures.budgetUsd} budget (rule at ${rule.atPct}%) when phase "${phaseId}" dispatches`;
  switch (rule.action) {
    case 'shrink':
    case 'switch':
      return [applied];
    case 'pause':
      return [applied, event(run.runId, 'RunPaused', `budget.rule${index}@${ctx.now}`, { reason: { code: 'budget', message: `${why}; resume to go on` } })];
    case 'stop': {
      // phases under way stop with the run: their outstanding calls are abandoned (the shell tells
      // their workers, as for a cancel) and they fail with the reason (a user may still retry one)
      const reason: Failure = { code: 'budget_stop', message: `stopped by the budget policy: ${why}`, retryable: false };
      const underWay = Object.values(run.phases).filter((p) => p.status === 'running' || p.status === 'waiting');
      const stopped = underWay.flatMap((p) => [
        ...cancelOutstanding(run, p, 'abandoned: the budget policy stopped the run'),
        event(run.runId, 'PhaseFailed', `${p.id}.${p.attempt}`, { phaseId: p.id, attempt: p.attempt, reason }),
      ]);
      return [applied, ...stopped, event(run.runId, 'RunFailed', `budget.rule${index}@${ctx.now}`, { reason, phaseId: null })];
    }
    default: {
      const never: never = rule.action;
      throw new Error(`unknown budget action ${JSON.stringify(never)}`);
    }
  }
}

/** Manual mode: a phase waits for `continue` when the run is not in auto mode or an upstream phase does not auto-proceed. */
function needsContinue(run: ActiveRun, def: Phase): boolean {
  if (def.dependsOn.length === 0) return false; // starting the run is the first go-ahead
  if (!run.autoMode) return true;
  return def.dependsOn.some((d) => (phaseDef(run, d).autoProceed ?? run.template.defaults.autoProceed) === false);
}

function startPhase(run: ActiveRun, def: Phase, attempt: number, ctx: DeciderContext, override: { provider: string; model: string } | null): DecidedEvent[] {
  const timeoutSeconds = def.timeoutSeconds ?? run.template.defaults.timeoutSeconds;
  const deadline = new Date(Date.parse(ctx.now) + timeoutSeconds * 1000).toISOString();
  const started = event(run.runId, 'PhaseStarted', `${def.id}.${attempt}`, {
    phaseId: def.id,
    attempt,
    deadline,
    ...(override ? { override } : {}),
  });
  const after = evolve(run, started) as ActiveRun;
  const phase = after.phases[def.id]!;
  if (phase.accepted) return [started]; // a fork's reused output: advancePhase records it
  switch (def.kind) {
    case 'llm':
    case 'loop':
    case 'agent':
      return [started, ...requestCandidates(after, def, phase, 0)];
    case 'interview':
      return [started, ...requestCandidates(after, def, phase, 0)];
    case 'gate':
      return [started, event(run.runId, 'GateOpened', `${def.id}.${attempt}`, { phaseId: def.id, attempt, message: renderText(def.message, bindingContext(run)) })];
    case 'condition': {
      let result: boolean;
      try {
        result = Boolean(jsonLogic.apply(def.expression as jsonLogic.RulesLogic, logicData(run)));
      } catch (err) {
        // templates validated before this check existed may still hold a bad expression
        const reason: Failure = { code: 'internal_error', message: `the condition's expression failed: ${(err instanceof Error ? err.message : String(err)).slice(0, 2000)}`, retryable: false };
        return [started, event(run.runId, 'PhaseFailed', `${def.id}.${attempt}`, { phaseId: def.id, attempt, reason })];
      }
      const skipped = branchSkips(run, def, result);
      return [
        started,
        event(run.runId, 'ConditionEvaluated', `${def.id}.${attempt}`, { phaseId: def.id, attempt, result, skippedPhaseIds: skipped }),
        ...skipped.map((id) => event(run.runId, 'PhaseSkipped', `${id}.${def.id}`, { phaseId: id, reason: `condition "${def.id}" was ${result}` })),
      ];
    }
    case 'tool': {
      const attemptToken = `${run.runId}.${def.id}.${attempt}.tool@1`;
      const args = def.tool.args.map((a) => renderText(a, bindingContext(run)));
      const timeoutSeconds = def.timeoutSeconds ?? run.template.defaults.timeoutSeconds;
      return [
        started,
        event(run.runId, 'ToolRunRequested', attemptToken, { phaseId: def.id, attempt, attemptToken, command: def.tool.command, args, timeoutSeconds, ...checkoutOf(run) }),
      ];
    }
    default: {
      const never: never = def;
      throw new Error(`unknown phase kind ${JSON.stringify(never)}`);
    }
  }
}

/** The branch not taken and its exclusive descendants (every dependency skipped). */
function branchSkips(run: ActiveRun, def: Extract<Phase, { kind: 'condition' }>, result: boolean): string[] {
  const skipped = new Set(result ? def.ifFalse : def.ifTrue);
  for (let changed = true; changed; ) {
    changed = false;
    for (const p of run.template.phases) {
      if (!skipped.has(p.id) && p.dependsOn.length > 0 && p.dependsOn.every((d) => skipped.has(d))) {
        skipped.add(p.id);
        changed = true;
      }
    }
  }
  return run.template.phases.map((p) => p.id).filter((id) => skipped.has(id) && run.phases[id]!.status === 'pending');
}

function logicData(run: ActiveRun) {
  const ctx = bindingContext(run);
  return { inputs: ctx.inputs, phases: ctx.phases, answers: ctx.answers };
}

export function isGenerative(def: Phase): def is GenerativePhase {
  return def.kind === 'llm' || def.kind === 'agent' || def.kind === 'loop' || def.kind === 'interview';
}

export function resolveOutput(def: Phase): ResolvedOutput {
  if (def.kind === 'interview') {
    const schema = structuredClone(artifactJsonSchema('questions'));
    const questions = schema.properties?.questions;
    if (questions) questions.maxItems = def.maxQuestions;
    return { artifact: 'questions', schema };
  }
  const spec = 'output' in def && def.output ? def.output : { artifact: 'text' as const };
  return 'artifact' in spec ? { artifact: spec.artifact, schema: artifactJsonSchema(spec.artifact) } : { schema: spec.schema };
}

export function bindingContext(run: ActiveRun): BindingContext {
  return {
    inputs: run.inputs,
    phases: Object.fromEntries(Object.values(run.phases).map((p) => [p.id, { output: p.output }])),
    answers: Object.fromEntries(Object.values(run.phases).filter((p) => p.answers).map((p) => [p.id, p.answers!.map((a) => `Q: ${a.question}\nA: ${a.answer}`).join('\n\n')])),
  };
}

const SIMULATED_INTERVIEWER: ModelRef = { provider: 'simulated', model: 'sim-interviewer' };

/** A user's retry override first, then the template's models under the budget policy's steer. */
function modelsFor(run: ActiveRun, def: Phase, phase: PhaseState): ModelRef[] {
  if (phase.override) return [{ provider: phase.override.provider, model: phase.override.model }];
  if (def.kind === 'interview') return steeredModels([def.candidates?.[0] ?? SIMULATED_INTERVIEWER], steerOf(run, def.id));
  return steeredModels('candidates' in def && def.candidates ? def.candidates : [], steerOf(run, def.id));
}

function requestCandidates(run: ActiveRun, def: Phase, phase: PhaseState, round: number, revision?: { previous: unknown; feedback: string; score: number }): DecidedEvent[] {
  if (!('prompt' in def)) return [];
  const rendered = renderPrompt(def.prompt, bindingContext(run));
  const prompt = revision
    ? {
        ...rendered,
        user:
          `${rendered.user}\n\n--- Your previous answer ---\n${JSON.stringify(revision.previous, null, 2)}\n\n` +
          `--- Evaluator feedback (score ${revision.score.toFixed(2)}) ---\n${revision.feedback}\n\nRevise your answer to address the feedback.`,
      }
    : def.kind === 'interview'
      ? interviewPrompt(rendered, def.maxQuestions)
      : rendered;
  const output = resolveOutput(def);
  const timeoutSeconds = def.timeoutSeconds ?? run.template.defaults.timeoutSeconds;
  return modelsFor(run, def, phase).map((c, slot) => {
    const candidateId = ids.candidate(run.runId, def.id, phase.attempt, slot, round);
    return event(run.runId, 'CandidateRequested', candidateId, {
      phaseId: def.id,
      attempt: phase.attempt,
      round,
      candidateId,
      slot,
      provider: c.provider,
      model: c.model,
      ...(c.options ? { options: c.options } : {}),
      prompt,
      output,
      attemptToken: `${candidateId}@1`,
      timeoutSeconds,
      ...(def.kind === 'agent'
        ? { agent: { tools: def.tools ?? ['read_file', 'write_file', 'edit_file', 'list_files', 'search', 'bash', 'git'], maxIterations: def.maxIterations ?? 25 }, ...checkoutOf(run) }
        : {}),
    });
  });
}

/** Where a candidate's or a tool's worktree starts: the run branch's tip as the log knows it. */
function checkoutOf(run: ActiveRun): { checkout?: { repo: string; branch: string; commit: string; fresh: boolean } } {
  if (!run.workspace || !run.head) return {};
  return { checkout: { repo: run.workspace.repo, branch: run.workspace.branch, commit: run.head, fresh: run.workspace.kind === 'fresh' } };
}

function requestJudge(run: ActiveRun, def: GenerativePhase, phase: PhaseState, round: number, purpose: 'select' | 'evaluate', candidates: CandidateState[]): DecidedEvent {
  const declared =
    def.kind === 'loop' && purpose === 'evaluate'
      ? def.loop.evaluator
      : (('judge' in def ? def.judge : undefined) ?? { provider: candidates[0]!.provider, model: candidates[0]!.model });
  // a budget switch moves the judge to the cheaper model too (its criteria stay)
  const switched = steerOf(run, def.id).model;
  const spec = switched ? { ...declared, provider: switched.provider, model: switched.model } : declared;
  const judgeId = ids.judge(run.runId, def.id, phase.attempt, round, purpose);
  return event(run.runId, 'JudgeRequested', judgeId, {
    phaseId: def.id,
    attempt: phase.attempt,
    round,
    judgeId,
    purpose,
    provider: spec.provider,
    model: spec.model,
    criteria: spec.criteria ?? [...DEFAULT_CRITERIA],
    task: renderPrompt(def.prompt, bindingContext(run)).user,
    candidates: candidates.map((c) => ({ candidateId: c.id, output: c.output })),
    attemptToken: `${judgeId}@1`,
    missing: missingOf(phase, round),
  });
}

/** A failed attempt: retried with exponential backoff and jitter while the policy allows, else the phase fails. */
function failOrRetry(run: ActiveRun, def: Phase, phase: PhaseState, reason: Failure, ctx: DeciderContext): DecidedEvent[] {
  const policy = def.retry ?? run.template.defaults.retry;
  if (reason.retryable && phase.attempt < policy.maxAttempts) {
    const jitter = 0.8 + 0.4 * unitHash(`${run.runId}/${phase.id}/${phase.attempt}`);
    // a provider's retry-after (429) is honoured when it asks for longer than the backoff
    const delayMs = Math.max(Math.round(policy.backoffSeconds * 1000 * 2 ** (phase.attempt - 1) * jitter), reason.retryAfterMs ?? 0);
    return [
      event(run.runId, 'PhaseRetryScheduled', `${phase.id}.${phase.attempt + 1}`, {
        phaseId: phase.id,
        attempt: phase.attempt + 1,
        notBefore: new Date(Date.parse(ctx.now) + delayMs).toISOString(),
        cause: reason.code === 'timeout' ? 'timeout' : 'policy',
        override: phase.override ?? null,
      }),
    ];
  }
  return [event(run.runId, 'PhaseFailed', `${phase.id}.${phase.attempt}`, { phaseId: phase.id, attempt: phase.attempt, reason })];
}

function advancePhase(run: ActiveRun, def: Phase, phase: PhaseState, ctx: DeciderContext, canDispatch: boolean): DecidedEvent[] {
  if (phase.artifactId) return [event(run.runId, 'PhaseCompleted', `${phase.id}.${phase.attempt}`, { phaseId: phase.id, attempt: phase.attempt, artifactId: phase.artifactId })];
  if (phase.accepted) return recordArtifact(run, def, phase, phase.accepted.candidateId, phase.accepted.output);

  // the phase deadline abandons outstanding work; the retry policy decides what follows
  const outstanding = phase.candidates.filter((c) => c.status === 'requested');
  const waitingJudge = phase.judges.find((j) => j.status === 'requested');
  if (phase.deadline && phase.deadline <= ctx.now && phase.tool?.status === 'requested') {
    return failOrRetry(run, def, phase, { code: 'timeout', message: `the tool did not finish before the deadline ${phase.deadline}`, retryable: true }, ctx);
  }
  if (phase.deadline && phase.deadline <= ctx.now && (outstanding.length > 0 || waitingJudge)) {
    const timeout: Failure = { code: 'timeout', message: `no result within the phase timeout (deadline ${phase.deadline})`, retryable: true };
    if (outstanding.length > 0) {
      return outstanding.map((c) =>
        event(run.runId, 'CandidateFailed', `${c.id}/${c.attemptToken}`, { phaseId: phase.id, attempt: phase.attempt, candidateId: c.id, attemptToken: c.attemptToken, error: timeout }),
      );
    }
    return failOrRetry(run, def, phase, { ...timeout, message: `the judge did not answer before the deadline ${phase.deadline}` }, ctx);
  }
  // candidates whose retry fell due go out again (their siblings' results stay)
  const dueRetries = outstanding.filter((c) => c.retryAt && c.retryAt <= ctx.now);
  if (dueRetries.length > 0) return canDispatch ? dueRetries.map((c) => redispatch(run, phase, c, 'retry')) : [];

  switch (def.kind) {
    case 'gate':
      if (phase.gate === 'approved') return recordArtifact(run, def, phase, null, { decision: 'approved', rationale: phase.gateComment || 'approved without comment' });
      if (phase.gate === 'rejected') {
        return [
          event(run.runId, 'PhaseFailed', `${phase.id}.${phase.attempt}`, {
            phaseId: phase.id,
            attempt: phase.attempt,
            reason: { code: 'gate_rejected', message: phase.gateComment || 'rejected without comment', retryable: false },
          }),
        ];
      }
      return [];
    case 'condition':
      return phase.conditionResult === undefined ? [] : recordArtifact(run, def, phase, null, { result: phase.conditionResult });
    case 'tool':
      if (phase.tool?.status === 'completed') return recordArtifact(run, def, phase, null, phase.tool.result);
      if (phase.tool?.status === 'failed') return failOrRetry(run, def, phase, phase.tool.error!, ctx);
      return [];
    case 'interview': {
      if (phase.answers) return recordArtifact(run, def, phase, null, { questions: phase.questions ?? [], answers: phase.answers });
      if (phase.questions) return [];
      const generated = phase.candidates.find((c) => c.status === 'generated');
      if (generated) {
        const { questions } = generated.output as { questions: { id: string; question: string; why?: string }[] };
        return [event(run.runId, 'QuestionsAsked', `${phase.id}.${phase.attempt}`, { phaseId: phase.id, attempt: phase.attempt, questions })];
      }
      return allFailed(run, def, phase, phase.candidates, ctx);
    }
    case 'llm':
    case 'agent':
    case 'loop':
      return advanceGenerative(run, def, phase, ctx, canDispatch);
    default: {
      const never: never = def;
      throw new Error(`unknown phase kind ${JSON.stringify(never)}`);
    }
  }
}

function allFailed(run: ActiveRun, def: Phase, phase: PhaseState, candidates: CandidateState[], ctx: DeciderContext): DecidedEvent[] {
  if (candidates.some((c) => c.status === 'requested')) return [];
  const rejected = candidates.some((c) => c.status === 'rejected');
  const retryable = candidates.some((c) => c.status === 'failed' && c.error?.retryable);
  const timedOut = candidates.length > 0 && candidates.every((c) => c.error?.code === 'timeout');
  const why = candidates.map((c) => `${c.provider}/${c.model}: ${c.error?.message ?? c.status}`).join('; ');
  const code = timedOut ? 'timeout' : rejected && !retryable ? 'output_rejected' : 'all_candidates_failed';
  const retryAfterMs = Math.max(0, ...candidates.map((c) => c.error?.retryAfterMs ?? 0));
  return failOrRetry(
    run,
    def,
    phase,
    { code, message: `no candidate produced a valid output (${why})`, retryable: retryable && !rejected, ...(retryAfterMs > 0 ? { retryAfterMs } : {}) },
    ctx,
  );
}

function advanceGenerative(run: ActiveRun, def: GenerativePhase, phase: PhaseState, ctx: DeciderContext, canDispatch: boolean): DecidedEvent[] {
  const round = Math.max(0, ...phase.candidates.map((c) => c.round));
  const roundCandidates = phase.candidates.filter((c) => c.round === round);
  if (roundCandidates.some((c) => c.status === 'requested')) return [];
  const generated = roundCandidates.filter((c) => c.status === 'generated');
  if (generated.length === 0) return allFailed(run, def, phase, roundCandidates, ctx);

  // Select the round's best candidate: alone, it wins without a judge call.
  let winner: CandidateState | undefined = generated.length === 1 ? generated[0] : undefined;
  if (!winner) {
    const select = phase.judges.find((j) => j.round === round && j.purpose === 'select');
    if (!select) return canDispatch ? [requestJudge(run, def, phase, round, 'select', generated)] : [];
    if (select.status !== 'scored') return [];
    winner = generated.find((c) => c.id === select.winnerId);
    if (!winner) return []; // verdictFacts guarantees a known winner
  }
  if (def.kind === 'agent') return integrateWinner(run, def, phase, winner, generated, ctx, canDispatch);
  if (def.kind !== 'loop') return recordArtifact(run, def, phase, winner.id, winner.output);

  // a phase the budget policy shrank runs no judge: the loop keeps its first round's output
  if (steerOf(run, def.id).shrink) return recordArtifact(run, def, phase, winner.id, winner.output);
  // loop: evaluate the round's best, then pass, revise, or stop at maxAttempts with the best round
  const evaluation = phase.judges.find((j) => j.round === round && j.purpose === 'evaluate');
  if (!evaluation) return canDispatch ? [requestJudge(run, def, phase, round, 'evaluate', [winner])] : [];
  if (evaluation.status !== 'scored') return [];
  const score = evaluation.scores?.[winner.id]?.overall ?? 0;
  if (score >= def.loop.passThreshold || round + 1 >= def.loop.maxAttempts) {
    const best = bestLoopRound(phase) ?? winner;
    return recordArtifact(run, def, phase, best.id, best.output);
  }
  return canDispatch ? requestCandidates(run, def, phase, round + 1, { previous: winner.output, feedback: evaluation.rationale ?? '', score }) : [];
}

/** What an agent candidate's code-change output says of its commit (absent: it changed nothing or ran without a workspace). */
function candidateCommit(output: unknown): { commit: string; base: string; summary: string; diff: string; files: { path: string; change: string }[] } | null {
  const o = output as { commit?: unknown; base?: unknown; summary?: unknown; diff?: unknown; files?: unknown } | null;
  if (!o || typeof o !== 'object' || typeof o.commit !== 'string' || typeof o.base !== 'string' || !/^[0-9a-f]{40}$/.test(o.commit)) return null;
  return {
    commit: o.commit,
    base: o.base,
    summary: typeof o.summary === 'string' ? o.summary : '',
    diff: typeof o.diff === 'string' ? o.diff : '',
    files: Array.isArray(o.files) ? (o.files as { path: string; change: string }[]) : [],
  };
}

/**
 * An agent phase of a run with a workspace: the winner's commit goes onto the run branch (one
 * integration at a time per run, in completion order), then the losers' diffs are kept as
 * `candidate-diff` artifacts beside the phase's artifact. A conflict fails the phase with the
 * paths (a retry redoes it on the current branch); nothing is overwritten.
 */
function integrateWinner(run: ActiveRun, def: GenerativePhase, phase: PhaseState, winner: CandidateState, generated: CandidateState[], ctx: DeciderContext, canDispatch: boolean): DecidedEvent[] {
  const change = candidateCommit(winner.output);
  if (run.workspace && run.head && change) {
    const integration = phase.integration;
    if (!integration) {
      if (!canDispatch) return [];
      // serialised per run: the next waits until the branch tip it builds on is known
      if (Object.values(run.phases).some((p) => p.integration?.status === 'requested')) return [];
      const attemptToken = `${run.runId}.${phase.id}.${phase.attempt}.integrate`;
      const firstLine = change.summary.trim().split('\n')[0]?.slice(0, 60) || 'agent changes';
      const message =
        `conclave(${phase.id}): ${firstLine}\n\n` +
        `Run: ${run.runId}\nPhase: ${phase.id} (attempt ${phase.attempt})\nCandidate: ${winner.id}\nProvider: ${winner.provider}\nModel: ${winner.model}\n`;
      return [
        event(run.runId, 'IntegrationRequested', attemptToken, {
          phaseId: phase.id,
          attempt: phase.attempt,
          candidateId: winner.id,
          attemptToken,
          repo: run.workspace.repo,
          branch: run.workspace.branch,
          commit: change.commit,
          base: change.base,
          onto: run.head,
          message,
          at: ctx.now,
        }),
      ];
    }
    if (integration.status === 'requested') return [];
    if (integration.status === 'failed') {
      const reason = integration.error ?? { code: 'integration_failed', message: 'the winner could not be put on the run branch', retryable: true };
      return [event(run.runId, 'PhaseFailed', `${phase.id}.${phase.attempt}`, { phaseId: phase.id, attempt: phase.attempt, reason })];
    }
  }
  const losers = run.workspace
    ? generated
        .filter((c) => c.id !== winner.id)
        .map((c) => {
          const artifactId = `${ids.artifact(run.runId, def.id, phase.attempt)}.loser.${c.slot}`;
          const o = (c.output ?? {}) as { diff?: unknown; files?: unknown; commit?: unknown };
          const content = {
            candidateId: c.id,
            provider: c.provider,
            model: c.model,
            diff: typeof o.diff === 'string' ? o.diff : '',
            files: Array.isArray(o.files) ? o.files : [],
            ...(typeof o.commit === 'string' ? { commit: o.commit } : {}),
          };
          return event(run.runId, 'ArtifactRecorded', artifactId, { artifactId, phaseId: def.id, attempt: phase.attempt, candidateId: c.id, artifactType: 'candidate-diff', content });
        })
    : [];
  const integrated = phase.integration?.status === 'integrated' ? { commit: phase.integration.commit } : {};
  const content = winner.output && typeof winner.output === 'object' ? { ...(winner.output as object), ...integrated } : winner.output;
  return [...losers, ...recordArtifact(run, def, phase, winner.id, content)];
}

/** The evaluated candidate with the highest score across rounds (earliest round on ties). */
function bestLoopRound(phase: PhaseState): CandidateState | undefined {
  let best: { candidate: CandidateState; score: number } | undefined;
  for (const j of phase.judges) {
    if (j.purpose !== 'evaluate' || j.status !== 'scored' || !j.winnerId) continue;
    const score = j.scores?.[j.winnerId]?.overall ?? 0;
    const candidate = phase.candidates.find((c) => c.id === j.winnerId);
    if (candidate && (!best || score > best.score)) best = { candidate, score };
  }
  return best?.candidate;
}

function recordArtifact(run: ActiveRun, def: Phase, phase: PhaseState, candidateId: string | null, content: unknown): DecidedEvent[] {
  const artifactId = ids.artifact(run.runId, def.id, phase.attempt);
  const artifactType = def.kind === 'gate' ? 'decision' : def.kind === 'condition' ? 'json' : isGenerative(def) ? (resolveOutput(def).artifact ?? 'json') : 'json';
  return [event(run.runId, 'ArtifactRecorded', artifactId, { artifactId, phaseId: def.id, attempt: phase.attempt, candidateId, artifactType, content })];
}

/* ================================================================== helpers */

function phaseDef(run: ActiveRun, phaseId: string): Phase {
  return run.template.phases.find((p) => p.id === phaseId)!;
}

/** Deterministic value in [0, 1) from a string (FNV-1a): jitter without randomness in the decider. */
function unitHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h / 2 ** 32;
}

/** An event with an id derived from its business key: `<runId>/<Type>/<key>`. */
function event<T extends RunFact['type']>(runId: string, type: T, key: string, data: EventData<T>): DecidedEvent {
  return { id: `${runId}/${type}/${key}`, type, data } as DecidedEvent;
}
