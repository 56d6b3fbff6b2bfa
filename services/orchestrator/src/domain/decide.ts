import {
  artifactJsonSchema,
  DEFAULT_CRITERIA,
  ids,
  type CandidateResult,
  type EventData,
  type GenerativePhase,
  type JsonSchema,
  type Phase,
  type ResolvedOutput,
  type Template,
  type VerdictResult,
} from '@conclave/contracts';
import { renderPrompt, type BindingContext } from './render';
import { evolve, isActive, type ActiveRun, type CandidateState, type PhaseState, type RunFact, type RunState } from './run-state';

/**
 * The orchestrator's pure decider. `decide(state, input, ctx)` returns the events to append:
 * first the facts the input establishes (idempotent by business key: a duplicate or stale result
 * establishes nothing), then `reconcile`, which derives every missing next step from the state.
 * Because reconcile runs on every input, a redelivered input also heals an append that a crash
 * cut short. Event ids are derived from business keys, so a repeated decision deduplicates in
 * JetStream as well.
 */
export type DeciderInput =
  | {
      type: 'StartRun';
      runId: string;
      templateId: string;
      templateVersion: number;
      template: Template;
      name: string | null;
      inputs: Record<string, unknown>;
      autoMode: boolean;
      budgetUsd: number | null;
    }
  | { type: 'CandidateResult'; result: CandidateResult }
  | { type: 'VerdictResult'; result: VerdictResult }
  | { type: 'Reconcile' };

export interface DeciderContext {
  /** output validation (ajv in the shell); returns human-readable errors, empty when valid */
  validate: (output: unknown, schema: JsonSchema) => string[];
}

export type DecidedEvent = RunFact & { id: string };

export class IllegalCommandError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IllegalCommandError';
  }
}

const MAX_STEPS = 10_000;

export function decide(state: RunState, input: DeciderInput, ctx: DeciderContext): DecidedEvent[] {
  const facts = establish(state, input, ctx);
  let current = facts.reduce((s, e) => evolve(s, e), state);
  const events = [...facts];
  for (let i = 0; i < MAX_STEPS; i++) {
    const next = reconcileStep(current);
    if (next.length === 0) return events;
    events.push(...next);
    current = next.reduce((s, e) => evolve(s, e), current);
  }
  throw new Error('reconcile did not settle'); // a bug, never a user error
}

/* ------------------------------------------------------------------ facts */

function establish(state: RunState, input: DeciderInput, ctx: DeciderContext): DecidedEvent[] {
  switch (input.type) {
    case 'StartRun': {
      if (isActive(state)) {
        if (state.runId === input.runId) return []; // a retried start
        throw new IllegalCommandError(`run ${state.runId} already exists`);
      }
      const { type: _t, ...data } = input;
      return [event(input.runId, 'RunStarted', 'started', data)];
    }
    case 'CandidateResult':
      return isActive(state) ? candidateFacts(state, input.result, ctx) : [];
    case 'VerdictResult':
      return isActive(state) ? verdictFacts(state, input.result) : [];
    case 'Reconcile':
      return [];
    default: {
      const never: never = input;
      throw new Error(`unknown input ${JSON.stringify(never)}`);
    }
  }
}

/** Stale (another attempt or dispatch) or duplicate results establish nothing. */
function candidateFacts(run: ActiveRun, r: CandidateResult, ctx: DeciderContext): DecidedEvent[] {
  const phase = run.phases[r.phaseId];
  const candidate = phase?.candidates.find((c) => c.id === r.candidateId);
  if (!phase || phase.status !== 'running' || phase.attempt !== r.attempt || !candidate) return [];
  if (candidate.attemptToken !== r.attemptToken || candidate.status !== 'requested') return [];
  const base = { phaseId: r.phaseId, attempt: r.attempt, candidateId: r.candidateId };
  if (r.outcome.status === 'failed') {
    return [event(run.runId, 'CandidateFailed', r.candidateId, { ...base, error: r.outcome.error, durationMs: r.durationMs, workerId: r.workerId })];
  }
  const errors = ctx.validate(r.outcome.output, candidate.resolvedOutput.schema);
  if (errors.length > 0) {
    return [event(run.runId, 'OutputRejected', r.candidateId, { ...base, errors, raw: r.outcome.output })];
  }
  return [
    event(run.runId, 'CandidateGenerated', r.candidateId, {
      ...base,
      output: r.outcome.output,
      tokens: r.outcome.tokens,
      costUsd: r.outcome.costUsd,
      durationMs: r.durationMs,
      workerId: r.workerId,
    }),
  ];
}

function verdictFacts(run: ActiveRun, r: VerdictResult): DecidedEvent[] {
  const phase = run.phases[r.phaseId];
  const judge = phase?.judges.find((j) => j.id === r.judgeId);
  if (!phase || phase.status !== 'running' || phase.attempt !== r.attempt || !judge) return [];
  if (judge.attemptToken !== r.attemptToken || judge.status !== 'requested') return [];
  if (r.outcome.status === 'failed') {
    return [
      event(run.runId, 'PhaseFailed', `${phase.id}.${phase.attempt}`, {
        phaseId: phase.id,
        attempt: phase.attempt,
        reason: { code: 'judge_failed', message: r.outcome.error.message, retryable: r.outcome.error.retryable },
      }),
    ];
  }
  const known = new Set(phase.candidates.map((c) => c.id));
  if (!known.has(r.outcome.winnerId)) {
    return [
      event(run.runId, 'PhaseFailed', `${phase.id}.${phase.attempt}`, {
        phaseId: phase.id,
        attempt: phase.attempt,
        reason: { code: 'judge_failed', message: `the judge named unknown candidate ${r.outcome.winnerId}`, retryable: false },
      }),
    ];
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
      provider: r.provider,
      model: r.model,
      tokens: r.outcome.tokens,
      costUsd: r.outcome.costUsd,
    }),
  ];
}

/* ------------------------------------------------------------------ reconcile */

/** The next events the state calls for (empty when it is waiting on the outside world). */
export function reconcileStep(state: RunState): DecidedEvent[] {
  if (!isActive(state) || state.status !== 'running') return [];
  const run = state;
  for (const def of run.template.phases) {
    const phase = run.phases[def.id]!;
    if (phase.status === 'running') {
      const step = advancePhase(run, def, phase);
      if (step.length > 0) return step;
    }
  }
  const failed = run.template.phases.find((p) => run.phases[p.id]!.status === 'failed');
  if (failed) {
    const reason = run.phases[failed.id]!.error ?? { code: 'phase_failed', message: `phase ${failed.id} failed`, retryable: false };
    return [event(run.runId, 'RunFailed', 'failed', { reason: { ...reason, message: `phase "${failed.id}" failed: ${reason.message}` }, phaseId: failed.id })];
  }
  const ready = run.template.phases.filter((p) => run.phases[p.id]!.status === 'pending' && p.dependsOn.every((d) => isDone(run.phases[d]!)));
  if (ready.length > 0) return ready.flatMap((p) => startPhase(run, p, 1));
  if (run.template.phases.every((p) => isDone(run.phases[p.id]!))) return [event(run.runId, 'RunCompleted', 'completed', {})];
  return [];
}

const isDone = (p: PhaseState) => p.status === 'completed' || p.status === 'skipped';

function startPhase(run: ActiveRun, def: Phase, attempt: number): DecidedEvent[] {
  const started = event(run.runId, 'PhaseStarted', `${def.id}.${attempt}`, { phaseId: def.id, attempt });
  if (def.kind === 'llm' || def.kind === 'loop') return [started, ...requestCandidates(run, def, attempt, 0)];
  // The remaining kinds (agent, interview, gate, condition, tool) are executed by later work on
  // the orchestrator; until then a run reaching one fails loudly with a typed reason.
  return [
    started,
    event(run.runId, 'PhaseFailed', `${def.id}.${attempt}`, {
      phaseId: def.id,
      attempt,
      reason: { code: 'unsupported_phase_kind', message: `phase kind "${def.kind}" is not executable by this orchestrator version`, retryable: false },
    }),
  ];
}

export function resolveOutput(def: GenerativePhase): ResolvedOutput {
  const spec = def.output ?? { artifact: 'text' as const };
  return 'artifact' in spec ? { artifact: spec.artifact, schema: artifactJsonSchema(spec.artifact) } : { schema: spec.schema };
}

export function bindingContext(run: ActiveRun): BindingContext {
  return {
    inputs: run.inputs,
    phases: Object.fromEntries(Object.values(run.phases).map((p) => [p.id, { output: p.output }])),
    answers: {},
  };
}

function requestCandidates(run: ActiveRun, def: GenerativePhase, attempt: number, round: number, revision?: { previous: unknown; feedback: string; score: number }): DecidedEvent[] {
  const rendered = renderPrompt(def.prompt, bindingContext(run));
  const prompt = revision
    ? {
        ...rendered,
        user:
          `${rendered.user}\n\n--- Your previous answer ---\n${JSON.stringify(revision.previous, null, 2)}\n\n` +
          `--- Evaluator feedback (score ${revision.score.toFixed(2)}) ---\n${revision.feedback}\n\nRevise your answer to address the feedback.`,
      }
    : rendered;
  const output = resolveOutput(def);
  const timeoutSeconds = def.timeoutSeconds ?? run.template.defaults.timeoutSeconds;
  return def.candidates.map((c, slot) => {
    const candidateId = ids.candidate(run.runId, def.id, attempt, slot, round);
    return event(run.runId, 'CandidateRequested', candidateId, {
      phaseId: def.id,
      attempt,
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
    });
  });
}

function requestJudge(
  run: ActiveRun,
  def: GenerativePhase,
  phase: PhaseState,
  round: number,
  purpose: 'select' | 'evaluate',
  candidates: CandidateState[],
): DecidedEvent {
  const spec =
    def.kind === 'loop' && purpose === 'evaluate'
      ? def.loop.evaluator
      : (('judge' in def ? def.judge : undefined) ?? { provider: def.candidates[0]!.provider, model: def.candidates[0]!.model });
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
  });
}

function advancePhase(run: ActiveRun, def: Phase, phase: PhaseState): DecidedEvent[] {
  if (def.kind !== 'llm' && def.kind !== 'loop') return [];
  if (phase.artifactId) return [event(run.runId, 'PhaseCompleted', `${phase.id}.${phase.attempt}`, { phaseId: phase.id, attempt: phase.attempt, artifactId: phase.artifactId })];
  const round = Math.max(0, ...phase.candidates.map((c) => c.round));
  const roundCandidates = phase.candidates.filter((c) => c.round === round);
  if (roundCandidates.some((c) => c.status === 'requested')) return [];
  const generated = roundCandidates.filter((c) => c.status === 'generated');
  if (generated.length === 0) {
    const why = roundCandidates.map((c) => `${c.provider}/${c.model}: ${c.error?.message ?? c.status}`).join('; ');
    return [
      event(run.runId, 'PhaseFailed', `${phase.id}.${phase.attempt}`, {
        phaseId: phase.id,
        attempt: phase.attempt,
        reason: { code: 'all_candidates_failed', message: `no candidate produced a valid output (${why})`, retryable: true },
      }),
    ];
  }

  // Select the round's best candidate: alone, it wins without a judge call.
  let winner: CandidateState | undefined = generated.length === 1 ? generated[0] : undefined;
  if (!winner) {
    const select = phase.judges.find((j) => j.round === round && j.purpose === 'select');
    if (!select) return [requestJudge(run, def, phase, round, 'select', generated)];
    if (select.status !== 'scored') return [];
    winner = generated.find((c) => c.id === select.winnerId);
    if (!winner) return []; // verdictFacts guarantees a known winner
  }

  if (def.kind === 'llm') return recordArtifact(run, def, phase, winner);

  // loop: evaluate the round's best, then pass, revise, or stop at maxAttempts with the best round
  const evaluation = phase.judges.find((j) => j.round === round && j.purpose === 'evaluate');
  if (!evaluation) return [requestJudge(run, def, phase, round, 'evaluate', [winner])];
  if (evaluation.status !== 'scored') return [];
  const score = evaluation.scores?.[winner.id]?.overall ?? 0;
  if (score >= def.loop.passThreshold || round + 1 >= def.loop.maxAttempts) {
    return recordArtifact(run, def, phase, bestLoopRound(phase) ?? winner);
  }
  return requestCandidates(run, def, phase.attempt, round + 1, { previous: winner.output, feedback: evaluation.rationale ?? '', score });
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

function recordArtifact(run: ActiveRun, def: GenerativePhase, phase: PhaseState, winner: CandidateState): DecidedEvent[] {
  const artifactId = ids.artifact(run.runId, def.id, phase.attempt);
  const spec = resolveOutput(def);
  return [
    event(run.runId, 'ArtifactRecorded', artifactId, {
      artifactId,
      phaseId: def.id,
      attempt: phase.attempt,
      candidateId: winner.id,
      artifactType: spec.artifact ?? 'json',
      content: winner.output,
    }),
  ];
}

/* ------------------------------------------------------------------ helpers */

/** An event with an id derived from its business key: `<runId>/<Type>/<key>`. */
function event<T extends RunFact['type']>(runId: string, type: T, key: string, data: EventData<T>): DecidedEvent {
  return { id: `${runId}/${type}/${key}`, type, data } as DecidedEvent;
}
