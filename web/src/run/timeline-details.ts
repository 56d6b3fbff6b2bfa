import { budgetDecisionText, type EventData, type Tokens } from '@conclave/contracts';
import type { TimelineRow } from './timeline';

/**
 * What a timeline row says beyond its event name: the model, the winner and its score, how long
 * it took, the tokens and cost, the error, and when a scheduled retry goes out. Pure: it reads the
 * event's data and what earlier rows told (which model a candidate id stands for, when a phase
 * attempt started); no clock.
 */
export interface RowDetails {
  /** a short sentence for the row ("attempt 2", "slot 1", "3 questions") */
  summary: string | null;
  /** provider/model of the candidate, judge or override the event is about */
  model: string | null;
  /** VerdictRecorded: the winner's provider/model (or id) and its overall score */
  winner: { label: string; score: number | null } | null;
  durationMs: number | null;
  tokens: Tokens | null;
  costUsd: number | null;
  error: { code: string; message: string } | null;
  /** a retry scheduled for this time (PhaseRetryScheduled, CandidateFailed with `retry`) */
  retryAt: string | null;
}

/** What earlier rows told: candidate id → provider/model, and when each phase attempt and the run started. */
export interface TimelineContext {
  candidates: Map<string, string>;
  phaseStarts: Map<string, string>;
  runStartedAt: string | null;
}

type Data = Record<string, unknown>;
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const failure = (v: unknown): { code: string; message: string } | null => {
  const f = v as { code?: unknown; message?: unknown } | null | undefined;
  return f && typeof f.message === 'string' ? { code: typeof f.code === 'string' ? f.code : 'error', message: f.message } : null;
};
const tokens = (v: unknown): Tokens | null => {
  const t = v as { input?: unknown; output?: unknown } | null | undefined;
  return t && typeof t.input === 'number' && typeof t.output === 'number' ? { input: t.input, output: t.output } : null;
};
const modelOf = (d: Data): string | null => (str(d.provider) && str(d.model) ? `${d.provider as string}/${d.model as string}` : null);
const attemptKey = (phaseId: string | null, attempt: unknown) => `${phaseId ?? ''}#${String(attempt)}`;
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const between = (from: string | null | undefined, to: string): number | null => {
  if (!from) return null;
  const ms = Date.parse(to) - Date.parse(from);
  return Number.isFinite(ms) && ms >= 0 ? ms : null;
};

/** Build the context from the rows in sequence order; `known` adds candidates the run view already names. */
export function timelineContext(rows: readonly TimelineRow[], known: Iterable<{ id: string; provider: string; model: string }> = []): TimelineContext {
  const candidates = new Map<string, string>();
  for (const c of known) if (c.provider || c.model) candidates.set(c.id, `${c.provider}/${c.model}`);
  const phaseStarts = new Map<string, string>();
  let runStartedAt: string | null = null;
  for (const row of rows) {
    const d = (row.data ?? {}) as Data;
    if (row.type === 'CandidateRequested' && str(d.candidateId) && modelOf(d)) candidates.set(d.candidateId as string, modelOf(d)!);
    else if (row.type === 'PhaseStarted') phaseStarts.set(attemptKey(row.phaseId, d.attempt), row.occurredAt);
    else if (row.type === 'RunStarted') runStartedAt = row.occurredAt;
  }
  return { candidates, phaseStarts, runStartedAt };
}

const NONE: RowDetails = { summary: null, model: null, winner: null, durationMs: null, tokens: null, costUsd: null, error: null, retryAt: null };

export function describeRow(row: TimelineRow, ctx: TimelineContext): RowDetails {
  const d = (row.data ?? {}) as Data;
  const candidate = str(d.candidateId) ? (ctx.candidates.get(d.candidateId as string) ?? null) : null;
  const attemptStart = ctx.phaseStarts.get(attemptKey(row.phaseId, d.attempt));
  const round = num(d.round);
  const roundText = round ? ` · round ${round + 1}` : '';
  switch (row.type) {
    case 'RunStarted': {
      const template = (d.template ?? {}) as Data;
      const inputs = Object.keys((d.inputs ?? {}) as Data).length;
      return { ...NONE, summary: `${str(template.name) ?? 'template'} v${num(d.templateVersion) ?? '?'} · ${plural(inputs, 'input')}${d.autoMode === false ? ' · manual mode' : ''}` };
    }
    case 'PhaseStarted': {
      const override = d.override ? modelOf(d.override as Data) : null;
      return { ...NONE, summary: `attempt ${num(d.attempt) ?? '?'}`, model: override };
    }
    case 'CandidateRequested':
      return { ...NONE, summary: `slot ${(num(d.slot) ?? 0) + 1}${roundText}`, model: modelOf(d) };
    case 'CandidateGenerated':
      return { ...NONE, model: candidate, durationMs: num(d.durationMs), tokens: tokens(d.tokens), costUsd: num(d.costUsd) };
    case 'CandidateFailed': {
      const retry = d.retry as { number?: unknown; of?: unknown; notBefore?: unknown } | undefined;
      return {
        ...NONE,
        summary: retry ? `retry ${num(retry.number) ?? '?'} of ${num(retry.of) ?? '?'}` : null,
        model: candidate,
        durationMs: num(d.durationMs),
        tokens: num(d.costUsd) !== null ? tokens(d.tokens) : null,
        costUsd: num(d.costUsd),
        error: failure(d.error),
        retryAt: retry ? str(retry.notBefore) : null,
      };
    }
    case 'CandidateRedispatched':
      return { ...NONE, summary: `re-dispatched (${str(d.reason) ?? 'retry'})`, model: candidate };
    case 'OutputRejected': {
      const errors = Array.isArray(d.errors) ? d.errors.filter((e): e is string => typeof e === 'string') : [];
      return { ...NONE, model: candidate, tokens: num(d.costUsd) !== null ? tokens(d.tokens) : null, costUsd: num(d.costUsd), error: { code: 'output_rejected', message: errors.join('; ') || 'the output failed validation' } };
    }
    case 'JudgeRequested': {
      const compared = Array.isArray(d.candidates) ? d.candidates.length : 0;
      return { ...NONE, summary: `${str(d.purpose) === 'evaluate' ? 'evaluate' : 'compare'} ${plural(compared, 'candidate')}${roundText}`, model: modelOf(d) };
    }
    case 'VerdictRecorded': {
      const winnerId = str(d.winnerId);
      const scores = (d.scores ?? {}) as Record<string, { overall?: unknown }>;
      const score = winnerId ? num(scores[winnerId]?.overall) : null;
      const label = winnerId ? (ctx.candidates.get(winnerId) ?? winnerId) : '—';
      return {
        ...NONE,
        summary: str(d.purpose) === 'evaluate' ? `evaluated${roundText}` : `judged${roundText}`,
        model: modelOf(d),
        winner: { label, score },
        tokens: tokens(d.tokens),
        costUsd: num(d.costUsd),
      };
    }
    case 'ArtifactRecorded':
      return { ...NONE, summary: `${str(d.artifactType) ?? 'artifact'}${candidate ? ` from ${candidate}` : ''}` };
    case 'PhaseCompleted':
      return { ...NONE, summary: `attempt ${num(d.attempt) ?? '?'}`, durationMs: between(attemptStart, row.occurredAt) };
    case 'PhaseFailed':
      return { ...NONE, summary: `attempt ${num(d.attempt) ?? '?'}`, durationMs: between(attemptStart, row.occurredAt), error: failure(d.reason) };
    case 'PhaseSkipped':
      return { ...NONE, summary: str(d.reason) };
    case 'PhaseRetryScheduled': {
      const override = d.override ? modelOf(d.override as Data) : null;
      return { ...NONE, summary: `attempt ${num(d.attempt) ?? '?'} (${str(d.cause) ?? 'retry'})`, model: override, retryAt: str(d.notBefore) };
    }
    case 'RunCompleted':
      return { ...NONE, durationMs: between(ctx.runStartedAt, row.occurredAt) };
    case 'RunFailed':
      return { ...NONE, durationMs: between(ctx.runStartedAt, row.occurredAt), error: failure(d.reason) };
    case 'RunCancelled':
      return { ...NONE, summary: str(d.reason), durationMs: between(ctx.runStartedAt, row.occurredAt) };
    case 'RunPaused':
      return { ...NONE, summary: str((d.reason as Data | undefined)?.message) };
    case 'GateOpened':
      return { ...NONE, summary: str(d.message) };
    case 'GateApproved':
    case 'GateRejected':
      return { ...NONE, summary: str(d.comment) };
    case 'QuestionsAsked':
      return { ...NONE, summary: plural(Array.isArray(d.questions) ? d.questions.length : 0, 'question') };
    case 'AnswersSubmitted':
      return { ...NONE, summary: plural(Array.isArray(d.answers) ? d.answers.length : 0, 'answer') };
    case 'ConditionEvaluated':
      return { ...NONE, summary: `${d.result === true ? 'true' : 'false'}${Array.isArray(d.skippedPhaseIds) && d.skippedPhaseIds.length > 0 ? ` · skipped ${d.skippedPhaseIds.join(', ')}` : ''}` };
    case 'BudgetAlert':
      return { ...NONE, summary: `${num(d.thresholdPct) ?? '?'}% of the budget`, costUsd: num(d.spentUsd) };
    case 'BudgetExceeded':
      return { ...NONE, summary: `would exceed the budget of $${num(d.budgetUsd) ?? '?'}`, costUsd: num(d.spentUsd) };
    case 'BudgetRaised':
      return { ...NONE, summary: `budget $${num(d.budgetUsd) ?? '?'}` };
    case 'BudgetPolicyApplied': {
      const policy = d as unknown as EventData<'BudgetPolicyApplied'>;
      const model = policy.model ? `${policy.model.provider}/${policy.model.model}` : null;
      return { ...NONE, summary: budgetDecisionText(policy), model, costUsd: num(policy.spentUsd) };
    }
    case 'ResultRefused':
      return { ...NONE, summary: str(d.reason)?.replaceAll('_', ' ') ?? null };
    case 'ToolRunRequested':
      return { ...NONE, summary: [str(d.command), ...(Array.isArray(d.args) ? d.args.map(String) : [])].filter(Boolean).join(' ') };
    case 'ToolRunCompleted':
      return { ...NONE, summary: `exit ${num(d.exitCode) ?? '?'}`, durationMs: num(d.durationMs) };
    case 'ToolRunFailed':
      return { ...NONE, error: failure(d.error) };
    case 'IntegrationFailed':
      return { ...NONE, model: candidate, error: failure(d.error) };
    case 'ChangesIntegrated':
      return { ...NONE, summary: plural(Array.isArray(d.files) ? d.files.length : 0, 'file'), model: candidate };
    default:
      return { ...NONE, error: failure(d.error) ?? failure(d.reason) };
  }
}
