import { z } from 'zod';
import { ErrorBody } from './errors';
import { CandidateRequestedData, CandidateScore, Failure, IntegrationRequestedData, JudgeRequestedData, Tokens, ToolCallRecord, ToolRunRequestedData, TranscriptRef } from './events';
import { BudgetPolicy, Template } from './template';
import { StartStudy } from './study';
import { TraceContext } from './trace';
import { ChangedFile, GitSha, PartialWork, WorkspaceSpec } from './workspace';

/* ------------------------------------------------- gateway → orchestrator (NATS request/reply) */
export const CreateTemplate = z.object({ type: z.literal('CreateTemplate'), template: Template });
export const AddTemplateVersion = z.object({ type: z.literal('AddTemplateVersion'), templateId: z.string(), template: Template });
export const ArchiveTemplate = z.object({ type: z.literal('ArchiveTemplate'), templateId: z.string() });
export const StartRun = z.object({
  type: z.literal('StartRun'),
  templateId: z.string().min(1),
  templateVersion: z.number().int().positive().optional(),
  name: z.string().max(200).optional(),
  inputs: z.record(z.string(), z.unknown()).default({}),
  autoMode: z.boolean().default(true),
  budgetUsd: z.number().positive().optional(),
  budgetPolicy: BudgetPolicy.optional(),
  /** resolved and checked by the gateway (a fresh repository when the user named none) */
  workspace: WorkspaceSpec.optional(),
});
const RunRef = { runId: z.string().min(1) };
const PhaseRef = { runId: z.string().min(1), phaseId: z.string().min(1) };
export const PauseRun = z.object({ type: z.literal('PauseRun'), ...RunRef });
export const ResumeRun = z.object({ type: z.literal('ResumeRun'), ...RunRef });
export const CancelRun = z.object({ type: z.literal('CancelRun'), ...RunRef, reason: z.string().max(2000).optional() });
export const ContinueRun = z.object({ type: z.literal('ContinueRun'), ...RunRef });
export const RetryPhase = z.object({ type: z.literal('RetryPhase'), ...PhaseRef, provider: z.string().min(1).optional(), model: z.string().min(1).optional() });
export const SkipPhase = z.object({ type: z.literal('SkipPhase'), ...PhaseRef });
export const ApproveGate = z.object({ type: z.literal('ApproveGate'), ...PhaseRef, comment: z.string().max(4000).optional() });
export const RejectGate = z.object({ type: z.literal('RejectGate'), ...PhaseRef, comment: z.string().max(4000).optional() });
export const SubmitAnswers = z.object({
  type: z.literal('SubmitAnswers'),
  ...PhaseRef,
  answers: z.array(z.object({ question: z.string().min(1), answer: z.string().max(20_000) })).min(1).max(10),
});
export const AcceptOutput = z.object({ type: z.literal('AcceptOutput'), ...PhaseRef, output: z.unknown().optional() });
export const RollbackRun = z.object({ type: z.literal('RollbackRun'), ...RunRef, checkpointId: z.string().min(1) });
export const ForkRun = z.object({ type: z.literal('ForkRun'), ...RunRef, fromPhaseId: z.string().min(1) });
export const RerunRun = z.object({ type: z.literal('RerunRun'), ...RunRef });
export const RaiseBudget = z.object({ type: z.literal('RaiseBudget'), ...RunRef, budgetUsd: z.number().positive() });
/** Commands addressed to an existing run (each answers `{ sequence }` or a typed 404/409/422). */
export const RunCommand = z.discriminatedUnion('type', [
  PauseRun, ResumeRun, CancelRun, ContinueRun, RetryPhase, SkipPhase, ApproveGate, RejectGate, SubmitAnswers, AcceptOutput,
  RollbackRun, ForkRun, RerunRun, RaiseBudget,
]);
export type RunCommand = z.infer<typeof RunCommand>;

/** Hand a dead letter's original message back to its consumer (answers `{ id, sequence }`: the redriven mark). */
export const RedriveDeadLetter = z.object({ type: z.literal('RedriveDeadLetter'), deadLetterId: z.string().regex(/^[1-9][0-9]{0,15}$/) });

export const OrchestratorCommand = z.discriminatedUnion('type', [CreateTemplate, AddTemplateVersion, ArchiveTemplate, StartRun, RedriveDeadLetter, StartStudy, ...RunCommand.options]);
export type OrchestratorCommand = z.infer<typeof OrchestratorCommand>;
export type OrchestratorCommandInput = z.input<typeof OrchestratorCommand>;

/** Request: the command plus who asked and a correlation id (the REST request id). */
export const OrchestratorRequest = z.object({
  command: OrchestratorCommand,
  actor: z.object({ kind: z.enum(['user', 'system']), id: z.string() }),
  requestId: z.string(),
});
export type OrchestratorRequest = z.infer<typeof OrchestratorRequest>;

export const OrchestratorReply = z.discriminatedUnion('ok', [
  z.object({
    ok: z.literal(true),
    /** the aggregate the command touched and the stream sequence of its last appended event */
    id: z.string(),
    sequence: z.number().int().nonnegative(),
    version: z.number().int().positive().optional(),
  }),
  z.object({ ok: z.literal(false), error: ErrorBody }),
]);
export type OrchestratorReply = z.infer<typeof OrchestratorReply>;

/* ------------------------------------------------- work commands (COMMANDS stream, work queue) */
const WorkBase = z.object({
  /** idempotency key: also the JetStream Nats-Msg-Id, so re-publishing is harmless */
  commandId: z.string(),
  runId: z.string(),
});
export const GenerateCandidate = WorkBase.extend({ type: z.literal('GenerateCandidate') }).extend(CandidateRequestedData.shape);
export type GenerateCandidate = z.infer<typeof GenerateCandidate>;
export const JudgeCandidates = WorkBase.extend({ type: z.literal('JudgeCandidates') }).extend(JudgeRequestedData.shape).extend({
  /** a study's extra instruction to the judge (ADR 023); runs' judge work has none */
  rubric: z.string().max(4000).optional(),
});
export type JudgeCandidates = z.infer<typeof JudgeCandidates>;
/** provider `tool` and model = the program, so every work command names what serves it */
export const RunTool = WorkBase.extend({ type: z.literal('RunTool'), provider: z.literal('tool'), model: z.string() }).extend(ToolRunRequestedData.shape);
export type RunTool = z.infer<typeof RunTool>;
/**
 * Git work on a run's repository, done by llm-workers (`commands.workspace`): put a phase's
 * winner on the run branch, reset the branch (rollback), remove the run's worktrees (settled).
 */
export const WorkspaceTask = WorkBase.extend({
  type: z.literal('WorkspaceTask'),
  provider: z.literal('git'),
  /** the task's kind, so every work command names what serves it */
  model: z.enum(['integrate', 'reset', 'cleanup']),
  /** '' for run-wide tasks */
  phaseId: z.string(),
  attempt: z.number().int().positive(),
  attemptToken: z.string(),
  repo: z.string(),
  branch: z.string(),
  task: z.discriminatedUnion('kind', [
    IntegrationRequestedData.pick({ candidateId: true, commit: true, base: true, onto: true, message: true, at: true }).extend({ kind: z.literal('integrate') }),
    z.object({ kind: z.literal('reset'), commit: GitSha }),
    /** `notBefore`: a cancelled run's agents are still saving their partial work in these worktrees */
    z.object({ kind: z.literal('cleanup'), notBefore: z.string().datetime({ offset: true }).optional() }),
  ]),
});
export type WorkspaceTask = z.infer<typeof WorkspaceTask>;
export const WorkCommand = z.discriminatedUnion('type', [GenerateCandidate, JudgeCandidates, RunTool, WorkspaceTask]);
export type WorkCommand = z.infer<typeof WorkCommand>;

/* ------------------------------------------------- results (RESULTS stream) */
const ResultBase = z.object({
  commandId: z.string(),
  runId: z.string(),
  phaseId: z.string(),
  attempt: z.number().int().positive(),
  attemptToken: z.string(),
  workerId: z.string(),
  provider: z.string(),
  model: z.string(),
  durationMs: z.number().int().nonnegative(),
  /** the worker's span of this work (absent when tracing is off) */
  trace: TraceContext.optional(),
});
export const CandidateResult = ResultBase.extend({
  type: z.literal('CandidateResult'),
  candidateId: z.string(),
  outcome: z.discriminatedUnion('status', [
    z.object({
      status: z.literal('generated'),
      output: z.unknown(),
      tokens: Tokens,
      costUsd: z.number().nonnegative(),
      toolCalls: z.array(ToolCallRecord).optional(),
      transcript: TranscriptRef.optional(),
    }),
    z.object({
      status: z.literal('failed'),
      error: Failure,
      /** output_invalid: the model's raw output (truncated), for OutputRejected */
      raw: z.string().optional(),
      tokens: Tokens.optional(),
      costUsd: z.number().nonnegative().optional(),
      transcript: TranscriptRef.optional(),
      /** cancelled / timed-out agents: what they had done so far */
      partial: PartialWork.optional(),
      toolCalls: z.array(ToolCallRecord).optional(),
    }),
  ]),
});
export type CandidateResult = z.infer<typeof CandidateResult>;
export const VerdictResult = ResultBase.extend({
  type: z.literal('VerdictResult'),
  judgeId: z.string(),
  outcome: z.discriminatedUnion('status', [
    z.object({
      status: z.literal('scored'),
      winnerId: z.string(),
      scores: z.record(z.string(), CandidateScore),
      rationale: z.string(),
      order: z.array(z.string()),
      tokens: Tokens,
      costUsd: z.number().nonnegative(),
    }),
    z.object({ status: z.literal('failed'), error: Failure }),
  ]),
});
export type VerdictResult = z.infer<typeof VerdictResult>;
export const ToolResult = ResultBase.extend({
  type: z.literal('ToolResult'),
  outcome: z.discriminatedUnion('status', [
    z.object({ status: z.literal('completed'), exitCode: z.number().int(), stdout: z.string(), stderr: z.string() }),
    z.object({ status: z.literal('failed'), error: Failure }),
  ]),
});
export type ToolResult = z.infer<typeof ToolResult>;
export const WorkspaceResult = ResultBase.extend({
  type: z.literal('WorkspaceResult'),
  kind: z.enum(['integrate', 'reset', 'cleanup']),
  outcome: z.discriminatedUnion('status', [
    z.object({ status: z.literal('integrated'), candidateId: z.string(), commit: GitSha, parent: GitSha, files: z.array(ChangedFile) }),
    z.object({ status: z.literal('conflict'), candidateId: z.string(), conflicts: z.array(z.string()), message: z.string() }),
    z.object({ status: z.literal('done') }),
    z.object({ status: z.literal('failed'), error: Failure }),
  ]),
});
export type WorkspaceResult = z.infer<typeof WorkspaceResult>;
export const WorkResult = z.discriminatedUnion('type', [CandidateResult, VerdictResult, ToolResult, WorkspaceResult]);
export type WorkResult = z.infer<typeof WorkResult>;

/**
 * The orchestrator's answer to a result sent on `directResult` (core NATS request/reply): `ok`
 * once the decision it caused is appended (or it decided nothing: a duplicate or a stale
 * result). Anything else — an error answer, no answer, no responder — and the worker publishes
 * the result to the RESULTS stream, whose durable consumer applies it (or dead-letters poison).
 */
export const DirectResultReply = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), appended: z.number().int().nonnegative() }),
  z.object({ ok: z.literal(false), error: z.string() }),
]);
export type DirectResultReply = z.infer<typeof DirectResultReply>;

/** Broadcast on the cancel subject (core NATS): workers abort matching in-flight calls. */
export const CancelWork = z.object({ runId: z.string(), commandIds: z.array(z.string()).optional() });
export type CancelWork = z.infer<typeof CancelWork>;
