import { splitStreamId, type EventOf, type Recorded, type StudyEvent } from '@conclave/contracts';
import type { EntityManager } from 'typeorm';
import { withoutNul } from '../alerts';

/**
 * The studies read model's share of the log (ADR 023): `events.study.<id>`, written as the events
 * come (studies share no table with runs). The projection's checkpoint applies each event once;
 * a replay folds into empty tables, so the same log gives the same rows. The study's counters
 * (judged, failed, cost) are recounted from its items (never incremented), so they cannot drift,
 * after the two events that change them: StudyVerdictRecorded and StudyItemFailed (a request only
 * moves an item between pending and requested, and completion changes no item).
 */
export async function applyStudyEvent(m: EntityManager, e: Recorded<StudyEvent>): Promise<void> {
  const studyId = splitStreamId(e.streamId).id;
  switch (e.type) {
    case 'StudyStarted':
      return started(m, e as Recorded<EventOf<'StudyStarted'>>);
    case 'StudyJudgeRequested':
      await m.query(`UPDATE study_items SET status = 'requested', attempts = $3 WHERE study_id = $1 AND item_id = $2 AND attempts < $3 AND status IN ('pending', 'requested')`, [
        studyId,
        e.data.itemId,
        e.data.attempt,
      ]);
      return folded(m, studyId, e.sequence);
    case 'StudyVerdictRecorded': {
      const d = e.data;
      await m.query(
        `UPDATE study_items SET status = 'judged', new_winner_id = $3, new_scores = $4::jsonb, new_order = $5::jsonb, rationale = $6, error = NULL,
                cost_usd = cost_usd + $7, tokens_input = tokens_input + $8, tokens_output = tokens_output + $9
          WHERE study_id = $1 AND item_id = $2`,
        [studyId, d.itemId, d.winnerId, JSON.stringify(d.scores), JSON.stringify(d.order), withoutNul(d.rationale), d.costUsd, d.tokens.input, d.tokens.output],
      );
      return recounted(m, studyId, e.sequence);
    }
    case 'StudyItemFailed': {
      const d = e.data;
      await m.query(`UPDATE study_items SET status = $3, error = $4::jsonb, cost_usd = cost_usd + $5 WHERE study_id = $1 AND item_id = $2`, [
        studyId,
        d.itemId,
        d.final ? 'failed' : 'pending',
        JSON.stringify({ ...d.error, message: withoutNul(d.error.message) }),
        d.costUsd,
      ]);
      return recounted(m, studyId, e.sequence);
    }
    case 'StudyCompleted':
      await m.query(`UPDATE studies SET status = 'completed', completed_at = $2, sequence = $3 WHERE id = $1`, [studyId, new Date(e.occurredAt), e.sequence]);
      return;
    default: {
      const never: never = e;
      throw new Error(`unknown study event ${(never as Recorded).type}`);
    }
  }
}

/** the study's counters recounted from its items, and its last folded event */
async function recounted(m: EntityManager, studyId: string, sequence: number): Promise<void> {
  await m.query(
    `UPDATE studies s SET sequence = $2,
            items_judged = c.judged, items_failed = c.failed, cost_usd = c.cost
       FROM (SELECT count(*) FILTER (WHERE status = 'judged')::int AS judged, count(*) FILTER (WHERE status = 'failed')::int AS failed,
                    coalesce(sum(cost_usd), 0)::float8 AS cost
               FROM study_items WHERE study_id = $1) c
      WHERE s.id = $1`,
    [studyId, sequence],
  );
}

/** an event that changed no counter: only the study's last folded event moves */
async function folded(m: EntityManager, studyId: string, sequence: number): Promise<void> {
  await m.query(`UPDATE studies SET sequence = $2 WHERE id = $1`, [studyId, sequence]);
}

async function started(m: EntityManager, e: Recorded<EventOf<'StudyStarted'>>): Promise<void> {
  const d = e.data;
  await m.query(
    `INSERT INTO studies (id, name, status, judge, runs, phases, items_total, items_judged, items_failed, skipped, estimate_usd, cost_usd, budget_usd, started_at, completed_at, sequence)
     VALUES ($1, $2, 'running', $3::jsonb, $4::jsonb, $5::jsonb, $6, 0, 0, $7::jsonb, $8, 0, $9, $10, NULL, $11) ON CONFLICT (id) DO NOTHING`,
    [d.studyId, d.name, JSON.stringify(d.judge), JSON.stringify(d.runs), d.phases === null ? null : JSON.stringify(d.phases), d.items.length, JSON.stringify(d.skipped), d.estimateUsd, d.budgetUsd, new Date(e.occurredAt), e.sequence],
  );
  if (d.items.length === 0) return;
  const rows = d.items.map((i) => ({
    item_id: i.itemId,
    run_id: i.runId,
    template_id: i.templateId,
    phase_id: i.phaseId,
    attempt: i.attempt,
    candidates: i.candidates,
    old_winner_id: i.old.winnerId,
    old_scores: i.old.scores,
    old_order: i.old.order,
    old_provider: i.old.provider,
    old_model: i.old.model,
    estimate_usd: i.estimateUsd,
  }));
  await m.query(
    `INSERT INTO study_items (study_id, item_id, run_id, template_id, phase_id, attempt, candidates, old_winner_id, old_scores, old_order, old_provider, old_model, status, attempts, estimate_usd)
     SELECT $1, r.item_id, r.run_id, r.template_id, r.phase_id, r.attempt, r.candidates, r.old_winner_id, r.old_scores, r.old_order, r.old_provider, r.old_model, 'pending', 0, r.estimate_usd
       FROM jsonb_to_recordset($2::jsonb) AS r(item_id text, run_id text, template_id text, phase_id text, attempt int, candidates jsonb, old_winner_id text, old_scores jsonb, old_order jsonb,
                                               old_provider text, old_model text, estimate_usd float8)
     ON CONFLICT (study_id, item_id) DO NOTHING`,
    [d.studyId, JSON.stringify(rows)],
  );
}
