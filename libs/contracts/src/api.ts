import { z } from 'zod';
import { Answer, BudgetPolicyAppliedData, CandidateScore, MissingCandidate, PauseReason, Question, Tokens, ToolCallRecord, TranscriptMessage, TranscriptRef } from './events';
import { TraceContext } from './trace';
import { BudgetPolicy, Template } from './template';
import { ChangedFile, GitSha, PartialWork, RunWorkspace, WorkspaceRequest } from './workspace';

/**
 * REST shapes of DESIGN.md's external interface. Request bodies are strict (unknown fields are a
 * 400); response views are what the projector's read models serve.
 */
export const RunStatus = z.enum(['running', 'paused', 'waiting', 'completed', 'failed', 'cancelled']);
export type RunStatus = z.infer<typeof RunStatus>;
export const PhaseStatus = z.enum(['pending', 'running', 'waiting', 'completed', 'failed', 'skipped', 'cancelled']);
export type PhaseStatus = z.infer<typeof PhaseStatus>;
export const CandidateStatus = z.enum(['requested', 'generated', 'failed', 'rejected']);
export type CandidateStatus = z.infer<typeof CandidateStatus>;

export const CreateRunBody = z.strictObject({
  templateId: z.string().min(1),
  templateVersion: z.number().int().positive().optional(),
  name: z.string().max(200).optional(),
  inputs: z.record(z.string(), z.unknown()).default({}),
  autoMode: z.boolean().optional(),
  budgetUsd: z.number().positive().optional(),
  /** replaces the template's defaults.budgetPolicy for this run (ADR 024; a switch to a model with no price is a 422) */
  budgetPolicy: BudgetPolicy.optional(),
  /** the repository to work on (default: the template's, else a fresh repository of the run's own) */
  workspace: WorkspaceRequest.optional(),
});
export type CreateRunBody = z.infer<typeof CreateRunBody>;

/* Bodies of the run commands (`POST /runs/:id/...`): strict, like every request body. */
export const GateDecisionBody = z.strictObject({ comment: z.string().max(4000).optional() });
export const AnswerBody = z.strictObject({
  answers: z.array(z.strictObject({ question: z.string().min(1), answer: z.string().max(20_000) })).min(1).max(10),
});
export const RetryBody = z.strictObject({ provider: z.string().min(1).optional(), model: z.string().min(1).optional() });
export const AcceptBody = z.strictObject({ output: z.unknown().optional() });
export const RollbackBody = z.strictObject({ checkpointId: z.string().min(1) });
export const ForkBody = z.strictObject({ fromPhaseId: z.string().min(1) });
export const CancelBody = z.strictObject({ reason: z.string().max(2000).optional() });
export const EmptyBody = z.strictObject({});

/** Common query param of every GET: wait (bounded) until the projector applied this sequence. */
export const MinSequenceQuery = z.object({ min_sequence: z.coerce.number().int().nonnegative().optional() });

export const CreatedResponse = z.object({ id: z.string(), sequence: z.number().int().nonnegative() });
export const TemplateCreatedResponse = z.object({ id: z.string(), version: z.number().int().positive(), sequence: z.number().int() });
export const CommandAccepted = z.object({ sequence: z.number().int().nonnegative() });

export const TemplateSummary = z.object({
  id: z.string(),
  name: z.string(),
  version: z.number().int(),
  description: z.string(),
  archived: z.boolean(),
  updatedAt: z.string(),
});
export type TemplateSummary = z.infer<typeof TemplateSummary>;
export const TemplateView = TemplateSummary.extend({ template: Template, versions: z.array(z.number().int()) });
export type TemplateView = z.infer<typeof TemplateView>;

/** A candidate's retry after a transient failure (CandidateFailed.retry). */
export const CandidateRetry = z.object({ number: z.number().int().positive(), of: z.number().int().positive(), notBefore: z.string() });
export type CandidateRetry = z.infer<typeof CandidateRetry>;

export const CandidateView = z.object({
  id: z.string(),
  slot: z.number().int(),
  provider: z.string(),
  model: z.string(),
  status: CandidateStatus,
  tokens: Tokens,
  costUsd: z.number(),
  durationMs: z.number().nullable(),
  output: z.unknown().optional(),
  error: z.object({ code: z.string(), message: z.string() }).nullable().optional(),
  /** the stored conversation, when the worker recorded one: `GET /runs/:id/candidates/:candidateId/transcript` */
  transcript: TranscriptRef.nullable().optional(),
  /** a cancelled or timed-out agent: its uncommitted work and the tool calls it made */
  partial: PartialWork.extend({ toolCalls: z.array(ToolCallRecord) }).nullable().optional(),
  /**
   * Its last dispatch failed transiently (`error`) and it is re-dispatched at `notBefore`: try
   * `number` of `of` retries. The candidate is still outstanding (`requested`) meanwhile.
   */
  retry: CandidateRetry.nullable().optional(),
  /** when it was requested (CandidateRequested): a running candidate's elapsed time counts from here */
  requestedAt: z.string().nullable().optional(),
  /** loop phases: the producer/reviser round within the attempt, 0-based as in the events (0 for other kinds) */
  round: z.number().int().nonnegative().optional(),
  /** the worker's span of its last call (the run's trace); absent when tracing was off */
  trace: TraceContext.nullable().optional(),
});
export type CandidateView = z.infer<typeof CandidateView>;
/** `GET /runs/:id/candidates/:candidateId/transcript`: a candidate's whole conversation, in order */
export const CandidateTranscript = z.object({ runId: z.string(), candidateId: z.string(), messages: z.array(TranscriptMessage) });
export type CandidateTranscript = z.infer<typeof CandidateTranscript>;

export const VerdictView = z.object({
  winnerId: z.string(),
  scores: z.record(z.string(), CandidateScore),
  rationale: z.string(),
  /** the round's candidates the verdict went without (they exhausted their tries or failed for good), and why */
  missing: z.array(MissingCandidate).default([]),
  /** the judge call that gave it (VerdictRecorded): which model judged, and what that cost */
  judge: z.object({ provider: z.string(), model: z.string(), tokens: Tokens, costUsd: z.number() }).nullable().optional(),
});
export type VerdictView = z.infer<typeof VerdictView>;

/** `GET /runs/:id/verdicts?phase=&attempt=`: every judge call of a run, of every attempt and round. */
export const VerdictListItem = VerdictView.extend({
  phaseId: z.string(),
  attempt: z.number().int(),
  round: z.number().int(),
  purpose: z.enum(['select', 'evaluate']),
  recordedAt: z.string(),
});
export type VerdictListItem = z.infer<typeof VerdictListItem>;

/**
 * One attempt of a phase, as the log tells it (PhaseStarted … PhaseCompleted / PhaseFailed /
 * PhaseRetryScheduled). An attempt the retry policy abandoned is `failed` with `retried`.
 */
export const PhaseAttemptView = z.object({
  attempt: z.number().int().positive(),
  status: PhaseStatus,
  startedAt: z.string().nullable(),
  completedAt: z.string().nullable(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  /** the next attempt was scheduled after this one (`cause`), to start at `notBefore` */
  retried: z.object({ cause: z.enum(['user', 'policy', 'timeout']), notBefore: z.string() }).nullable(),
});
export type PhaseAttemptView = z.infer<typeof PhaseAttemptView>;

/** `GET /runs/:id/usage`: a run's spend by provider and model, candidates and judges apart (every attempt). */
export const RunUsageItem = z.object({
  role: z.enum(['candidate', 'judge']),
  provider: z.string(),
  model: z.string(),
  calls: z.number().int(),
  tokens: Tokens,
  costUsd: z.number(),
});
export type RunUsageItem = z.infer<typeof RunUsageItem>;

/** One round of a loop phase's current attempt: the candidate the evaluator scored, its score and feedback. */
export const LoopRoundView = z.object({
  /** 0-based, as in the events and CandidateView.round (a page shows "Round round + 1 of maxRounds") */
  round: z.number().int().nonnegative(),
  /** the round's candidate the evaluator scored: its only one, or the select verdict's winner (null until known) */
  candidateId: z.string().nullable(),
  /** the evaluator's overall score (0–1) of that candidate; null until evaluated */
  score: z.number().nullable(),
  criteria: z.record(z.string(), z.number()),
  /** the evaluator's rationale: the feedback handed to the next round's reviser */
  feedback: z.string().nullable(),
  evaluatedAt: z.string().nullable(),
});
export type LoopRoundView = z.infer<typeof LoopRoundView>;
/** A loop phase's bounds (the template's `loop.maxAttempts` and `passThreshold`) and every round of its current attempt. */
export const LoopView = z.object({
  maxRounds: z.number().int().positive(),
  passThreshold: z.number(),
  rounds: z.array(LoopRoundView),
});
export type LoopView = z.infer<typeof LoopView>;

export const PhaseView = z.object({
  id: z.string(),
  name: z.string().nullable(),
  kind: z.string(),
  dependsOn: z.array(z.string()),
  status: PhaseStatus,
  attempt: z.number().int(),
  startedAt: z.string().nullable(),
  completedAt: z.string().nullable(),
  candidates: z.array(CandidateView),
  /**
   * The verdict that named the candidate the phase took as its artifact (for a loop that stopped at
   * maxRounds: the best round's evaluation, not the last); before an artifact, the latest verdict.
   */
  verdict: VerdictView.nullable(),
  artifactId: z.string().nullable(),
  /** the candidate whose output became the phase's artifact (its winner); null until then, or when no candidate's output did */
  artifactCandidateId: z.string().nullable().optional(),
  /** loop phases: the bounds and each round's score and feedback (null for other kinds) */
  loop: LoopView.nullable().optional(),
  costUsd: z.number(),
  tokens: Tokens,
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  /** gate phases: the message and the human decision (null while open) */
  gate: z
    .object({ message: z.string(), decision: z.enum(['approved', 'rejected']).nullable(), comment: z.string().nullable() })
    .nullable()
    .optional(),
  /** interview phases: the questions asked and the answers (null until submitted) */
  interview: z.object({ questions: z.array(Question), answers: z.array(Answer).nullable() }).nullable().optional(),
  /** a scheduled retry: the attempt waits until this time (backoff) */
  retryAt: z.string().nullable().optional(),
  /** a user retry with another provider/model: what the next attempt uses */
  retryOverride: z.object({ provider: z.string(), model: z.string() }).nullable().optional(),
  /** condition phases: the expression's result */
  condition: z.object({ result: z.boolean() }).nullable().optional(),
  /** agent phases of a run with a workspace: the winner's commit on the run branch */
  commit: z.object({ sha: GitSha, parent: GitSha, candidateId: z.string(), files: z.array(ChangedFile) }).nullable().optional(),
  /** every attempt so far, oldest first (the current one last); earlier attempts' candidates: `GET /runs/:id/candidates?phase=&attempt=` */
  attempts: z.array(PhaseAttemptView).optional(),
});
export type PhaseView = z.infer<typeof PhaseView>;

export const RunOrigin = z.object({ kind: z.enum(['rerun', 'fork']), runId: z.string() });
export type RunOrigin = z.infer<typeof RunOrigin>;

/** A budget policy decision on the run view: BudgetPolicyApplied's figures, when it was taken. */
export const BudgetDecisionView = BudgetPolicyAppliedData.extend({ sequence: z.number().int(), at: z.string() });
export type BudgetDecisionView = z.infer<typeof BudgetDecisionView>;
export const RunBudgetPolicyView = z.object({ rules: BudgetPolicy, decisions: z.array(BudgetDecisionView) });
export type RunBudgetPolicyView = z.infer<typeof RunBudgetPolicyView>;

export const RunView = z.object({
  id: z.string(),
  name: z.string().nullable(),
  templateId: z.string(),
  templateVersion: z.number().int(),
  templateName: z.string(),
  status: RunStatus,
  inputs: z.record(z.string(), z.unknown()),
  phases: z.array(PhaseView),
  currentPhases: z.array(z.string()),
  costUsd: z.number(),
  tokens: Tokens,
  startedAt: z.string(),
  completedAt: z.string().nullable(),
  /** stream sequence of the last event folded into this view */
  sequence: z.number().int(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  /** what the run waits on from a human (status `waiting`) */
  pending: z
    .object({
      gates: z.array(z.object({ phaseId: z.string(), message: z.string() })),
      questions: z.array(z.object({ phaseId: z.string(), questions: z.array(Question) })),
      continue: z.array(z.string()),
    })
    .default({ gates: [], questions: [], continue: [] }),
  /** why the run is paused (status `paused`) */
  pauseReason: PauseReason.nullable().default(null),
  budgetUsd: z.number().nullable().default(null),
  /** a rerun or a fork: the run it came from */
  origin: RunOrigin.nullable().optional(),
  /** archived runs are hidden from `GET /runs` by default; `POST /runs/:id/unarchive` brings them back */
  archived: z.boolean().default(false),
  /** the repository, base and run branch; `head` is the run branch's tip as the log knows it */
  workspace: RunWorkspace.extend({ head: GitSha }).nullable().optional(),
  /** distinct files the run's commits changed (0 without a workspace) */
  filesChanged: z.number().int().default(0),
  /**
   * The projector met an event of this run it cannot fold (issue 11 §4): the view stops at the
   * event before it until the cause is fixed and the read models rebuilt; other runs go on.
   */
  parked: z.object({ sequence: z.number().int(), type: z.string(), reason: z.string(), at: z.string() }).nullable().default(null),
  /** the run's trace (one per run, RunStarted.trace); absent when tracing was off when it started */
  traceId: z.string().nullable().optional(),
  /** the budget policy the run steers by (ADR 024) and the decisions it took, in order; absent without a policy */
  budgetPolicy: RunBudgetPolicyView.optional(),
});
export type RunView = z.infer<typeof RunView>;

export const RunSummary = RunView.pick({
  id: true, name: true, templateId: true, templateVersion: true, templateName: true, status: true,
  costUsd: true, startedAt: true, completedAt: true, sequence: true, origin: true, archived: true, filesChanged: true,
}).extend({
  phasesTotal: z.number().int(),
  phasesDone: z.number().int(),
  /** a run with a started loop phase (the running one, else the last started): where it stands; null otherwise */
  loop: z
    .object({
      phaseId: z.string(),
      /** 1-based, as shown: "round 2 of 5" (the round under way, or the last one run) */
      round: z.number().int().positive(),
      maxRounds: z.number().int().positive(),
      /** the highest evaluator score over the attempt's rounds (null until one is evaluated) */
      bestScore: z.number().nullable(),
      passThreshold: z.number(),
    })
    .nullable()
    .optional(),
});
export type RunSummary = z.infer<typeof RunSummary>;

/** The runs list's sort keys (`GET /runs?sort=`); `started` (newest first) by default. */
export const RunSort = z.enum(['started', 'duration', 'cost', 'status', 'name']);
export type RunSort = z.infer<typeof RunSort>;
export const SortOrder = z.enum(['asc', 'desc']);
export type SortOrder = z.infer<typeof SortOrder>;
const IsoDateOrDateTime = z.union([z.iso.datetime({ offset: true }), z.iso.date()]);
export const RunListQuery = z.object({
  status: z.string().optional(),
  templateId: z.string().optional(),
  q: z.string().max(200).optional(),
  /** archived runs are hidden unless `true` (only archived) or `all` */
  archived: z.enum(['true', 'false', 'all']).optional(),
  /** absent: `started`; the order defaults to `desc` */
  sort: RunSort.optional(),
  order: SortOrder.optional(),
  /** runs started at or after (ISO date or date-time) */
  from: IsoDateOrDateTime.optional(),
  /** runs started before (exclusive; a bare date means its midnight UTC) */
  to: IsoDateOrDateTime.optional(),
  cursor: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
/** Query fields whose bad values are a 422 (well-formed text that breaks a rule), not a 400; `from` must also not be after `to`. */
export const RUN_LIST_VALIDATED_FIELDS = ['sort', 'order', 'from', 'to'] as const;
export const Page = <T extends z.ZodTypeAny>(item: T) => z.object({ items: z.array(item), nextCursor: z.string().nullable() });

export const TimelineEntry = z.object({
  sequence: z.number().int(),
  type: z.string(),
  occurredAt: z.string(),
  phaseId: z.string().nullable(),
  actor: z.object({ kind: z.string(), id: z.string() }),
  data: z.unknown(),
});
export type TimelineEntry = z.infer<typeof TimelineEntry>;
/** `phase` and `attempt` narrow a run's candidates or verdicts to one phase, one attempt (both optional). */
export const AttemptQuery = z.object({ phase: z.string().min(1).max(128).optional(), attempt: z.coerce.number().int().positive().max(1_000_000).optional() });
export const TimelineQuery = z.object({
  since_sequence: z.coerce.number().int().nonnegative().optional(),
  limit: z.coerce.number().int().min(1).max(5000).default(1000),
});

export const ArtifactView = z.object({
  id: z.string(),
  runId: z.string(),
  phaseId: z.string(),
  candidateId: z.string().nullable(),
  artifactType: z.string(),
  content: z.unknown(),
  createdAt: z.string(),
});
export type ArtifactView = z.infer<typeof ArtifactView>;

export const HealthView = z.object({ status: z.enum(['ok', 'degraded']), service: z.string(), checks: z.record(z.string(), z.boolean()).optional() });

/**
 * What an acknowledged write survives, as far as the gateway can tell (ADR 011). NATS:
 * `fsync-per-message` only when the server can (nats-server >= 2.10) and the deployment announces
 * `sync_interval: always` (CONCLAVE_NATS_SYNC=always); `interval` when the server cannot (2.9) or
 * the deployment says it does not; `unknown` otherwise, never a guess. `replicas`: the events
 * stream's replica count (null when it could not be read).
 */
export const NatsDurability = z.object({
  mode: z.enum(['fsync-per-message', 'interval', 'unknown']),
  detail: z.string(),
  /** from the connection's server INFO; null when not connected */
  serverVersion: z.string().nullable(),
  replicas: z.number().int().nullable(),
});
export type NatsDurability = z.infer<typeof NatsDurability>;
/** Postgres' own settings (`SHOW fsync`, `SHOW synchronous_commit`); null when it could not be asked. */
export const PostgresDurability = z.object({ fsync: z.string().nullable(), synchronous_commit: z.string().nullable() });
export type PostgresDurability = z.infer<typeof PostgresDurability>;
export const Durability = z.object({ nats: NatsDurability, postgres: PostgresDurability });
export type Durability = z.infer<typeof Durability>;
/** `GET /ready`: every check true, the projector caught up with the log, and what durability the servers give. */
export const ReadyView = HealthView.extend({
  sequence: z.object({ log: z.number().int().nullable(), applied: z.number().int().nullable() }),
  durability: Durability,
});
export type ReadyView = z.infer<typeof ReadyView>;

/** `GET /runs/:id/checkpoints`: a checkpoint at each phase boundary, oldest first. */
export const CheckpointView = z.object({
  id: z.string(),
  runId: z.string(),
  phaseId: z.string(),
  completedPhaseIds: z.array(z.string()),
  /** runs with a workspace: the run branch's commit at the checkpoint (a rollback resets the branch to it) */
  commit: GitSha.nullable().default(null),
  sequence: z.number().int(),
  createdAt: z.string(),
});
export type CheckpointView = z.infer<typeof CheckpointView>;

/** `GET /runs/:id/tool-calls`: every audited tool call of a run's agent candidates, in order. */
export const ToolCallView = ToolCallRecord.extend({
  runId: z.string(),
  phaseId: z.string(),
  attempt: z.number().int(),
  candidateId: z.string(),
  index: z.number().int(),
});
export type ToolCallView = z.infer<typeof ToolCallView>;

/**
 * `GET /events?after=&limit=&types=&streamId=`: the raw log, ascending. `nextAfter` is where the
 * next page starts: the last sequence returned, or with `types` and a page that is not full, the
 * last sequence read (filtered-out events are not read again; the gateway reads a bounded number
 * of events per request, so a page may be empty while `nextAfter` moves on).
 */
export const EventsQuery = z.object({
  after: z.coerce.number().int().nonnegative().default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  /** only these event types (comma-separated, e.g. `RunStarted,RunCompleted`) */
  types: z.string().max(2000).optional(),
  /** only one aggregate's events: its stream id (`run:<id>`, `template:<id>`, `provider:<id>`) */
  streamId: z.string().max(200).optional(),
});
export const LogEntry = z.object({
  sequence: z.number().int(),
  type: z.string(),
  streamId: z.string(),
  occurredAt: z.string(),
  actor: z.object({ kind: z.string(), id: z.string() }),
  data: z.unknown(),
});
export type LogEntry = z.infer<typeof LogEntry>;

/** `PUT /runs/:id/budget` */
export const BudgetBody = z.strictObject({ budgetUsd: z.number().positive() });
/** `POST /admin/replay` */
export const ReplayBody = z.strictObject({ verify: z.boolean().default(false) });
/** `GET /admin/replay` (and the answer of `POST`): the current or last replay of this gateway process. */
export const ReplayStatus = z.object({
  state: z.enum(['idle', 'running', 'completed', 'failed']),
  mode: z.enum(['swap', 'verify']).nullable(),
  /** preparing | folding | catching-up | verifying | swapping | done */
  phase: z.string().nullable(),
  processed: z.number().int(),
  total: z.number().int(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  /** the sequence the rebuild describes, once finished */
  sequence: z.number().int().nullable(),
  differenceCount: z.number().int().nullable(),
  differences: z.array(
    z.object({
      table: z.string(),
      key: z.array(z.unknown()),
      kind: z.enum(['missing_in_live', 'missing_in_rebuild', 'different']),
      columns: z.array(z.string()),
      live: z.record(z.string(), z.unknown()).nullable(),
      rebuilt: z.record(z.string(), z.unknown()).nullable(),
    }),
  ),
  error: z.string().nullable(),
});
export type ReplayStatus = z.infer<typeof ReplayStatus>;
