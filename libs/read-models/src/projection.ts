import type { EntityManager, ObjectLiteral } from 'typeorm';
import { splitStreamId, type EventOf, type Recorded, type RunEvent, type RunStatus, type TemplateEvent } from '@conclave/contracts';
import {
  AlertRow,
  ArtifactRow,
  CandidateRow,
  CheckpointRow,
  NO_PENDING,
  RunPhaseRow,
  RunRow,
  TemplateRow,
  TimelineEventRow,
  ToolCallRow,
  VerdictRow,
  type ErrorInfo,
  type GateInfo,
  type InterviewInfo,
  type PendingInfo,
} from './entities';
import { jsonbSafe, toJsonb, type JsonValue } from './json';
import { applyProviderEvent } from './providers';

/**
 * An event the projection cannot apply, now or after any number of retries: an unknown type, a
 * shape the fold does not expect, or one that contradicts the read models (a phase of a run that
 * was never started, a second RunStarted for a run). Retrying cannot help; the projector halts
 * that projection and raises an alert instead of skipping (a skipped event is a silently wrong
 * read model).
 */
export class PoisonEventError extends Error {
  constructor(
    readonly sequence: number,
    readonly eventType: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`poison event at sequence ${sequence} (${eventType}): ${reason}`, options);
    this.name = 'PoisonEventError';
  }
}

/** The checkpoint of the live projection. */
export const MAIN_CHECKPOINT = 'main';

/**
 * Fold `events` into the read models inside the caller's transaction and return the checkpoint.
 *
 * Guarantees:
 * - the checkpoint row is locked (`FOR UPDATE`) for the rest of the transaction, so concurrent
 *   projectors on the same checkpoint take turns; the later one sees the moved checkpoint;
 * - events at or below the checkpoint are skipped: redelivery and overlapping batches are harmless;
 * - the rest are applied in sequence order and the checkpoint moves to the last one applied, in
 *   the same transaction as the rows: either both commit or neither does;
 * - an event that cannot be applied throws PoisonEventError; the caller must roll back (the
 *   transaction is unusable after a failed statement anyway), leaving the checkpoint before it.
 *
 * One checkpoint per set of tables: two checkpoint names folding into the same tables would
 * apply every event twice (a rebuild must target empty tables and its own checkpoint).
 */
export async function projectBatch(manager: EntityManager, events: readonly Recorded[], checkpointName = MAIN_CHECKPOINT): Promise<number> {
  if (!manager.queryRunner?.isTransactionActive) {
    throw new Error('projectBatch must run inside a transaction (DataSource.transaction)');
  }
  const checkpoint = await lockCheckpoint(manager, checkpointName);
  let applied = checkpoint;
  const ordered = [...events].sort((a, b) => a.sequence - b.sequence);
  const batch = new BatchWrites();
  for (const event of ordered) {
    if (event.sequence <= applied) continue;
    try {
      await applyEvent(manager, event, batch);
    } catch (err) {
      throw asPoison(event, err);
    }
    applied = event.sequence;
  }
  try {
    await batch.flush(manager);
  } catch (err) {
    // a deferred write that cannot succeed (say, a timeline row already there: the tables are
    // ahead of this checkpoint) is pinned on the batch's first event; the projection halts there
    const first = ordered.find((e) => e.sequence > checkpoint);
    throw first ? asPoison(first, err) : err;
  }
  if (applied > checkpoint) {
    await manager.query('UPDATE projection_checkpoints SET sequence = $2, updated_at = now() WHERE name = $1', [checkpointName, applied]);
  }
  return applied;
}

async function lockCheckpoint(m: EntityManager, name: string): Promise<number> {
  const select = 'SELECT sequence FROM projection_checkpoints WHERE name = $1 FOR UPDATE';
  let rows: { sequence: string }[] = await m.query(select, [name]);
  if (rows.length === 0) {
    await m.query('INSERT INTO projection_checkpoints (name, sequence, updated_at) VALUES ($1, 0, now()) ON CONFLICT (name) DO NOTHING', [name]);
    rows = await m.query(select, [name]);
  }
  return Number(rows[0]!.sequence);
}

/**
 * SQLSTATE classes whose errors repeat on every retry of the same event: 22 data exception,
 * 23 integrity constraint violation. Anything else (connection loss, deadlock, shutdown) is
 * treated as transient by the projector.
 */
export function isDeterministicDbError(err: unknown): boolean {
  const code = (err as { driverError?: { code?: unknown }; code?: unknown } | null)?.driverError?.code ?? (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(22|23)[0-9A-Z]{3}$/.test(code);
}

function asPoison(event: Recorded, err: unknown): unknown {
  if (err instanceof PoisonEventError) return err;
  if (isDeterministicDbError(err)) return new PoisonEventError(event.sequence, event.type, (err as Error).message, { cause: err });
  return err;
}

/* ------------------------------------------------------------------ batched writes */

const TIMELINE_CHUNK = 1000;

/**
 * Writes a batch can defer to its end, saving a round trip per event: timeline rows (one
 * multi-row insert) and moves of runs.sequence for events that change nothing else on the run.
 * Such an event's run must exist before it: runs seen to exist (started earlier in the batch, or
 * matched by an update) are trusted, the others are checked at flush, and an event of a run
 * that only starts later in the batch is poison at once.
 */
class BatchWrites {
  private readonly timeline: TimelineEventRow[] = [];
  /** run id → highest sequence of a deferred event */
  private readonly sequences = new Map<string, number>();
  private readonly known = new Set<string>();
  /** run id → its first deferred event, when the run was not yet seen to exist */
  private readonly unverified = new Map<string, Recorded>();

  addTimeline(row: TimelineEventRow): void {
    this.timeline.push(row);
  }

  runExists(runId: string): void {
    this.known.add(runId);
    this.unverified.delete(runId);
  }

  runStarted(runId: string): void {
    const early = this.unverified.get(runId);
    if (early) throw new PoisonEventError(early.sequence, early.type, `run ${runId} was never started (it starts later, at a higher sequence)`);
    this.runExists(runId);
  }

  deferSequence(runId: string, e: Recorded): void {
    this.sequences.set(runId, Math.max(this.sequences.get(runId) ?? 0, e.sequence));
    if (!this.known.has(runId) && !this.unverified.has(runId)) this.unverified.set(runId, e);
  }

  async flush(m: EntityManager): Promise<void> {
    if (this.sequences.size > 0) {
      const runIds = [...this.sequences.keys()];
      const found: { id: string }[] = await m.query(
        `UPDATE runs AS r SET sequence = GREATEST(r.sequence, v.sequence)
           FROM (SELECT unnest($1::text[]) AS id, unnest($2::bigint[]) AS sequence) AS v
          WHERE r.id = v.id RETURNING r.id`,
        [runIds, runIds.map((id) => this.sequences.get(id)!)],
      ).then(([rows]: [{ id: string }[], number]) => rows);
      const existing = new Set(found.map((r) => r.id));
      const missing = [...this.unverified.entries()].filter(([runId]) => !existing.has(runId)).map(([, e]) => e);
      if (missing.length > 0) {
        const first = missing.reduce((a, b) => (a.sequence < b.sequence ? a : b));
        throw new PoisonEventError(first.sequence, first.type, `run ${splitStreamId(first.streamId).id} was never started`);
      }
    }
    for (let i = 0; i < this.timeline.length; i += TIMELINE_CHUNK) {
      await m.insert(TimelineEventRow, this.timeline.slice(i, i + TIMELINE_CHUNK));
    }
  }
}

/* ------------------------------------------------------------------ the fold */

type Usage = { costUsd: number; tokens: { input: number; output: number } };
/** Column changes; a function value is raw SQL whose `:name` placeholders come from params. */
type Patch = { set: ObjectLiteral; params?: ObjectLiteral };

const DONE_STATUSES = "('completed', 'skipped')";

async function applyEvent(m: EntityManager, e: Recorded, batch: BatchWrites): Promise<void> {
  switch (e.type) {
    case 'TemplateCreated':
    case 'TemplateVersionAdded':
    case 'TemplateArchived':
      return applyTemplateEvent(m, e);
    case 'RunStarted':
    case 'PhaseStarted':
    case 'CandidateRequested':
    case 'CandidateGenerated':
    case 'CandidateFailed':
    case 'JudgeRequested':
    case 'VerdictRecorded':
    case 'ArtifactRecorded':
    case 'OutputRejected':
    case 'PhaseCompleted':
    case 'PhaseFailed':
    case 'PhaseSkipped':
    case 'RunCompleted':
    case 'RunFailed':
    case 'GateOpened':
    case 'GateApproved':
    case 'GateRejected':
    case 'QuestionsAsked':
    case 'AnswersSubmitted':
    case 'ContinueRequired':
    case 'RunContinued':
    case 'RunPaused':
    case 'RunResumed':
    case 'RunCancelled':
    case 'PhaseRetryScheduled':
    case 'OutputAccepted':
    case 'ConditionEvaluated':
    case 'CheckpointCreated':
    case 'RolledBack':
    case 'RunForked':
    case 'CandidateRedispatched':
    case 'ResultRefused':
    case 'BudgetAlert':
    case 'BudgetExceeded':
    case 'BudgetRaised':
    case 'ToolRunRequested':
    case 'ToolRunCompleted':
    case 'ToolRunFailed':
      return applyRunEvent(m, e, batch);
    case 'ProviderConfigured':
    case 'ProviderRemoved':
      return applyProviderEvent(m, e);
    default: {
      const unknown: never = e;
      throw new PoisonEventError((unknown as Recorded).sequence, String((unknown as Recorded).type), 'unknown event type');
    }
  }
}

async function applyRunEvent(m: EntityManager, e: Recorded<RunEvent>, batch: BatchWrites): Promise<void> {
  const { aggregate, id: runId } = splitStreamId(e.streamId);
  if (aggregate !== 'run') throw new PoisonEventError(e.sequence, e.type, `run event on stream ${e.streamId}`);
  const at = new Date(e.occurredAt);
  /** changes to the run row, written together with the move of runs.sequence */
  let patch: Patch | null = null;

  switch (e.type) {
    case 'RunStarted':
      batch.runStarted(runId);
      await insertRun(m, e, runId, at);
      break;
    case 'PhaseStarted':
      await updatePhase(m, e, runId, e.data.phaseId, {
        status: 'running',
        attempt: e.data.attempt,
        startedAt: at,
        completedAt: null,
        error: null,
        artifactId: null,
        // each attempt starts clean: a retried gate or interview asks again
        gate: null,
        interview: null,
        condition: null,
        retryAt: null,
        retryOverride: null,
        rolledBack: false,
      });
      patch = recountDone();
      break;
    case 'CandidateRequested':
      await m.insert(CandidateRow, {
        id: e.data.candidateId,
        runId,
        phaseId: e.data.phaseId,
        attempt: e.data.attempt,
        round: e.data.round,
        slot: e.data.slot,
        provider: e.data.provider,
        model: e.data.model,
        status: 'requested',
        output: null,
        tokensInput: 0,
        tokensOutput: 0,
        costUsd: 0,
        durationMs: null,
        error: null,
        requestedAt: at,
      });
      break;
    case 'CandidateGenerated': {
      const usage: Usage = { costUsd: e.data.costUsd, tokens: e.data.tokens };
      await updateCandidate(m, e, runId, e.data.candidateId, {
        set: {
          status: 'generated',
          output: toJsonb(e.data.output),
          tokensInput: usage.tokens.input,
          tokensOutput: usage.tokens.output,
          costUsd: usage.costUsd,
          durationMs: e.data.durationMs,
          error: null,
        },
      });
      await addPhaseUsage(m, e, runId, e.data.phaseId, usage);
      await replaceToolCalls(m, e, runId);
      patch = usagePatch(usage);
      break;
    }
    case 'CandidateFailed':
      await updateCandidate(m, e, runId, e.data.candidateId, {
        set: {
          status: 'failed',
          error: errorInfo(e.data.error),
          ...(e.data.durationMs === undefined ? {} : { durationMs: e.data.durationMs }),
        },
      });
      break;
    case 'OutputRejected':
      await updateCandidate(m, e, runId, e.data.candidateId, {
        set: {
          status: 'rejected',
          error: { code: 'output_rejected', message: e.data.errors.join('; ') } satisfies ErrorInfo,
          // keep a generated output; otherwise show what was rejected
          output: () => 'COALESCE(output, CAST(:raw AS jsonb))',
        },
        params: { raw: e.data.raw === undefined ? null : JSON.stringify(toJsonb(e.data.raw)) },
      });
      break;
    case 'JudgeRequested':
      break;
    case 'VerdictRecorded': {
      const usage: Usage = { costUsd: e.data.costUsd, tokens: e.data.tokens };
      await m.insert(VerdictRow, {
        runId,
        phaseId: e.data.phaseId,
        attempt: e.data.attempt,
        round: e.data.round,
        purpose: e.data.purpose,
        sequence: e.sequence,
        judgeId: e.data.judgeId,
        winnerId: e.data.winnerId,
        scores: e.data.scores,
        rationale: e.data.rationale,
        order: e.data.order,
        provider: e.data.provider,
        model: e.data.model,
        tokensInput: usage.tokens.input,
        tokensOutput: usage.tokens.output,
        costUsd: usage.costUsd,
        recordedAt: at,
      });
      await addPhaseUsage(m, e, runId, e.data.phaseId, usage);
      patch = usagePatch(usage);
      break;
    }
    case 'ArtifactRecorded':
      await m.insert(ArtifactRow, {
        id: e.data.artifactId,
        runId,
        phaseId: e.data.phaseId,
        attempt: e.data.attempt,
        candidateId: e.data.candidateId,
        artifactType: e.data.artifactType,
        content: toJsonb(e.data.content),
        createdAt: at,
      });
      break;
    case 'PhaseCompleted':
      await updatePhase(m, e, runId, e.data.phaseId, { status: 'completed', completedAt: at, artifactId: e.data.artifactId, error: null });
      patch = recountDone();
      break;
    case 'PhaseFailed':
      await updatePhase(m, e, runId, e.data.phaseId, { status: 'failed', completedAt: at, error: errorInfo(e.data.reason) });
      patch = recountDone();
      break;
    case 'PhaseSkipped': {
      await updatePhase(m, e, runId, e.data.phaseId, { status: 'skipped', completedAt: at, error: null });
      // skipping the phase that failed the run revives it (unless another phase failed too)
      const [{ failed }]: [{ failed: string }] = await m.query(`SELECT count(*) AS failed FROM run_phases WHERE run_id = $1 AND status = 'failed'`, [runId]);
      patch = Number(failed) === 0 ? await revivePatch(m, e, runId) : recountDone();
      break;
    }
    case 'RunCompleted':
      patch = { set: { status: 'completed', completedAt: at, error: null } };
      break;
    case 'RunFailed':
      patch = { set: { status: 'failed', completedAt: at, error: errorInfo(e.data.reason) } };
      break;

    /* ---------------------------------------------------------- human in the loop */
    case 'GateOpened': {
      const { phaseId, message } = e.data;
      await updatePhase(m, e, runId, phaseId, { status: 'waiting', gate: { message, decision: null, comment: null } satisfies GateInfo });
      patch = await pendingPatch(m, e, runId, (p) => ({ ...p, gates: [...p.gates.filter((g) => g.phaseId !== phaseId), { phaseId, message }] }));
      break;
    }
    case 'GateApproved':
    case 'GateRejected': {
      const { phaseId, comment } = e.data;
      // the decider follows with PhaseCompleted (approved) or PhaseFailed (rejected)
      await updatePhase(
        m,
        e,
        runId,
        phaseId,
        { status: 'running', gate: () => `COALESCE(gate, '{"message":""}'::jsonb) || jsonb_build_object('decision', CAST(:decision AS text), 'comment', CAST(:comment AS text))` },
        { decision: e.type === 'GateApproved' ? 'approved' : 'rejected', comment },
      );
      patch = await pendingPatch(m, e, runId, (p) => ({ ...p, gates: p.gates.filter((g) => g.phaseId !== phaseId) }));
      break;
    }
    case 'QuestionsAsked': {
      const { phaseId, questions } = e.data;
      await updatePhase(m, e, runId, phaseId, { status: 'waiting', interview: toJsonb({ questions, answers: null } satisfies InterviewInfo) });
      patch = await pendingPatch(m, e, runId, (p) => ({ ...p, questions: [...p.questions.filter((q) => q.phaseId !== phaseId), { phaseId, questions }] }));
      break;
    }
    case 'AnswersSubmitted': {
      const { phaseId, answers } = e.data;
      await updatePhase(
        m,
        e,
        runId,
        phaseId,
        { status: 'running', interview: () => `COALESCE(interview, '{"questions":[]}'::jsonb) || jsonb_build_object('answers', CAST(:answers AS jsonb))` },
        { answers: JSON.stringify(toJsonb(answers)) },
      );
      patch = await pendingPatch(m, e, runId, (p) => ({ ...p, questions: p.questions.filter((q) => q.phaseId !== phaseId) }));
      break;
    }
    case 'ContinueRequired': {
      const { phaseIds } = e.data;
      patch = await pendingPatch(m, e, runId, (p) => ({ ...p, continue: [...new Set([...p.continue, ...phaseIds])] }));
      break;
    }
    case 'RunContinued': {
      const { phaseIds } = e.data;
      patch = await pendingPatch(m, e, runId, (p) => ({ ...p, continue: p.continue.filter((id) => !phaseIds.includes(id)) }));
      break;
    }

    /* ---------------------------------------------------------- controls */
    case 'RunPaused': {
      const run = await readRun(m, e, runId);
      patch = { set: { status: isSettled(run.status) ? run.status : 'paused', pauseReason: toJsonb(e.data.reason) } };
      break;
    }
    case 'RunResumed': {
      const run = await readRun(m, e, runId);
      patch = { set: { status: run.status === 'paused' ? liveStatus('running', run.pending) : run.status, pauseReason: null } };
      break;
    }
    case 'RunCancelled':
      await m.query(
        `UPDATE run_phases SET status = 'cancelled', completed_at = CASE WHEN started_at IS NULL THEN NULL ELSE $2::timestamptz END
          WHERE run_id = $1 AND status IN ('running', 'waiting', 'pending')`,
        [runId, at],
      );
      patch = { set: { ...recountDone().set, status: 'cancelled', completedAt: at, pending: NO_PENDING, pauseReason: null } };
      break;
    case 'PhaseRetryScheduled': {
      const { phaseId, notBefore, override } = e.data;
      // the next PhaseStarted (attempt + 1) replaces the candidates, verdict and artifact in the view
      await updatePhase(m, e, runId, phaseId, {
        status: 'pending',
        completedAt: null,
        error: null,
        retryAt: new Date(notBefore),
        retryOverride: override ? toJsonb(override) : null,
      });
      patch = await revivePatch(m, e, runId);
      break;
    }
    case 'OutputAccepted': {
      const { phaseId, candidateId, output } = e.data;
      await updatePhase(m, e, runId, phaseId, { status: 'running', completedAt: null, error: null });
      if (candidateId !== null) {
        // the artifact follows as ArtifactRecorded, then PhaseCompleted
        await updateCandidate(m, e, runId, candidateId, {
          set: { status: 'generated', output: () => 'CAST(:accepted AS jsonb)', error: null },
          params: { accepted: output === undefined ? null : JSON.stringify(toJsonb(output)) },
        });
      }
      patch = await revivePatch(m, e, runId);
      break;
    }
    case 'ConditionEvaluated':
      await updatePhase(m, e, runId, e.data.phaseId, { condition: { result: e.data.result } });
      break;
    case 'CheckpointCreated':
      await m.insert(CheckpointRow, {
        runId,
        id: e.data.checkpointId,
        phaseId: e.data.phaseId,
        completedPhaseIds: e.data.completedPhaseIds,
        sequence: e.sequence,
        createdAt: at,
      });
      break;
    case 'RolledBack': {
      const reset = e.data.resetPhaseIds;
      // attempt kept (the next start is attempt + 1); earlier attempts stay queryable
      const result = await m
        .createQueryBuilder()
        .update(RunPhaseRow)
        .set({
          status: 'pending',
          completedAt: null,
          artifactId: null,
          error: null,
          gate: null,
          interview: null,
          condition: null,
          retryAt: null,
          retryOverride: null,
          rolledBack: true,
        })
        .where('run_id = :runId AND phase_id IN (:...reset)', { runId, reset })
        .execute();
      if (result.affected !== new Set(reset).size) throw new PoisonEventError(e.sequence, e.type, `a reset phase is not part of run ${runId}`);
      const run = await readRun(m, e, runId);
      const pending: PendingInfo = {
        gates: run.pending.gates.filter((g) => !reset.includes(g.phaseId)),
        questions: run.pending.questions.filter((q) => !reset.includes(q.phaseId)),
        continue: [],
      };
      patch = {
        set: {
          ...recountDone().set,
          pending,
          status: run.status === 'paused' ? 'paused' : liveStatus('running', pending),
          completedAt: null,
          error: null,
        },
      };
      break;
    }
    case 'RunForked':
      // the decider follows with PhaseStarted / ArtifactRecorded / PhaseCompleted for reused phases
      patch = { set: { origin: { kind: 'fork', runId: e.data.sourceRunId } } };
      break;

    /* ---------------------------------------------------------- timers, budgets, safety */
    case 'CandidateRedispatched':
      await updateCandidate(m, e, runId, e.data.candidateId, { set: { status: 'requested', output: null, error: null, durationMs: null } });
      break;
    case 'ResultRefused':
      break;
    case 'ToolRunRequested':
    case 'ToolRunCompleted':
    case 'ToolRunFailed':
      // tool phases: the timeline shows the run; its output arrives as ArtifactRecorded, a failure as PhaseFailed
      break;
    case 'BudgetAlert':
      await insertBudgetAlert(m, e, runId, at, `run ${runId} has spent ${e.data.thresholdPct}% of its budget ($${e.data.spentUsd} of $${e.data.budgetUsd})`);
      break;
    case 'BudgetExceeded':
      await insertBudgetAlert(
        m,
        e,
        runId,
        at,
        `run ${runId} paused: phase ${e.data.phaseId} would exceed its budget of $${e.data.budgetUsd} (spent $${e.data.spentUsd}, reserved $${e.data.reservedUsd}, estimate $${e.data.estimateUsd})`,
      );
      break;
    case 'BudgetRaised':
      patch = { set: { budgetUsd: e.data.budgetUsd } };
      break;
    default: {
      const unknown: never = e;
      throw new PoisonEventError((unknown as Recorded).sequence, String((unknown as Recorded).type), 'unknown run event type');
    }
  }

  if (patch) {
    const update = m
      .createQueryBuilder()
      .update(RunRow)
      .set({ ...patch.set, sequence: e.sequence })
      .where('id = :runId', { runId });
    if (patch.params) update.setParameters(patch.params);
    const result = await update.execute();
    if (result.affected !== 1) throw new PoisonEventError(e.sequence, e.type, `run ${runId} was never started`);
    batch.runExists(runId);
  } else if (e.type !== 'RunStarted') {
    batch.deferSequence(runId, e);
  }

  const data = e.data as { phaseId?: unknown };
  batch.addTimeline({
    sequence: e.sequence,
    eventId: e.id,
    runId,
    type: e.type,
    phaseId: typeof data.phaseId === 'string' ? data.phaseId : null,
    occurredAt: at,
    actor: e.actor,
    data: toJsonb(e.data),
  });
}

async function insertRun(m: EntityManager, e: EventOf<'RunStarted'> & { sequence: number }, runId: string, at: Date): Promise<void> {
  const d = e.data;
  if (d.runId !== runId) throw new PoisonEventError(e.sequence, e.type, `data.runId ${d.runId} does not match stream ${e.streamId}`);
  await m.insert(RunRow, {
    id: runId,
    name: d.name,
    templateId: d.templateId,
    templateVersion: d.templateVersion,
    templateName: d.template.name,
    status: 'running',
    inputs: toJsonb(d.inputs) as Record<string, JsonValue>,
    autoMode: d.autoMode,
    budgetUsd: d.budgetUsd,
    pending: NO_PENDING,
    pauseReason: null,
    origin: d.origin ?? null,
    costUsd: 0,
    tokensInput: 0,
    tokensOutput: 0,
    startedAt: at,
    completedAt: null,
    error: null,
    sequence: e.sequence,
    phasesTotal: d.template.phases.length,
    phasesDone: 0,
  });
  await m.insert(
    RunPhaseRow,
    d.template.phases.map((phase, position) => ({
      runId,
      phaseId: phase.id,
      position,
      name: phase.name ?? null,
      kind: phase.kind,
      dependsOn: phase.dependsOn,
      status: 'pending' as const,
      attempt: 0,
      startedAt: null,
      completedAt: null,
      artifactId: null,
      costUsd: 0,
      tokensInput: 0,
      tokensOutput: 0,
      error: null,
    })),
  );
}

async function updatePhase(m: EntityManager, e: Recorded, runId: string, phaseId: string, set: ObjectLiteral, params?: ObjectLiteral): Promise<void> {
  const update = m
    .createQueryBuilder()
    .update(RunPhaseRow)
    .set(set)
    .where('run_id = :runId AND phase_id = :phaseId', { runId, phaseId });
  if (params) update.setParameters({ ...params, runId, phaseId });
  const result = await update.execute();
  if (result.affected !== 1) throw new PoisonEventError(e.sequence, e.type, `phase ${phaseId} is not part of run ${runId}`);
}

async function updateCandidate(m: EntityManager, e: Recorded, runId: string, candidateId: string, patch: Patch): Promise<void> {
  const update = m
    .createQueryBuilder()
    .update(CandidateRow)
    .set(patch.set)
    .where('id = :candidateId AND run_id = :runId', { candidateId, runId });
  if (patch.params) update.setParameters(patch.params);
  const result = await update.execute();
  if (result.affected !== 1) throw new PoisonEventError(e.sequence, e.type, `candidate ${candidateId} of run ${runId} was never requested`);
}

async function addPhaseUsage(m: EntityManager, e: Recorded, runId: string, phaseId: string, usage: Usage): Promise<void> {
  const { set, params } = usagePatch(usage);
  const result = await m
    .createQueryBuilder()
    .update(RunPhaseRow)
    .set(set)
    .where('run_id = :runId AND phase_id = :phaseId')
    .setParameters({ ...params, runId, phaseId })
    .execute();
  if (result.affected !== 1) throw new PoisonEventError(e.sequence, e.type, `phase ${phaseId} is not part of run ${runId}`);
}

function usagePatch(usage: Usage): Required<Patch> {
  return {
    set: {
      costUsd: () => 'cost_usd + :costUsd',
      tokensInput: () => 'tokens_input + :tokensInput',
      tokensOutput: () => 'tokens_output + :tokensOutput',
    },
    params: { costUsd: usage.costUsd, tokensInput: usage.tokens.input, tokensOutput: usage.tokens.output },
  };
}

/**
 * Recounted on every phase transition rather than incremented: a completed phase that is run
 * again (retry) stops counting until it completes again, and is never counted twice.
 */
function recountDone(): Patch {
  return { set: { phasesDone: () => `(SELECT count(*) FROM run_phases p WHERE p.run_id = runs.id AND p.status IN ${DONE_STATUSES})` } };
}

const SETTLED: readonly RunStatus[] = ['completed', 'failed', 'cancelled'];
const isSettled = (status: RunStatus) => SETTLED.includes(status);
const hasPending = (p: PendingInfo) => p.gates.length > 0 || p.questions.length > 0 || p.continue.length > 0;

/** A live run waits while a human owes it something; paused and settled runs keep their status. */
function liveStatus(current: RunStatus, pending: PendingInfo): RunStatus {
  if (current === 'paused' || isSettled(current)) return current;
  return hasPending(pending) ? 'waiting' : 'running';
}

/** The run's status and pending list as of the events applied so far (this transaction included). */
async function readRun(m: EntityManager, e: Recorded, runId: string): Promise<{ status: RunStatus; pending: PendingInfo }> {
  const rows: { status: RunStatus; pending: PendingInfo | null }[] = await m.query('SELECT status, pending FROM runs WHERE id = $1', [runId]);
  const row = rows[0];
  if (!row) throw new PoisonEventError(e.sequence, e.type, `run ${runId} was never started`);
  return { status: row.status, pending: { ...NO_PENDING, ...(row.pending ?? {}) } };
}

/** Change what the run waits on; its status follows (`waiting` while anything is pending). */
async function pendingPatch(m: EntityManager, e: Recorded, runId: string, change: (p: PendingInfo) => PendingInfo): Promise<Patch> {
  const run = await readRun(m, e, runId);
  const pending = change(run.pending);
  return { set: { pending, status: liveStatus(run.status, pending) } };
}

/**
 * A failed run comes back to life when a user acts on the phase that failed it (retry, accept,
 * skip), as the decider's state does; other statuses are left alone.
 */
async function revivePatch(m: EntityManager, e: Recorded, runId: string): Promise<Patch> {
  const run = await readRun(m, e, runId);
  const set: ObjectLiteral = { ...recountDone().set };
  if (run.status === 'failed') Object.assign(set, { status: liveStatus('running', run.pending), completedAt: null, error: null });
  return { set };
}

/**
 * The audited tool calls of the generation that counted. A candidate is generated once (a stale
 * result of a redispatched one is refused); should one be generated again, its calls replace the
 * earlier ones. Nothing to do (no statement) for candidates without tool calls, the common case.
 */
async function replaceToolCalls(m: EntityManager, e: EventOf<'CandidateGenerated'> & { sequence: number }, runId: string): Promise<void> {
  const calls = e.data.toolCalls ?? [];
  if (calls.length === 0) return;
  await m.delete(ToolCallRow, { candidateId: e.data.candidateId });
  await m.insert(
    ToolCallRow,
    calls.map((call, index) => ({
      candidateId: e.data.candidateId,
      index,
      runId,
      phaseId: e.data.phaseId,
      attempt: e.data.attempt,
      tool: call.tool,
      input: toJsonb(call.input),
      outputSummary: jsonbSafe(call.outputSummary),
      durationMs: call.durationMs,
      refused: call.refused,
      at: new Date(call.at),
      sequence: e.sequence,
    })),
  );
}

/** Budget alerts are facts of the log: keyed by the event id, so a replay rebuilds the same rows. */
async function insertBudgetAlert(m: EntityManager, e: Recorded<RunEvent>, runId: string, at: Date, message: string): Promise<void> {
  await m.insert(AlertRow, {
    id: `event:${e.id}`,
    kind: 'budget',
    message,
    details: toJsonb({ runId, event: e.type, ...(e.data as object) }),
    createdAt: at,
    sequence: e.sequence,
  });
}

function errorInfo(failure: { code: string; message: string }): ErrorInfo {
  return { code: failure.code, message: failure.message };
}

/* ------------------------------------------------------------------ templates */

async function applyTemplateEvent(m: EntityManager, e: Recorded<TemplateEvent>): Promise<void> {
  const { aggregate, id } = splitStreamId(e.streamId);
  if (aggregate !== 'template' || id !== e.data.templateId) {
    throw new PoisonEventError(e.sequence, e.type, `template event for ${e.data.templateId} on stream ${e.streamId}`);
  }
  const at = new Date(e.occurredAt);
  switch (e.type) {
    case 'TemplateCreated':
    case 'TemplateVersionAdded': {
      const { templateId, version, template } = e.data;
      // latest_version only moves forward; name/description follow the latest version
      await m.query(
        `INSERT INTO templates AS t (id, name, description, latest_version, archived, updated_at)
         VALUES ($1, $2, $3, $4, false, $5)
         ON CONFLICT (id) DO UPDATE SET
           name           = CASE WHEN excluded.latest_version >= t.latest_version THEN excluded.name ELSE t.name END,
           description    = CASE WHEN excluded.latest_version >= t.latest_version THEN excluded.description ELSE t.description END,
           latest_version = GREATEST(t.latest_version, excluded.latest_version),
           updated_at     = excluded.updated_at`,
        [templateId, template.name, template.description, version, at],
      );
      await m.query('INSERT INTO template_versions (template_id, version, template, created_at) VALUES ($1, $2, $3, $4)', [
        templateId,
        version,
        JSON.stringify(jsonbSafe(template)),
        at,
      ]);
      return;
    }
    case 'TemplateArchived': {
      const result = await m
        .createQueryBuilder()
        .update(TemplateRow)
        .set({ archived: true, updatedAt: at })
        .where('id = :id', { id: e.data.templateId })
        .execute();
      if (result.affected !== 1) throw new PoisonEventError(e.sequence, e.type, `template ${e.data.templateId} was never created`);
      return;
    }
    default: {
      const unknown: never = e;
      throw new PoisonEventError((unknown as Recorded).sequence, String((unknown as Recorded).type), 'unknown template event type');
    }
  }
}
