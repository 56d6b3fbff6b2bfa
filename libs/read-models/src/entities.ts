import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { CandidateRetry, CandidateStatus, CandidateView, MissingCandidate, PhaseStatus, PhaseView, RunBudgetPolicyView, RunStatus, RunView, TraceContext, TranscriptRef } from '@conclave/contracts';
import type { JsonValue } from './json';
import { bigintAsNumber } from './transformers';
import { STUDY_ENTITIES } from './studies/entities';

/**
 * Read-model tables, written only by the projector (projectBatch) and read by the gateway.
 * Every table can be rebuilt from the log. The schema is owned by the migrations in
 * ./migrations; the entities must describe exactly the same schema (an int test asserts that
 * TypeORM's schema diff is empty), so change both together.
 *
 * Money is `double precision` (USD fractions summed from provider prices; not an accounting
 * ledger). Stream sequences are int8, exposed as JS numbers.
 */

export interface ErrorInfo {
  code: string;
  message: string;
}

/**
 * A candidate's error. With `retry` (CandidateFailed.retry), the failure was transient and the
 * candidate, still `requested`, is re-dispatched at `retry.notBefore`; CandidateRedispatched
 * clears both.
 */
export interface CandidateErrorInfo extends ErrorInfo {
  retry?: CandidateRetry;
}

export interface PendingInfo {
  gates: { phaseId: string; message: string }[];
  questions: { phaseId: string; questions: { id: string; question: string; why?: string }[] }[];
  continue: string[];
}
export interface PauseReasonInfo {
  code: 'user' | 'budget' | 'provider_outage';
  message: string;
  provider?: string;
}
export interface GateInfo {
  message: string;
  decision: 'approved' | 'rejected' | null;
  comment: string | null;
}
export interface InterviewInfo {
  questions: { id: string; question: string; why?: string }[];
  answers: { question: string; answer: string }[] | null;
}
export type WorkspaceInfo = NonNullable<RunView['workspace']>;
export type PhaseCommitInfo = NonNullable<PhaseView['commit']>;
export type PartialInfo = NonNullable<CandidateView['partial']>;
export interface LoopBounds {
  maxRounds: number;
  passThreshold: number;
}
export const NO_PENDING: PendingInfo = { gates: [], questions: [], continue: [] };

@Entity('runs')
@Index('runs_status_idx', ['status'])
@Index('runs_template_id_idx', ['templateId'])
@Index('runs_started_at_id_idx', ['startedAt', 'id'])
@Index('runs_template_completed_idx', ['templateId', 'completedAt'], { where: "status = 'completed'" }) // the cost-spike alert's sample
export class RunRow {
  @PrimaryColumn({ type: 'text' }) id!: string;
  @Column({ type: 'text', nullable: true }) name!: string | null;
  @Column({ name: 'template_id', type: 'text' }) templateId!: string;
  @Column({ name: 'template_version', type: 'integer' }) templateVersion!: number;
  @Column({ name: 'template_name', type: 'text' }) templateName!: string;
  @Column({ type: 'text' }) status!: RunStatus;
  @Column({ type: 'jsonb' }) inputs!: Record<string, JsonValue>;
  @Column({ name: 'auto_mode', type: 'boolean', default: false }) autoMode!: boolean;
  @Column({ name: 'budget_usd', type: 'double precision', nullable: true }) budgetUsd!: number | null;
  @Column({ name: 'cost_usd', type: 'double precision', default: 0 }) costUsd!: number;
  @Column({ name: 'tokens_input', type: 'integer', default: 0 }) tokensInput!: number;
  @Column({ name: 'tokens_output', type: 'integer', default: 0 }) tokensOutput!: number;
  @Column({ name: 'started_at', type: 'timestamptz' }) startedAt!: Date;
  @Column({ name: 'completed_at', type: 'timestamptz', nullable: true }) completedAt!: Date | null;
  @Column({ type: 'jsonb', nullable: true }) error!: ErrorInfo | null;
  /** stream sequence of the last event folded into this run */
  @Column({ type: 'bigint', transformer: bigintAsNumber }) sequence!: number;
  @Column({ name: 'phases_total', type: 'integer' }) phasesTotal!: number;
  @Column({ name: 'phases_done', type: 'integer', default: 0 }) phasesDone!: number;
  /** what the run waits on from a human; `waiting` while any list is non-empty */
  @Column({ type: 'jsonb' }) pending!: PendingInfo;
  @Column({ name: 'pause_reason', type: 'jsonb', nullable: true }) pauseReason!: PauseReasonInfo | null;
  /** a rerun or a fork: the run it came from */
  @Column({ type: 'jsonb', nullable: true }) origin!: { kind: 'rerun' | 'fork'; runId: string } | null;
  /** RunStarted's workspace with `head`, the run branch's tip (moved by ChangesIntegrated and RolledBack) */
  @Column({ type: 'jsonb', nullable: true }) workspace!: WorkspaceInfo | null;
  /** distinct paths over the phases' current commits */
  @Column({ name: 'files_changed', type: 'integer', default: 0 }) filesChanged!: number;
  /** the run's trace (RunStarted.trace); null when tracing was off at its start */
  @Column({ name: 'trace_id', type: 'text', nullable: true }) traceId!: string | null;
  /** the run's budget policy and the decisions it took (RunStarted, BudgetPolicyApplied); null without a policy */
  @Column({ name: 'budget_policy', type: 'jsonb', nullable: true }) budgetPolicy!: RunBudgetPolicyView | null;
}

@Entity('run_phases')
export class RunPhaseRow {
  @PrimaryColumn({ name: 'run_id', type: 'text' }) runId!: string;
  @PrimaryColumn({ name: 'phase_id', type: 'text' }) phaseId!: string;
  /** index in the template's phases array (display order) */
  @Column({ type: 'integer' }) position!: number;
  @Column({ type: 'text', nullable: true }) name!: string | null;
  @Column({ type: 'text' }) kind!: string;
  @Column({ name: 'depends_on', type: 'jsonb' }) dependsOn!: string[];
  @Column({ type: 'text' }) status!: PhaseStatus;
  /** 0 until the phase first starts */
  @Column({ type: 'integer', default: 0 }) attempt!: number;
  @Column({ name: 'started_at', type: 'timestamptz', nullable: true }) startedAt!: Date | null;
  @Column({ name: 'completed_at', type: 'timestamptz', nullable: true }) completedAt!: Date | null;
  @Column({ name: 'artifact_id', type: 'text', nullable: true }) artifactId!: string | null;
  /** summed over every attempt (money spent on retries is still spent) */
  @Column({ name: 'cost_usd', type: 'double precision', default: 0 }) costUsd!: number;
  @Column({ name: 'tokens_input', type: 'integer', default: 0 }) tokensInput!: number;
  @Column({ name: 'tokens_output', type: 'integer', default: 0 }) tokensOutput!: number;
  @Column({ type: 'jsonb', nullable: true }) error!: ErrorInfo | null;
  /** gate phases: message, decision (null while open), comment */
  @Column({ type: 'jsonb', nullable: true }) gate!: GateInfo | null;
  /** interview phases: questions, answers (null until submitted) */
  @Column({ type: 'jsonb', nullable: true }) interview!: InterviewInfo | null;
  /** a scheduled retry waits until then */
  @Column({ name: 'retry_at', type: 'timestamptz', nullable: true }) retryAt!: Date | null;
  @Column({ name: 'retry_override', type: 'jsonb', nullable: true }) retryOverride!: { provider: string; model: string } | null;
  @Column({ type: 'jsonb', nullable: true }) condition!: { result: boolean } | null;
  /**
   * Reset by a rollback and not started since: the current attempt's candidates, verdict and
   * artifact no longer describe the phase (they stay in their tables, as history).
   */
  @Column({ name: 'rolled_back', type: 'boolean', default: false }) rolledBack!: boolean;
  /** agent phases of a run with a workspace: the winner's commit on the run branch (current attempt) */
  @Column({ type: 'jsonb', nullable: true }) commit!: PhaseCommitInfo | null;
  /** the candidate whose output the current attempt took as its artifact (its winner; a loop's best round) */
  @Column({ name: 'artifact_candidate_id', type: 'text', nullable: true }) artifactCandidateId!: string | null;
  /** loop phases: the template's bounds (maxAttempts as maxRounds, passThreshold); null for other kinds */
  @Column({ type: 'jsonb', nullable: true }) loop!: LoopBounds | null;
}

@Entity('candidates')
@Index('candidates_run_phase_attempt_idx', ['runId', 'phaseId', 'attempt', 'round', 'slot'])
@Index('candidates_requested_at_idx', ['requestedAt']) // spend over a time range (migration 1795369400000)
export class CandidateRow {
  @PrimaryColumn({ type: 'text' }) id!: string;
  @Column({ name: 'run_id', type: 'text' }) runId!: string;
  @Column({ name: 'phase_id', type: 'text' }) phaseId!: string;
  @Column({ type: 'integer' }) attempt!: number;
  /** loop phases: producer/reviser round within the attempt (0 otherwise) */
  @Column({ type: 'integer', default: 0 }) round!: number;
  @Column({ type: 'integer' }) slot!: number;
  @Column({ type: 'text' }) provider!: string;
  @Column({ type: 'text' }) model!: string;
  @Column({ type: 'text' }) status!: CandidateStatus;
  @Column({ type: 'jsonb', nullable: true }) output!: JsonValue;
  @Column({ name: 'tokens_input', type: 'integer', default: 0 }) tokensInput!: number;
  @Column({ name: 'tokens_output', type: 'integer', default: 0 }) tokensOutput!: number;
  @Column({ name: 'cost_usd', type: 'double precision', default: 0 }) costUsd!: number;
  @Column({ name: 'duration_ms', type: 'integer', nullable: true }) durationMs!: number | null;
  @Column({ type: 'jsonb', nullable: true }) error!: CandidateErrorInfo | null;
  @Column({ name: 'requested_at', type: 'timestamptz' }) requestedAt!: Date;
  /** where the worker stored the conversation (transcripts object store), if it did */
  @Column({ type: 'jsonb', nullable: true }) transcript!: TranscriptRef | null;
  /** a cancelled or timed-out agent candidate: its uncommitted work and tool calls (PartialWorkRecorded) */
  @Column({ type: 'jsonb', nullable: true }) partial!: PartialInfo | null;
  /** the worker's span of its last call (CandidateGenerated / CandidateFailed.trace); null untraced */
  @Column({ type: 'jsonb', nullable: true }) trace!: TraceContext | null;
}

/** One judge call's outcome: a round may have a `select` verdict and, in loops, an `evaluate` one. */
@Entity('verdicts')
@Index('verdicts_recorded_at_idx', ['recordedAt']) // spend over a time range (migration 1795369400000)
export class VerdictRow {
  @PrimaryColumn({ name: 'run_id', type: 'text' }) runId!: string;
  @PrimaryColumn({ name: 'phase_id', type: 'text' }) phaseId!: string;
  @PrimaryColumn({ type: 'integer' }) attempt!: number;
  @PrimaryColumn({ type: 'integer', default: 0 }) round!: number;
  @PrimaryColumn({ type: 'text', default: 'select' }) purpose!: 'select' | 'evaluate';
  /** stream sequence of the VerdictRecorded event: a phase shows its latest verdict */
  @Column({ type: 'bigint', transformer: bigintAsNumber }) sequence!: number;
  @Column({ name: 'judge_id', type: 'text' }) judgeId!: string;
  @Column({ name: 'winner_id', type: 'text' }) winnerId!: string;
  @Column({ type: 'jsonb' }) scores!: Record<string, { overall: number; criteria: Record<string, number> }>;
  @Column({ type: 'text' }) rationale!: string;
  /** the order the candidates were shown to the judge */
  @Column({ type: 'jsonb' }) order!: string[];
  /** the round's candidates the verdict went without, and why (VerdictRecorded.missing) */
  @Column({ type: 'jsonb' }) missing!: MissingCandidate[];
  @Column({ type: 'text' }) provider!: string;
  @Column({ type: 'text' }) model!: string;
  @Column({ name: 'tokens_input', type: 'integer', default: 0 }) tokensInput!: number;
  @Column({ name: 'tokens_output', type: 'integer', default: 0 }) tokensOutput!: number;
  @Column({ name: 'cost_usd', type: 'double precision', default: 0 }) costUsd!: number;
  @Column({ name: 'recorded_at', type: 'timestamptz' }) recordedAt!: Date;
}

@Entity('artifacts')
@Index('artifacts_run_id_idx', ['runId', 'createdAt'])
export class ArtifactRow {
  @PrimaryColumn({ type: 'text' }) id!: string;
  @Column({ name: 'run_id', type: 'text' }) runId!: string;
  @Column({ name: 'phase_id', type: 'text' }) phaseId!: string;
  @Column({ type: 'integer' }) attempt!: number;
  @Column({ name: 'candidate_id', type: 'text', nullable: true }) candidateId!: string | null;
  @Column({ name: 'artifact_type', type: 'text' }) artifactType!: string;
  @Column({ type: 'jsonb', nullable: true }) content!: JsonValue;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}

@Entity('timeline_events')
@Index('timeline_events_run_id_sequence_idx', ['runId', 'sequence'])
export class TimelineEventRow {
  @PrimaryColumn({ type: 'bigint', transformer: bigintAsNumber }) sequence!: number;
  @Column({ name: 'event_id', type: 'text' }) eventId!: string;
  @Column({ name: 'run_id', type: 'text' }) runId!: string;
  @Column({ type: 'text' }) type!: string;
  @Column({ name: 'phase_id', type: 'text', nullable: true }) phaseId!: string | null;
  @Column({ name: 'occurred_at', type: 'timestamptz' }) occurredAt!: Date;
  @Column({ type: 'jsonb' }) actor!: { kind: string; id: string };
  @Column({ type: 'jsonb' }) data!: JsonValue;
}

@Entity('templates')
export class TemplateRow {
  @PrimaryColumn({ type: 'text' }) id!: string;
  /** name and description of the latest version */
  @Column({ type: 'text' }) name!: string;
  @Column({ type: 'text', default: '' }) description!: string;
  @Column({ name: 'latest_version', type: 'integer' }) latestVersion!: number;
  @Column({ type: 'boolean', default: false }) archived!: boolean;
  @Column({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}

@Entity('template_versions')
export class TemplateVersionRow {
  @PrimaryColumn({ name: 'template_id', type: 'text' }) templateId!: string;
  @PrimaryColumn({ type: 'integer' }) version!: number;
  @Column({ type: 'jsonb' }) template!: JsonValue;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}

@Entity('projection_checkpoints')
export class ProjectionCheckpointRow {
  @PrimaryColumn({ type: 'text' }) name!: string;
  /** last stream sequence applied; moves in the same transaction as the rows it produced */
  @Column({ type: 'bigint', transformer: bigintAsNumber }) sequence!: number;
  @Column({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}

@Entity('alerts')
@Index('alerts_created_at_idx', ['createdAt'])
// the open alerts, newest first (migration 1795369000000 creates it descending; TypeORM does not compare the order)
@Index('alerts_open_idx', ['createdAt', 'id'], { where: 'acknowledged_at IS NULL' })
export class AlertRow {
  @PrimaryColumn({ type: 'text' }) id!: string;
  @Column({ type: 'text' }) kind!: string;
  @Column({ type: 'text' }) message!: string;
  @Column({ type: 'jsonb', nullable: true }) details!: JsonValue;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  /** the log event it was folded from (AlertRaised, budget alerts); null for alerts a process raised */
  @Column({ type: 'bigint', nullable: true, transformer: bigintAsNumber }) sequence!: number | null;
  /** what it concerns, for links */
  @Column({ name: 'run_id', type: 'text', nullable: true }) runId!: string | null;
  @Column({ name: 'provider_name', type: 'text', nullable: true }) providerName!: string | null;
  /** set by the first AlertAcknowledged (ADR 016); null while the alert is open */
  @Column({ name: 'acknowledged_at', type: 'timestamptz', nullable: true }) acknowledgedAt!: Date | null;
  @Column({ name: 'acknowledged_by', type: 'text', nullable: true }) acknowledgedBy!: string | null;
}

/** A checkpoint at a phase boundary (CheckpointCreated); a rollback target. */
@Entity('checkpoints')
@Index('checkpoints_run_id_sequence_idx', ['runId', 'sequence'])
export class CheckpointRow {
  @PrimaryColumn({ name: 'run_id', type: 'text' }) runId!: string;
  /** unique within its run only (`<phase>@<attempt>`) */
  @PrimaryColumn({ type: 'text' }) id!: string;
  @Column({ name: 'phase_id', type: 'text' }) phaseId!: string;
  @Column({ name: 'completed_phase_ids', type: 'jsonb' }) completedPhaseIds!: string[];
  /** the run branch's commit at the checkpoint (runs with a workspace) */
  @Column({ type: 'text', nullable: true }) commit!: string | null;
  @Column({ type: 'bigint', transformer: bigintAsNumber }) sequence!: number;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}

/** One audited tool call of an agent candidate (CandidateGenerated.toolCalls[index]). */
@Entity('tool_calls')
@Index('tool_calls_run_id_sequence_idx', ['runId', 'sequence', 'index'])
export class ToolCallRow {
  @PrimaryColumn({ name: 'candidate_id', type: 'text' }) candidateId!: string;
  @PrimaryColumn({ type: 'integer' }) index!: number;
  @Column({ name: 'run_id', type: 'text' }) runId!: string;
  @Column({ name: 'phase_id', type: 'text' }) phaseId!: string;
  @Column({ type: 'integer' }) attempt!: number;
  @Column({ type: 'text' }) tool!: string;
  @Column({ type: 'jsonb', nullable: true }) input!: JsonValue;
  @Column({ name: 'output_summary', type: 'text' }) outputSummary!: string;
  @Column({ name: 'duration_ms', type: 'integer' }) durationMs!: number;
  @Column({ type: 'boolean' }) refused!: boolean;
  @Column({ type: 'timestamptz' }) at!: Date;
  /** the CandidateGenerated event's sequence (orders a run's calls) */
  @Column({ type: 'bigint', transformer: bigintAsNumber }) sequence!: number;
}

/** A stream the projection skips after an event of it could not be projected (issue 11 §4; parked.ts). */
@Entity('parked_streams')
export class ParkedStreamRow {
  @PrimaryColumn({ name: 'stream_id', type: 'text' }) streamId!: string;
  /** the poison event's sequence */
  @Column({ type: 'bigint', transformer: bigintAsNumber }) sequence!: number;
  @Column({ name: 'event_type', type: 'text' }) eventType!: string;
  @Column({ type: 'text' }) reason!: string;
  @Column({ name: 'parked_at', type: 'timestamptz' }) parkedAt!: Date;
}

export const READ_MODEL_ENTITIES = [
  RunRow,
  RunPhaseRow,
  CandidateRow,
  VerdictRow,
  ArtifactRow,
  TimelineEventRow,
  TemplateRow,
  TemplateVersionRow,
  ProjectionCheckpointRow,
  AlertRow,
  CheckpointRow,
  ToolCallRow,
  ParkedStreamRow,
  ...STUDY_ENTITIES,
];
