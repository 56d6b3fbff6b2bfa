import { z } from 'zod';
import { ArtifactType } from './artifacts';
import { JsonSchema } from './json-schema';
import { BudgetAction, BudgetModel, BudgetPolicy, CandidateOptions, Prompt, Template } from './template';
import { TraceContext } from './trace';
import { StudyCompletedData, StudyItemFailedData, StudyJudgeRequestedData, StudyStartedData, StudyVerdictRecordedData } from './study';
import { ChangedFile, Checkout, GitSha, PartialWork, RunWorkspace } from './workspace';

/**
 * The log's event catalog. Names are past tense; business facts live in `data`, ids / actor /
 * causation in the envelope (STYLE.md §2). A shape that changes gets a new schemaVersion and an
 * upcaster; stored events are never rewritten.
 */
export const Actor = z.object({
  kind: z.enum(['user', 'system', 'worker']),
  id: z.string(),
});
export type Actor = z.infer<typeof Actor>;

export const EnvelopeBase = z.object({
  id: z.string().min(1),
  schemaVersion: z.number().int().positive(),
  /** `<aggregate>:<id>`, e.g. `run:3f0c…`; the subject is `events.<aggregate>.<id>` */
  streamId: z.string().regex(/^(run|template|provider|alert|study):[A-Za-z0-9_-]+$/),
  occurredAt: z.string().datetime({ offset: true }),
  correlationId: z.string(),
  causationId: z.string().nullable(),
  actor: Actor,
});

export const Tokens = z.object({
  input: z.number().int().nonnegative(),
  output: z.number().int().nonnegative(),
  /** input tokens served from the provider's prompt cache (included in `input`) */
  cached: z.number().int().nonnegative().optional(),
});
export type Tokens = z.infer<typeof Tokens>;

export const Failure = z.object({
  code: z.string(),
  message: z.string(),
  retryable: z.boolean().default(false),
  /** the provider asked to wait this long before retrying (429 retry-after) */
  retryAfterMs: z.number().int().nonnegative().optional(),
});
export type Failure = z.infer<typeof Failure>;

/** What a generative phase must produce: the JSON Schema is always resolved (for built-ins too). */
export const ResolvedOutput = z.object({ artifact: ArtifactType.optional(), schema: JsonSchema });
export type ResolvedOutput = z.infer<typeof ResolvedOutput>;

export const CriterionScores = z.record(z.string(), z.number().min(0).max(1));
export const CandidateScore = z.object({ overall: z.number().min(0).max(1), criteria: CriterionScores });
export type CandidateScore = z.infer<typeof CandidateScore>;

/* ------------------------------------------------------------------ template events */
export const TemplateCreatedData = z.object({ templateId: z.string(), version: z.literal(1), template: Template });
export const TemplateVersionAddedData = z.object({ templateId: z.string(), version: z.number().int().min(2), template: Template });
export const TemplateArchivedData = z.object({ templateId: z.string() });

/* ------------------------------------------------------------------ run events */
export const RunStartedData = z.object({
  runId: z.string(),
  templateId: z.string(),
  templateVersion: z.number().int().positive(),
  /** frozen snapshot: the run never sees later template versions */
  template: Template,
  name: z.string().nullable(),
  inputs: z.record(z.string(), z.unknown()),
  autoMode: z.boolean(),
  budgetUsd: z.number().positive().nullable(),
  /** set when the run is a rerun or a fork of another run */
  origin: z.object({ kind: z.enum(['rerun', 'fork']), runId: z.string() }).nullable().default(null),
  /** the repository and run branch agents and tools work on (absent in runs started before ADR 009) */
  workspace: RunWorkspace.optional(),
  /** the run's root span (one trace per run); absent when tracing was off at the start, or before issue 14 */
  trace: TraceContext.optional(),
  /** the run's own budget policy (POST /runs); absent: the template's defaults.budgetPolicy applies (ADR 024) */
  budgetPolicy: BudgetPolicy.optional(),
});
export const PhaseStartedData = z.object({
  phaseId: z.string(),
  attempt: z.number().int().positive(),
  /** when the attempt is abandoned (the phase timeout); the retry policy applies after it */
  deadline: z.string().datetime({ offset: true }).optional(),
  /** a user retry may run the phase on another model */
  override: z.object({ provider: z.string(), model: z.string() }).nullable().optional(),
});
/** loop phases: producer → evaluator → reviser rounds within one attempt (0 for other kinds) */
const Round = z.number().int().nonnegative().default(0);

export const CandidateRequestedData = z.object({
  phaseId: z.string(),
  attempt: z.number().int().positive(),
  round: Round,
  candidateId: z.string(),
  slot: z.number().int().nonnegative(),
  provider: z.string(),
  model: z.string(),
  options: CandidateOptions.optional(),
  prompt: Prompt,
  output: ResolvedOutput,
  /** agent phases of a run with a workspace: the candidate's own worktree starts here */
  checkout: Checkout.optional(),
  /** a result must carry this token; any other is stale and refused */
  attemptToken: z.string(),
  timeoutSeconds: z.number().int().positive(),
  /** agent phases: the tools the model may call in the run's workspace, and the iteration cap */
  agent: z.object({ tools: z.array(z.string()).min(1), maxIterations: z.number().int().positive() }).optional(),
});
/** one audited tool call of an agent candidate */
export const ToolCallRecord = z.object({
  tool: z.string(),
  input: z.unknown(),
  outputSummary: z.string(),
  durationMs: z.number().int().nonnegative(),
  refused: z.boolean(),
  at: z.string(),
});
export type ToolCallRecord = z.infer<typeof ToolCallRecord>;

/** one message of a candidate's conversation (each truncated to a cap by the worker) */
export const TranscriptMessage = z.object({
  role: z.enum(['system', 'user', 'assistant', 'thinking', 'tool_call', 'tool_result']),
  content: z.string(),
  /** tool_call / tool_result: the tool's name */
  tool: z.string().optional(),
  truncated: z.boolean().optional(),
});
export type TranscriptMessage = z.infer<typeof TranscriptMessage>;

/**
 * Where a candidate's whole conversation is kept. `key` is the SHA-256 of the transcript's JSON
 * (content-addressed). A small transcript (INLINE_TRANSCRIPT_MAX_BYTES of JSON at most) travels
 * `inline` in the result and its events and is not stored elsewhere; a larger one is stored in
 * the transcripts object store under `key` and the events carry only the reference. A reader
 * takes `inline` when present, else fetches `key` (events written before inlining have no
 * `inline`: they are read from the store as before).
 */
export const TranscriptRef = z.object({
  key: z.string().regex(/^sha256-[0-9a-f]{64}$/),
  bytes: z.number().int().nonnegative(),
  messages: z.number().int().nonnegative(),
  inline: z.array(TranscriptMessage).optional(),
});
export type TranscriptRef = z.infer<typeof TranscriptRef>;
/** Transcripts up to this many bytes of JSON travel inline in results and events (TranscriptRef.inline). */
export const INLINE_TRANSCRIPT_MAX_BYTES = 8 * 1024;

export const CandidateGeneratedData = z.object({
  phaseId: z.string(),
  attempt: z.number().int().positive(),
  candidateId: z.string(),
  output: z.unknown(),
  tokens: Tokens,
  costUsd: z.number().nonnegative(),
  durationMs: z.number().int().nonnegative(),
  workerId: z.string(),
  toolCalls: z.array(ToolCallRecord).optional(),
  transcript: TranscriptRef.optional(),
  /** the worker's span of the call (absent when tracing was off) */
  trace: TraceContext.optional(),
});
export const CandidateFailedData = z.object({
  phaseId: z.string(),
  attempt: z.number().int().positive(),
  candidateId: z.string(),
  /** the dispatch that failed (the work command id), so a cancellation can reach its worker */
  attemptToken: z.string().optional(),
  error: Failure,
  durationMs: z.number().int().nonnegative().optional(),
  workerId: z.string().optional(),
  transcript: TranscriptRef.optional(),
  /** what the failed call still cost (a provider bills an answer that fails its schema) */
  tokens: Tokens.optional(),
  costUsd: z.number().nonnegative().optional(),
  /**
   * Set when the failure was transient (429, 5xx, timeout, reset) and the phase's retry policy
   * leaves the candidate another try: this dispatch failed, the candidate is re-dispatched on its
   * own (CandidateRedispatched, reason `retry`) at `notBefore`, its siblings' results are kept.
   * Absent: the candidate is dropped from this attempt of the phase.
   */
  retry: z.object({ number: z.number().int().positive(), of: z.number().int().positive(), notBefore: z.string().datetime({ offset: true }) }).optional(),
  /** the worker's span of the call (absent when tracing was off) */
  trace: TraceContext.optional(),
});
/** A candidate a comparison went without: it exhausted its tries or failed for good. */
export const MissingCandidate = z.object({ candidateId: z.string(), provider: z.string(), model: z.string(), error: Failure });
export type MissingCandidate = z.infer<typeof MissingCandidate>;
export const JudgeRequestedData = z.object({
  phaseId: z.string(),
  attempt: z.number().int().positive(),
  round: Round,
  judgeId: z.string(),
  /**
   * select: pick the best of ≥ 2 candidates; evaluate: score one candidate for a loop, where the
   * rationale is the feedback handed to the reviser
   */
  purpose: z.enum(['select', 'evaluate']).default('select'),
  provider: z.string(),
  model: z.string(),
  criteria: z.array(z.string()).min(1),
  /** the phase's task, so an LLM judge knows what the candidates answer */
  task: z.string().default(''),
  candidates: z.array(z.object({ candidateId: z.string(), output: z.unknown() })).min(1),
  attemptToken: z.string(),
  /** the round's candidates that are not compared, and why */
  missing: z.array(MissingCandidate).default([]),
});
export const VerdictRecordedData = z.object({
  phaseId: z.string(),
  attempt: z.number().int().positive(),
  round: Round,
  judgeId: z.string(),
  purpose: z.enum(['select', 'evaluate']).default('select'),
  winnerId: z.string(),
  scores: z.record(z.string(), CandidateScore),
  rationale: z.string(),
  /** the order the candidates were shown to the judge (position-bias guard) */
  order: z.array(z.string()),
  /** the round's candidates the verdict went without, and why */
  missing: z.array(MissingCandidate).default([]),
  provider: z.string(),
  model: z.string(),
  tokens: Tokens,
  costUsd: z.number().nonnegative(),
});
export const ArtifactRecordedData = z.object({
  artifactId: z.string(),
  phaseId: z.string(),
  attempt: z.number().int().positive(),
  candidateId: z.string().nullable(),
  artifactType: z.string(),
  content: z.unknown(),
});
export const OutputRejectedData = z.object({
  phaseId: z.string(),
  attempt: z.number().int().positive(),
  candidateId: z.string(),
  errors: z.array(z.string()),
  raw: z.unknown(),
  transcript: TranscriptRef.optional(),
  /** what the rejected answer cost (absent when its candidate was already counted as generated) */
  tokens: Tokens.optional(),
  costUsd: z.number().nonnegative().optional(),
});
export const PhaseCompletedData = z.object({ phaseId: z.string(), attempt: z.number().int().positive(), artifactId: z.string().nullable() });
export const PhaseFailedData = z.object({ phaseId: z.string(), attempt: z.number().int().positive(), reason: Failure });
export const PhaseSkippedData = z.object({ phaseId: z.string(), reason: z.string() });
export const RunCompletedData = z.object({});
export const RunFailedData = z.object({ reason: Failure, phaseId: z.string().nullable() });


/* ------------------------------------------------------------------ human-in-the-loop */
export const Question = z.object({ id: z.string().min(1), question: z.string().min(1), why: z.string().optional() });
export const Answer = z.object({ question: z.string().min(1), answer: z.string() });
export const GateOpenedData = z.object({ phaseId: z.string(), attempt: z.number().int().positive(), message: z.string() });
export const GateApprovedData = z.object({ phaseId: z.string(), attempt: z.number().int().positive(), comment: z.string().nullable() });
export const GateRejectedData = z.object({ phaseId: z.string(), attempt: z.number().int().positive(), comment: z.string().nullable() });
export const QuestionsAskedData = z.object({ phaseId: z.string(), attempt: z.number().int().positive(), questions: z.array(Question).min(1).max(10) });
export const AnswersSubmittedData = z.object({ phaseId: z.string(), attempt: z.number().int().positive(), answers: z.array(Answer).min(1) });
/** manual mode (autoMode off, or a phase with autoProceed: false): these phases wait for `continue` */
export const ContinueRequiredData = z.object({ phaseIds: z.array(z.string()).min(1) });
export const RunContinuedData = z.object({ phaseIds: z.array(z.string()).min(1) });

/* ------------------------------------------------------------------ controls */
export const PauseReason = z.object({
  code: z.enum(['user', 'budget', 'provider_outage']),
  message: z.string(),
  provider: z.string().optional(),
});
export const RunPausedData = z.object({ reason: PauseReason });
export const RunResumedData = z.object({});
export const RunCancelledData = z.object({ reason: z.string().nullable(), abortedCommandIds: z.array(z.string()) });
/** a retry waits until `notBefore` (backoff) then starts `attempt`; a user retry may switch model */
export const PhaseRetryScheduledData = z.object({
  phaseId: z.string(),
  attempt: z.number().int().positive(),
  notBefore: z.string().datetime({ offset: true }),
  cause: z.enum(['user', 'policy', 'timeout']),
  override: z.object({ provider: z.string(), model: z.string() }).nullable(),
});
/** a user accepted an output that failed validation, possibly edited */
export const OutputAcceptedData = z.object({
  phaseId: z.string(),
  attempt: z.number().int().positive(),
  candidateId: z.string().nullable(),
  edited: z.boolean(),
  output: z.unknown(),
});
/** v2: `skipped` became `skippedPhaseIds` (named like `completedPhaseIds` and `resetPhaseIds`) */
export const ConditionEvaluatedData = z.object({ phaseId: z.string(), attempt: z.number().int().positive(), result: z.boolean(), skippedPhaseIds: z.array(z.string()) });
/** `commit`: the run branch's tip at the checkpoint (runs with a workspace) */
export const CheckpointCreatedData = z.object({ checkpointId: z.string(), phaseId: z.string(), completedPhaseIds: z.array(z.string()), commit: GitSha.optional() });
/** `commit`: the run branch is reset to this commit (the checkpoint's) */
export const RolledBackData = z.object({ checkpointId: z.string(), resetPhaseIds: z.array(z.string()), commit: GitSha.optional() });
export const RunForkedData = z.object({
  sourceRunId: z.string(),
  sourceSequence: z.number().int().nonnegative(),
  fromPhaseId: z.string(),
  /** upstream outputs reused as they were recorded in the source run */
  reused: z.array(z.object({ phaseId: z.string(), artifactId: z.string(), artifactType: z.string(), content: z.unknown() })),
});

/* ------------------------------------------------------------------ tool phases */
/** a tool phase asks a worker to run one allow-listed program in the run's workspace (no LLM) */
export const ToolRunRequestedData = z.object({
  phaseId: z.string(),
  attempt: z.number().int().positive(),
  /** the work command id and attempt token of this run of the tool */
  attemptToken: z.string(),
  command: z.string(),
  args: z.array(z.string()),
  timeoutSeconds: z.number().int().positive(),
  /** the tool runs in a worktree detached at the run branch's tip (runs with a workspace) */
  checkout: Checkout.optional(),
});
export const ToolRunCompletedData = z.object({
  phaseId: z.string(),
  attempt: z.number().int().positive(),
  exitCode: z.number().int(),
  stdout: z.string(),
  stderr: z.string(),
  durationMs: z.number().int().nonnegative(),
  workerId: z.string(),
});
export const ToolRunFailedData = z.object({ phaseId: z.string(), attempt: z.number().int().positive(), error: Failure, workerId: z.string().optional() });

/* ------------------------------------------------------------------ the run branch (ADR 009) */
/** the winner of an agent phase is to become one commit on the run branch */
export const IntegrationRequestedData = z.object({
  phaseId: z.string(),
  attempt: z.number().int().positive(),
  candidateId: z.string(),
  /** the work command id (one integration per phase attempt) */
  attemptToken: z.string(),
  repo: z.string(),
  branch: z.string(),
  /** the candidate's commit and the commit its worktree started from */
  commit: GitSha,
  base: GitSha,
  /** the run branch's tip the change is put on (differs from base when a parallel phase went first) */
  onto: GitSha,
  /** the run branch commit's message (names run, phase, candidate, provider and model) */
  message: z.string(),
  /** author and committer date: a redelivered integration makes the identical commit */
  at: z.string().datetime({ offset: true }),
});
export const ChangesIntegratedData = z.object({
  phaseId: z.string(),
  attempt: z.number().int().positive(),
  candidateId: z.string(),
  /** the new run branch tip and its parent */
  commit: GitSha,
  parent: GitSha,
  files: z.array(ChangedFile),
  workerId: z.string(),
});
/** the change does not apply on the run branch (a parallel phase changed the same lines) */
export const IntegrationFailedData = z.object({
  phaseId: z.string(),
  attempt: z.number().int().positive(),
  candidateId: z.string(),
  error: Failure,
  conflicts: z.array(z.string()),
});
/** what a cancelled or timed-out agent candidate had done: kept for the user, never committed */
export const PartialWorkRecordedData = z.object({
  phaseId: z.string(),
  attempt: z.number().int().positive(),
  candidateId: z.string(),
  partial: PartialWork,
  toolCalls: z.array(ToolCallRecord),
  transcript: TranscriptRef.optional(),
});

/* ------------------------------------------------------------------ timers, budgets, safety */
export const CandidateRedispatchedData = z.object({
  phaseId: z.string(),
  attempt: z.number().int().positive(),
  candidateId: z.string(),
  attemptToken: z.string(),
  /** stalled: its worker fell silent; lease_lost: its worker lost the lease and gave it back; retry: a transient failure's retry fell due */
  reason: z.enum(['stalled', 'timeout', 'retry', 'lease_lost']),
});
export const ResultRefusedData = z.object({
  commandId: z.string(),
  phaseId: z.string(),
  attemptToken: z.string(),
  reason: z.enum(['stale_token', 'stale_attempt', 'unknown_work']),
});
export const BudgetAlertData = z.object({ thresholdPct: z.union([z.literal(50), z.literal(80), z.literal(100)]), spentUsd: z.number(), budgetUsd: z.number() });
export const BudgetExceededData = z.object({ phaseId: z.string(), budgetUsd: z.number(), spentUsd: z.number(), reservedUsd: z.number(), estimateUsd: z.number() });
export const BudgetRaisedData = z.object({ budgetUsd: z.number().positive() });
/**
 * A budget policy rule fired (ADR 024): the figures that triggered it (reserved = spent + the
 * reservations of outstanding calls + the step's estimate, against `thresholdPct` % of the budget),
 * what it does, and the phases it changes (those not started yet: `shrink` / `switch`; `pause` and
 * `stop` change none). `phaseId`: the phase whose next step crossed the threshold.
 */
export const BudgetPolicyAppliedData = z.object({
  ruleIndex: z.number().int().nonnegative(),
  thresholdPct: z.number(),
  action: BudgetAction,
  model: BudgetModel.optional(),
  budgetUsd: z.number(),
  spentUsd: z.number(),
  reservedUsd: z.number(),
  estimateUsd: z.number(),
  phaseId: z.string(),
  phaseIds: z.array(z.string()),
});

/* ------------------------------------------------------------------ provider events (never the API key) */
export const ProviderKind = z.enum(['anthropic', 'openai', 'gemini', 'simulated']);
export type ProviderKind = z.infer<typeof ProviderKind>;
export const ModelPrice = z.object({ inputPer1M: z.number().nonnegative(), outputPer1M: z.number().nonnegative() });
export type ModelPrice = z.infer<typeof ModelPrice>;
/** the whole configuration after the change (the key itself lives only in provider_secrets) */
export const ProviderConfiguredData = z.object({
  providerId: z.string(),
  name: z.string(),
  kind: ProviderKind,
  baseUrl: z.string().nullable(),
  models: z.array(z.string()),
  enabled: z.boolean(),
  prices: z.record(z.string(), ModelPrice),
  /** whether an encrypted key is stored; the key and any part of it never enter the log */
  hasApiKey: z.boolean(),
  source: z.enum(['api', 'env']),
  /**
   * Which sealed key in `provider_secrets` this configuration uses (ADR 012): a random id, a
   * reference, never the key. Null when it has none. Absent in events written before ADR 012:
   * the provider's one legacy row (`LEGACY_SECRET_ID`) when `hasApiKey`.
   */
  secretId: z.string().min(1).max(64).nullable().optional(),
});
/** The secret id events written before ADR 012 refer to implicitly (see ProviderConfiguredData.secretId). */
export const LEGACY_SECRET_ID = 'legacy';
/** The sealed key a provider configuration refers to, or null. */
export function secretIdOf(config: { hasApiKey: boolean; secretId?: string | null }): string | null {
  return config.secretId === undefined ? (config.hasApiKey ? LEGACY_SECRET_ID : null) : config.secretId;
}
export const ProviderRemovedData = z.object({ providerId: z.string() });

/* ------------------------------------------------------------------ alert events (ADR 016) */
/**
 * What an operator is told about. `alertId` is the business key of the condition (the same stall,
 * the same provider window, the same run's spike…), and the subject is `events.alert.<alertId>`:
 * a repeated detection appends to a subject that already has its `AlertRaised` and is refused.
 */
export const ALERT_KINDS = ['run_stalled', 'provider_failures', 'cost_spike', 'dead_letter', 'provider_credentials', 'budget_threshold'] as const;
export const AlertKind = z.enum(ALERT_KINDS);
export type AlertKind = z.infer<typeof AlertKind>;
/** an alert id is a subject token and a stream id: letters, digits, "_" and "-" */
export const AlertId = z.string().regex(/^[A-Za-z0-9_-]{1,200}$/, 'an alert id is letters, digits, "_" and "-"');
export const AlertRaisedData = z.object({
  alertId: AlertId,
  kind: AlertKind,
  message: z.string().max(4000),
  /** what the alert is about, for links: a run, a provider (by name), a template, a consumer */
  runId: z.string().nullable().default(null),
  providerName: z.string().nullable().default(null),
  templateId: z.string().nullable().default(null),
  details: z.record(z.string(), z.unknown()).default({}),
});
export const AlertAcknowledgedData = z.object({
  /**
   * the alerts row's id: an AlertId, or the id of an alert no event raised (a process alert, a
   * budget alert of a run's log: `event:<id>`), whose subject is then a hash of it (alertSubjectKey)
   */
  alertId: z.string().min(1).max(300),
  comment: z.string().max(2000).optional(),
});

/** type → data schema for every event of the current catalog. */
export const EVENT_DATA = {
  TemplateCreated: TemplateCreatedData,
  TemplateVersionAdded: TemplateVersionAddedData,
  TemplateArchived: TemplateArchivedData,
  RunStarted: RunStartedData,
  PhaseStarted: PhaseStartedData,
  CandidateRequested: CandidateRequestedData,
  CandidateGenerated: CandidateGeneratedData,
  CandidateFailed: CandidateFailedData,
  JudgeRequested: JudgeRequestedData,
  VerdictRecorded: VerdictRecordedData,
  ArtifactRecorded: ArtifactRecordedData,
  OutputRejected: OutputRejectedData,
  PhaseCompleted: PhaseCompletedData,
  PhaseFailed: PhaseFailedData,
  PhaseSkipped: PhaseSkippedData,
  RunCompleted: RunCompletedData,
  RunFailed: RunFailedData,
  GateOpened: GateOpenedData,
  GateApproved: GateApprovedData,
  GateRejected: GateRejectedData,
  QuestionsAsked: QuestionsAskedData,
  AnswersSubmitted: AnswersSubmittedData,
  ContinueRequired: ContinueRequiredData,
  RunContinued: RunContinuedData,
  RunPaused: RunPausedData,
  RunResumed: RunResumedData,
  RunCancelled: RunCancelledData,
  PhaseRetryScheduled: PhaseRetryScheduledData,
  OutputAccepted: OutputAcceptedData,
  ConditionEvaluated: ConditionEvaluatedData,
  CheckpointCreated: CheckpointCreatedData,
  RolledBack: RolledBackData,
  RunForked: RunForkedData,
  CandidateRedispatched: CandidateRedispatchedData,
  ResultRefused: ResultRefusedData,
  BudgetAlert: BudgetAlertData,
  BudgetExceeded: BudgetExceededData,
  BudgetRaised: BudgetRaisedData,
  BudgetPolicyApplied: BudgetPolicyAppliedData,
  ToolRunRequested: ToolRunRequestedData,
  ToolRunCompleted: ToolRunCompletedData,
  ToolRunFailed: ToolRunFailedData,
  IntegrationRequested: IntegrationRequestedData,
  ChangesIntegrated: ChangesIntegratedData,
  IntegrationFailed: IntegrationFailedData,
  PartialWorkRecorded: PartialWorkRecordedData,
  ProviderConfigured: ProviderConfiguredData,
  ProviderRemoved: ProviderRemovedData,
  AlertRaised: AlertRaisedData,
  AlertAcknowledged: AlertAcknowledgedData,
  // study.ts imports this file: its schemas are read once both modules are loaded (either may load first)
  StudyStarted: z.lazy(() => StudyStartedData),
  StudyJudgeRequested: z.lazy(() => StudyJudgeRequestedData),
  StudyVerdictRecorded: z.lazy(() => StudyVerdictRecordedData),
  StudyItemFailed: z.lazy(() => StudyItemFailedData),
  StudyCompleted: z.lazy(() => StudyCompletedData),
} as const;
export type EventType = keyof typeof EVENT_DATA;
export const EVENT_TYPES = Object.keys(EVENT_DATA) as EventType[];
export const CURRENT_SCHEMA_VERSION: Record<EventType, number> = { ...(Object.fromEntries(EVENT_TYPES.map((t) => [t, 1])) as Record<EventType, number>), ConditionEvaluated: 2 };

function envelopeOf<T extends EventType>(type: T) {
  return EnvelopeBase.extend({ type: z.literal(type), data: EVENT_DATA[type] as (typeof EVENT_DATA)[T] });
}

export const TemplateCreated = envelopeOf('TemplateCreated');
export const TemplateVersionAdded = envelopeOf('TemplateVersionAdded');
export const TemplateArchived = envelopeOf('TemplateArchived');
export const RunStarted = envelopeOf('RunStarted');
export const PhaseStarted = envelopeOf('PhaseStarted');
export const CandidateRequested = envelopeOf('CandidateRequested');
export const CandidateGenerated = envelopeOf('CandidateGenerated');
export const CandidateFailed = envelopeOf('CandidateFailed');
export const JudgeRequested = envelopeOf('JudgeRequested');
export const VerdictRecorded = envelopeOf('VerdictRecorded');
export const ArtifactRecorded = envelopeOf('ArtifactRecorded');
export const OutputRejected = envelopeOf('OutputRejected');
export const PhaseCompleted = envelopeOf('PhaseCompleted');
export const PhaseFailed = envelopeOf('PhaseFailed');
export const PhaseSkipped = envelopeOf('PhaseSkipped');
export const RunCompleted = envelopeOf('RunCompleted');
export const RunFailed = envelopeOf('RunFailed');
export const GateOpened = envelopeOf('GateOpened');
export const GateApproved = envelopeOf('GateApproved');
export const GateRejected = envelopeOf('GateRejected');
export const QuestionsAsked = envelopeOf('QuestionsAsked');
export const AnswersSubmitted = envelopeOf('AnswersSubmitted');
export const ContinueRequired = envelopeOf('ContinueRequired');
export const RunContinued = envelopeOf('RunContinued');
export const RunPaused = envelopeOf('RunPaused');
export const RunResumed = envelopeOf('RunResumed');
export const RunCancelled = envelopeOf('RunCancelled');
export const PhaseRetryScheduled = envelopeOf('PhaseRetryScheduled');
export const OutputAccepted = envelopeOf('OutputAccepted');
export const ConditionEvaluated = envelopeOf('ConditionEvaluated');
export const CheckpointCreated = envelopeOf('CheckpointCreated');
export const RolledBack = envelopeOf('RolledBack');
export const RunForked = envelopeOf('RunForked');
export const CandidateRedispatched = envelopeOf('CandidateRedispatched');
export const ResultRefused = envelopeOf('ResultRefused');
export const BudgetAlert = envelopeOf('BudgetAlert');
export const BudgetExceeded = envelopeOf('BudgetExceeded');
export const BudgetRaised = envelopeOf('BudgetRaised');
export const BudgetPolicyApplied = envelopeOf('BudgetPolicyApplied');
export const ToolRunRequested = envelopeOf('ToolRunRequested');
export const ToolRunCompleted = envelopeOf('ToolRunCompleted');
export const ToolRunFailed = envelopeOf('ToolRunFailed');
export const IntegrationRequested = envelopeOf('IntegrationRequested');
export const ChangesIntegrated = envelopeOf('ChangesIntegrated');
export const IntegrationFailed = envelopeOf('IntegrationFailed');
export const PartialWorkRecorded = envelopeOf('PartialWorkRecorded');
export const ProviderConfigured = envelopeOf('ProviderConfigured');
export const ProviderRemoved = envelopeOf('ProviderRemoved');
export const AlertRaised = envelopeOf('AlertRaised');
export const AlertAcknowledged = envelopeOf('AlertAcknowledged');
export const StudyStarted = envelopeOf('StudyStarted');
export const StudyJudgeRequested = envelopeOf('StudyJudgeRequested');
export const StudyVerdictRecorded = envelopeOf('StudyVerdictRecorded');
export const StudyItemFailed = envelopeOf('StudyItemFailed');
export const StudyCompleted = envelopeOf('StudyCompleted');

export const TemplateEvent = z.discriminatedUnion('type', [TemplateCreated, TemplateVersionAdded, TemplateArchived]);
export type TemplateEvent = z.infer<typeof TemplateEvent>;

export const RunEvent = z.discriminatedUnion('type', [
  RunStarted, PhaseStarted, CandidateRequested, CandidateGenerated, CandidateFailed, JudgeRequested,
  VerdictRecorded, ArtifactRecorded, OutputRejected, PhaseCompleted, PhaseFailed, PhaseSkipped, RunCompleted, RunFailed,
  GateOpened, GateApproved, GateRejected, QuestionsAsked, AnswersSubmitted, ContinueRequired, RunContinued,
  RunPaused, RunResumed, RunCancelled, PhaseRetryScheduled, OutputAccepted, ConditionEvaluated, CheckpointCreated,
  RolledBack, RunForked, CandidateRedispatched, ResultRefused, BudgetAlert, BudgetExceeded, BudgetRaised,
  ToolRunRequested, ToolRunCompleted, ToolRunFailed, IntegrationRequested, ChangesIntegrated, IntegrationFailed, PartialWorkRecorded,
  BudgetPolicyApplied,
]);
export type RunEvent = z.infer<typeof RunEvent>;

export const ProviderEvent = z.discriminatedUnion('type', [ProviderConfigured, ProviderRemoved]);
export type ProviderEvent = z.infer<typeof ProviderEvent>;

export const AlertEvent = z.discriminatedUnion('type', [AlertRaised, AlertAcknowledged]);
export type AlertEvent = z.infer<typeof AlertEvent>;

/** a study's events (issue 15 §1, ADR 023): `events.study.<studyId>` */
export const StudyEvent = z.discriminatedUnion('type', [StudyStarted, StudyJudgeRequested, StudyVerdictRecorded, StudyItemFailed, StudyCompleted]);
export type StudyEvent = z.infer<typeof StudyEvent>;

export const ConclaveEvent = z.discriminatedUnion('type', [...TemplateEvent.options, ...RunEvent.options, ...ProviderEvent.options, ...AlertEvent.options, ...StudyEvent.options]);
export type ConclaveEvent = z.infer<typeof ConclaveEvent>;
export type EventOf<T extends EventType> = Extract<ConclaveEvent, { type: T }>;
export type EventData<T extends EventType> = EventOf<T>['data'];

/** An event as read back from the log: the envelope plus its position in the log (`sequence`). */
export type Recorded<E extends ConclaveEvent = ConclaveEvent> = E & { sequence: number };

/**
 * Log positions (ADR 014). One decision is one JetStream message (a commit of its events, in
 * order), so an event's `sequence` is its position: the message's stream sequence × 1000 + its
 * index in the commit. Positions are unique and increase along the log; a message written before
 * commits (one event per message) holds position `streamSequence × 1000`.
 */
export const POSITIONS_PER_MESSAGE = 1000;
/** the position of the `index`-th event of the message at `streamSequence` */
export const positionOf = (streamSequence: number, index = 0): number => streamSequence * POSITIONS_PER_MESSAGE + index;
/** the stream sequence of the message holding `position` */
export const messageSequenceOf = (position: number): number => Math.floor(position / POSITIONS_PER_MESSAGE);

/**
 * Upcasters: `type@version` → function turning the stored data into the next version's data.
 * `parseEvent` applies them in order before validation; stored events are never rewritten.
 */
export const UPCASTERS: Record<string, (data: unknown) => unknown> = {
  'ConditionEvaluated@1': (data) => {
    const { skipped, ...rest } = data as { skipped?: unknown };
    return { ...rest, skippedPhaseIds: skipped };
  },
};

/** Parse a stored event of any known version into the current catalog (throws on unknown/invalid). */
export function parseEvent(raw: unknown): ConclaveEvent {
  const obj = raw as { type?: string; schemaVersion?: number; data?: unknown };
  if (obj && typeof obj.type === 'string' && typeof obj.schemaVersion === 'number') {
    const target = CURRENT_SCHEMA_VERSION[obj.type as EventType];
    let { schemaVersion: version, data } = obj;
    while (target !== undefined && version < target) {
      const up = UPCASTERS[`${obj.type}@${version}`];
      if (!up) throw new Error(`no upcaster for ${obj.type} v${version}`);
      data = up(data);
      version += 1;
    }
    return ConclaveEvent.parse({ ...obj, schemaVersion: version, data });
  }
  return ConclaveEvent.parse(raw);
}

/**
 * The event catalog as text: the JSON Schema of every envelope and the current schema version of
 * every type. Two builds with the same text validate events alike; the event log hashes it to mark
 * the events it validated at append, so readers of the same catalog need not validate them again.
 */
export function eventCatalogText(): string {
  return JSON.stringify({ versions: CURRENT_SCHEMA_VERSION, envelope: z.toJSONSchema(ConclaveEvent, { unrepresentable: 'any' }) });
}

/** A new event's fields before the envelope's ids and time are stamped on. */
export type NewEvent<T extends EventType = EventType> = { [K in T]: { type: K; data: EventData<K> } }[T];
