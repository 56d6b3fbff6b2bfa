import type {
  ArtifactView,
  CandidateView,
  CheckpointView,
  ToolCallView,
  PhaseView,
  RunSummary,
  RunView,
  TemplateSummary,
  TimelineEntry,
  VerdictListItem,
  VerdictView,
} from '@conclave/contracts';
import { phaseAttempts, type AttemptEvent } from './attempts';
import { loopView, phaseVerdict } from './loops';
import { NO_PENDING, type AlertRow, type ArtifactRow, type CandidateRow, type CheckpointRow, type RunPhaseRow, type RunRow, type TemplateRow, type TimelineEventRow, type ToolCallRow, type VerdictRow } from './entities';

/** Row → REST view mappers (pure). Timestamps leave as ISO-8601 UTC strings. */

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export function toCandidateView(row: CandidateRow): CandidateView {
  return {
    id: row.id,
    slot: row.slot,
    provider: row.provider,
    model: row.model,
    status: row.status,
    tokens: { input: row.tokensInput, output: row.tokensOutput },
    costUsd: row.costUsd,
    durationMs: row.durationMs,
    ...(row.output === null || row.output === undefined ? {} : { output: row.output }),
    error: row.error ? { code: row.error.code, message: row.error.message } : null,
    transcript: row.transcript ?? null,
    partial: row.partial ?? null,
    retry: row.error?.retry ?? null,
    round: row.round,
    requestedAt: iso(row.requestedAt),
    ...(row.trace ? { trace: row.trace } : {}),
  };
}

export function toVerdictView(row: VerdictRow): VerdictView {
  return {
    winnerId: row.winnerId,
    scores: row.scores,
    rationale: row.rationale,
    missing: row.missing,
    judge: { provider: row.provider, model: row.model, tokens: { input: row.tokensInput, output: row.tokensOutput }, costUsd: row.costUsd },
  };
}

export function toVerdictListItem(row: VerdictRow): VerdictListItem {
  return { ...toVerdictView(row), phaseId: row.phaseId, attempt: row.attempt, round: row.round, purpose: row.purpose, recordedAt: row.recordedAt.toISOString() };
}

/**
 * A phase with the candidates (every round, by round then slot) of its current attempt, the
 * verdict that named its winner (loops.ts phaseVerdict) and, for a loop, every round. `candidates`
 * and `verdicts` may hold other phases and attempts; they are filtered here.
 */
export function toPhaseView(phase: RunPhaseRow, candidates: readonly CandidateRow[], verdicts: readonly VerdictRow[], attemptEvents: readonly AttemptEvent[] = []): PhaseView {
  // a rolled-back phase shows nothing of its last attempt until it starts again
  const current = (r: { phaseId: string; attempt: number }) => !phase.rolledBack && r.phaseId === phase.phaseId && r.attempt === phase.attempt;
  const attemptVerdicts = verdicts.filter(current);
  const attemptCandidates = candidates.filter(current);
  const verdict = phaseVerdict(phase, attemptVerdicts);
  return {
    id: phase.phaseId,
    name: phase.name,
    kind: phase.kind,
    dependsOn: phase.dependsOn,
    status: phase.status,
    attempt: phase.attempt,
    startedAt: iso(phase.startedAt),
    completedAt: iso(phase.completedAt),
    candidates: attemptCandidates
      .sort((a, b) => a.round - b.round || a.slot - b.slot)
      .map(toCandidateView),
    verdict: verdict ? toVerdictView(verdict) : null,
    artifactId: phase.artifactId,
    artifactCandidateId: phase.rolledBack ? null : (phase.artifactCandidateId ?? null),
    loop: loopView(phase, attemptCandidates, attemptVerdicts),
    costUsd: phase.costUsd,
    tokens: { input: phase.tokensInput, output: phase.tokensOutput },
    error: phase.error ? { code: phase.error.code, message: phase.error.message } : null,
    gate: phase.gate ? { message: phase.gate.message, decision: phase.gate.decision ?? null, comment: phase.gate.comment ?? null } : null,
    interview: phase.interview ? { questions: phase.interview.questions ?? [], answers: phase.interview.answers ?? null } : null,
    retryAt: iso(phase.retryAt),
    retryOverride: phase.retryOverride,
    condition: phase.condition ? { result: phase.condition.result } : null,
    commit: phase.rolledBack ? null : (phase.commit ?? null),
    attempts: phaseAttempts(attemptEvents, {
      id: phase.phaseId,
      attempt: phase.attempt,
      status: phase.status,
      startedAt: iso(phase.startedAt),
      completedAt: iso(phase.completedAt),
      error: phase.error ? { code: phase.error.code, message: phase.error.message } : null,
    }),
  };
}

export function toRunView(
  run: RunRow,
  phases: readonly RunPhaseRow[],
  candidates: readonly CandidateRow[],
  verdicts: readonly VerdictRow[],
  archived = false,
  attemptEvents: readonly AttemptEvent[] = [],
): RunView {
  const ordered = [...phases].sort((a, b) => a.position - b.position);
  return {
    id: run.id,
    name: run.name,
    templateId: run.templateId,
    templateVersion: run.templateVersion,
    templateName: run.templateName,
    status: run.status,
    inputs: run.inputs,
    phases: ordered.map((p) => toPhaseView(p, candidates, verdicts, attemptEvents)),
    currentPhases: ordered.filter((p) => p.status === 'running' || p.status === 'waiting').map((p) => p.phaseId),
    costUsd: run.costUsd,
    tokens: { input: run.tokensInput, output: run.tokensOutput },
    startedAt: run.startedAt.toISOString(),
    completedAt: iso(run.completedAt),
    sequence: run.sequence,
    error: run.error ? { code: run.error.code, message: run.error.message } : null,
    pending: { ...NO_PENDING, ...(run.pending ?? {}) },
    pauseReason: run.pauseReason,
    budgetUsd: run.budgetUsd,
    origin: run.origin,
    archived,
    workspace: run.workspace ?? null,
    filesChanged: run.filesChanged ?? 0,
    parked: null,
    ...(run.traceId ? { traceId: run.traceId } : {}),
    ...(run.budgetPolicy ? { budgetPolicy: run.budgetPolicy } : {}),
  };
}

export function toRunSummary(run: RunRow, archived = false): RunSummary {
  return {
    id: run.id,
    name: run.name,
    templateId: run.templateId,
    templateVersion: run.templateVersion,
    templateName: run.templateName,
    status: run.status,
    costUsd: run.costUsd,
    startedAt: run.startedAt.toISOString(),
    completedAt: iso(run.completedAt),
    sequence: run.sequence,
    phasesTotal: run.phasesTotal,
    phasesDone: run.phasesDone,
    origin: run.origin,
    archived,
    filesChanged: run.filesChanged ?? 0,
  };
}

export function toCheckpointView(row: CheckpointRow): CheckpointView {
  return {
    id: row.id,
    runId: row.runId,
    phaseId: row.phaseId,
    completedPhaseIds: row.completedPhaseIds,
    commit: row.commit ?? null,
    sequence: row.sequence,
    createdAt: row.createdAt.toISOString(),
  };
}

export function toToolCallView(row: ToolCallRow): ToolCallView {
  return {
    runId: row.runId,
    phaseId: row.phaseId,
    attempt: row.attempt,
    candidateId: row.candidateId,
    index: row.index,
    tool: row.tool,
    input: row.input,
    outputSummary: row.outputSummary,
    durationMs: row.durationMs,
    refused: row.refused,
    at: row.at.toISOString(),
  };
}

export function toTimelineEntry(row: TimelineEventRow): TimelineEntry {
  return {
    sequence: row.sequence,
    type: row.type,
    occurredAt: row.occurredAt.toISOString(),
    phaseId: row.phaseId,
    actor: row.actor,
    data: row.data,
  };
}

export function toTemplateSummary(row: TemplateRow): TemplateSummary {
  return {
    id: row.id,
    name: row.name,
    version: row.latestVersion,
    description: row.description,
    archived: row.archived,
    updatedAt: row.updatedAt.toISOString(),
  };
}

export function toArtifactView(row: ArtifactRow): ArtifactView {
  return {
    id: row.id,
    runId: row.runId,
    phaseId: row.phaseId,
    candidateId: row.candidateId,
    artifactType: row.artifactType,
    content: row.content,
    createdAt: row.createdAt.toISOString(),
  };
}

/** An operator alert (GET /alerts); not part of the contracts catalog yet. */
export interface AlertView {
  id: string;
  kind: string;
  message: string;
  details: unknown;
  createdAt: string;
}

export function toAlertView(row: AlertRow): AlertView {
  return { id: row.id, kind: row.kind, message: row.message, details: row.details, createdAt: row.createdAt.toISOString() };
}

