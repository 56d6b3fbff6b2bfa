import { ConclaveError, costUsd, round6, STUDY_MAX_SKIP_DETAILS, type ModelPrice, type StudyBody, type StudyItem, type StudySkip, type StudySkipped } from '@conclave/contracts';
import { ReadModelQueries, type DataSource } from '@conclave/read-models';

/** judge prompt tokens beyond the candidates' outputs (instructions, task, criteria) */
const PROMPT_OVERHEAD_TOKENS = 400;
/** judge answer tokens per candidate (scores and a share of the rationale) */
const ANSWER_TOKENS_PER_CANDIDATE = 150;

export interface StudyPlan {
  items: StudyItem[];
  skipped: StudySkipped;
  runs: number;
  candidates: number;
  tokens: { input: number; output: number };
  estimateUsd: number;
}

interface VerdictRow {
  run_id: string;
  template_id: string;
  phase_id: string;
  attempt: number;
  round: number;
  winner_id: string;
  scores: StudyItem['old']['scores'];
  order: string[];
  provider: string;
  model: string;
  candidates: { candidateId: string; provider: string; model: string; chars: number }[];
}

/**
 * What a study would re-judge, from the read models: per run in scope, each phase's last `select`
 * verdict (the one that chose its winner) whose candidates still have their outputs. A run that is
 * archived, unknown, or has no such phase (a fork that reused every output, a run of one-candidate
 * phases) is skipped; so is a phase whose verdict lost candidates' outputs; an unknown template is a 404. Tokens: the outputs'
 * characters / 4 plus a prompt overhead in, scores and rationale out; priced with `price` (null:
 * free).
 */
export async function planStudy(db: DataSource, body: Pick<StudyBody, 'runs' | 'phases'>, price: ModelPrice | null): Promise<StudyPlan> {
  if (!Array.isArray(body.runs)) {
    if (!(await new ReadModelQueries(db).templateExists(body.runs.templateId))) throw new ConclaveError('not_found', `template ${body.runs.templateId} does not exist`, { field: 'runs.templateId' });
  }
  const scope = Array.isArray(body.runs)
    ? await db.query(
        `SELECT u.id, r.id IS NOT NULL AS known, EXISTS (SELECT 1 FROM run_archive a WHERE a.run_id = u.id) AS archived
           FROM unnest($1::text[]) WITH ORDINALITY AS u(id, n) LEFT JOIN runs r ON r.id = u.id ORDER BY u.n`,
        [[...new Set(body.runs)]],
      )
    : await db.query(
        `SELECT r.id, true AS known, EXISTS (SELECT 1 FROM run_archive a WHERE a.run_id = r.id) AS archived
           FROM runs r
          WHERE r.template_id = $1 AND ($2::timestamptz IS NULL OR r.started_at >= $2::timestamptz) AND ($3::timestamptz IS NULL OR r.started_at < $3::timestamptz)
          ORDER BY r.started_at, r.id`,
        [body.runs.templateId, body.runs.from ?? null, body.runs.to ?? null],
      );
  const runs = scope as { id: string; known: boolean; archived: boolean }[];
  const eligible = runs.filter((r) => r.known && !r.archived).map((r) => r.id);
  const verdicts: VerdictRow[] = eligible.length === 0 ? [] : await db.query(
    `SELECT DISTINCT ON (v.run_id, v.phase_id) v.run_id, r.template_id, v.phase_id, v.attempt, v.round, v.winner_id, v.scores, v."order", v.provider, v.model,
            coalesce((SELECT jsonb_agg(jsonb_build_object('candidateId', c.id, 'provider', c.provider, 'model', c.model, 'chars', length(c.output::text)) ORDER BY c.slot)
                        FROM candidates c
                       WHERE c.run_id = v.run_id AND c.phase_id = v.phase_id AND c.attempt = v.attempt AND c.round = v.round
                         AND c.output IS NOT NULL AND v.scores ? c.id), '[]'::jsonb) AS candidates
       FROM verdicts v JOIN runs r ON r.id = v.run_id
      WHERE v.run_id = ANY($1::text[]) AND v.purpose = 'select' AND ($2::text[] IS NULL OR v.phase_id = ANY($2::text[]))
      ORDER BY v.run_id, v.phase_id, v.attempt DESC, v.round DESC`,
    [eligible, body.phases ?? null],
  );

  const skips: StudySkip[] = [];
  let skippedPhases = 0;
  const items: StudyItem[] = [];
  const tokens = { input: 0, output: 0 };
  let candidates = 0;
  for (const r of runs) {
    if (!r.known) skips.push({ runId: r.id, phaseId: null, reason: 'no such run' });
    else if (r.archived) skips.push({ runId: r.id, phaseId: null, reason: 'archived' });
  }
  const byRun = new Map<string, VerdictRow[]>();
  for (const v of verdicts) {
    const list = byRun.get(v.run_id);
    if (list) list.push(v);
    else byRun.set(v.run_id, [v]);
  }
  let judgedRuns = 0;
  for (const runId of eligible) {
    const judged = byRun.get(runId) ?? [];
    let kept = 0;
    for (const v of judged) {
      if (v.candidates.length < 2 || !v.candidates.some((c) => c.candidateId === v.winner_id)) {
        skippedPhases += 1;
        skips.push({ runId, phaseId: v.phase_id, reason: 'candidates missing: fewer than two of the verdict\'s candidates have a stored output' });
        continue;
      }
      kept += 1;
      const input = PROMPT_OVERHEAD_TOKENS + Math.ceil(v.candidates.reduce((n, c) => n + c.chars, 0) / 4);
      const output = ANSWER_TOKENS_PER_CANDIDATE * v.candidates.length;
      tokens.input += input;
      tokens.output += output;
      candidates += v.candidates.length;
      items.push({
        itemId: `i${items.length + 1}`,
        runId,
        templateId: v.template_id,
        phaseId: v.phase_id,
        attempt: v.attempt,
        candidates: v.candidates.map(({ candidateId, provider, model }) => ({ candidateId, provider, model })),
        old: { winnerId: v.winner_id, scores: v.scores, order: v.order, provider: v.provider, model: v.model },
        estimateUsd: price ? round6(costUsd({ input, output }, price)) : 0,
      });
    }
    if (kept > 0) judgedRuns += 1;
    else skips.push({ runId, phaseId: null, reason: judged.length === 0 ? 'no judged phase with stored candidates (a fork that reused its outputs, or single-candidate phases)' : 'every judged phase lost its candidates' });
  }
  const skippedRuns = skips.filter((s) => s.phaseId === null).length;
  return {
    items,
    skipped: { runs: skippedRuns, phases: skippedPhases, details: skips.slice(0, STUDY_MAX_SKIP_DETAILS) },
    runs: judgedRuns,
    candidates,
    tokens,
    estimateUsd: round6(items.reduce((n, i) => n + i.estimateUsd, 0)),
  };
}
