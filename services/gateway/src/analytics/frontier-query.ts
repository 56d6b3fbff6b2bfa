import { DEFAULT_FRONTIER_EPSILON, round9, type FrontierModel, type FrontierPhase, type FrontierPlaced, type FrontierQuery, type FrontierView } from '@conclave/contracts';
import { ReadModelQueries, type DataSource } from '@conclave/read-models';
import { instant } from '../http/date-range';
import { notFound } from '../http/ids';
import { key, paretoFrontier, recommend } from './frontier';

/**
 * The producers' settled candidates of the template phases in range, one row each, with what the
 * judge made of them. Basis: candidates *requested* in [from, to) (the calls made in the range, as
 * the model analytics), of runs of the template, archived runs included. A candidate is judged when
 * its round has a verdict (the `select` one first, else a loop's `evaluate`); it won when an
 * artifact of its phase was taken from it. Parameters: $1 from, $2 to, $3 template id, $4 phase id
 * (NULL: open / every one).
 */
const CANDIDATES = `
  WITH scored AS MATERIALIZED (
    SELECT r.template_id, r.template_name, r.started_at AS run_started_at, c.run_id, c.phase_id, c.attempt, c.round, c.provider, c.model, c.status,
           c.cost_usd, c.duration_ms, v.run_id IS NOT NULL AS judged, (v.scores -> c.id ->> 'overall')::float8 AS score,
           EXISTS (SELECT 1 FROM artifacts a WHERE a.run_id = c.run_id AND a.phase_id = c.phase_id AND a.candidate_id = c.id) AS won
      FROM candidates c
      JOIN runs r ON r.id = c.run_id
      LEFT JOIN LATERAL (
        SELECT v.run_id, v.scores FROM verdicts v
         WHERE v.run_id = c.run_id AND v.phase_id = c.phase_id AND v.attempt = c.attempt AND v.round = c.round
         ORDER BY (v.purpose = 'select') DESC, v.sequence DESC LIMIT 1
      ) v ON true
     WHERE c.status <> 'requested'
       AND ($1::timestamptz IS NULL OR c.requested_at >= $1::timestamptz) AND ($2::timestamptz IS NULL OR c.requested_at < $2::timestamptz)
       AND ($3::text IS NULL OR r.template_id = $3::text) AND ($4::text IS NULL OR c.phase_id = $4::text)
  )`;

/** a model's figures in one template phase */
interface ModelRow {
  template_id: string;
  phase_id: string;
  provider: string;
  model: string;
  candidates: number;
  judged: number;
  wins: number;
  scored: number;
  mean_score: number | null;
  mean_cost: number;
  failed: number;
  p50: number | null;
  p95: number | null;
  samples: number;
}
interface PhaseRow {
  template_id: string;
  template_name: string;
  phase_id: string;
  name: string | null;
  kind: string;
  judged_rounds: number;
  /** the phase's rows of models (a json array: its numbers as Postgres printed them, as in a column) */
  models: ModelRow[];
}

/** GET /analytics/frontier: per template phase and model, the figures, the Pareto frontier and the recommendation. */
export async function readFrontier(db: DataSource, query: FrontierQuery): Promise<FrontierView> {
  const epsilon = query.epsilon === undefined ? DEFAULT_FRONTIER_EPSILON : Number(query.epsilon);
  await ensureKnown(db, query);
  const from = instant(query.from);
  const to = instant(query.to);
  // one statement: `scored` (materialised) is evaluated once for both aggregates, and each phase
  // row carries its own models
  const phases = (await db.query(
    `${CANDIDATES},
     phases AS (
       SELECT s.template_id, s.phase_id,
              (array_agg(s.template_name ORDER BY s.run_started_at DESC, s.run_id DESC))[1] AS template_name,
              (array_agg(p.name ORDER BY s.run_started_at DESC, s.run_id DESC))[1] AS name,
              (array_agg(p.kind ORDER BY s.run_started_at DESC, s.run_id DESC))[1] AS kind,
              count(DISTINCT (s.run_id, s.attempt, s.round)) FILTER (WHERE s.judged)::int AS judged_rounds,
              min(p.position) AS position
         FROM scored s JOIN run_phases p ON p.run_id = s.run_id AND p.phase_id = s.phase_id
        GROUP BY s.template_id, s.phase_id
     ),
     models AS (
       SELECT template_id, phase_id, provider, model,
              count(*)::int AS candidates,
              count(*) FILTER (WHERE judged)::int AS judged,
              count(*) FILTER (WHERE judged AND won)::int AS wins,
              count(score)::int AS scored,
              avg(score) AS mean_score,
              avg(cost_usd)::float8 AS mean_cost,
              count(*) FILTER (WHERE status IN ('failed', 'rejected'))::int AS failed,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms) FILTER (WHERE duration_ms IS NOT NULL) AS p50,
              percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) FILTER (WHERE duration_ms IS NOT NULL) AS p95,
              count(duration_ms)::int AS samples
         FROM scored GROUP BY template_id, phase_id, provider, model
     ),
     by_phase AS (SELECT template_id, phase_id, json_agg(m) AS models FROM models m GROUP BY template_id, phase_id)
     SELECT ph.template_id, ph.template_name, ph.phase_id, ph.name, ph.kind, ph.judged_rounds, coalesce(bp.models, '[]'::json) AS models
       FROM phases ph LEFT JOIN by_phase bp ON bp.template_id = ph.template_id AND bp.phase_id = ph.phase_id
      ORDER BY ph.template_id, ph.position, ph.phase_id`,
    [from, to, query.templateId ?? null, query.phaseId ?? null],
  )) as PhaseRow[];
  return {
    from: from && new Date(from).toISOString(),
    to: to && new Date(to).toISOString(),
    templateId: query.templateId ?? null,
    phaseId: query.phaseId ?? null,
    epsilon,
    phases: phases.map((p) => phaseView(p, epsilon)),
  };
}

function phaseView(p: PhaseRow, epsilon: number): FrontierPhase {
  const models = p.models.map(modelFigures);
  const placed: FrontierPlaced[] = models.flatMap((m) => (m.meanScore === null ? [] : [{ provider: m.provider, model: m.model, meanScore: m.meanScore, meanCostUsd: m.meanCostUsd }]));
  const { frontier, dominatedBy } = paretoFrontier(placed);
  const onFrontier = new Set(frontier.map(key));
  return {
    templateId: p.template_id,
    templateName: p.template_name,
    phaseId: p.phase_id,
    name: p.name,
    kind: p.kind,
    judgedRounds: p.judged_rounds,
    models: models
      .map((m) => ({ ...m, onFrontier: onFrontier.has(key(m)), dominatedBy: dominatedBy.get(key(m)) ?? null }))
      .sort((a, b) => a.meanCostUsd - b.meanCostUsd || a.provider.localeCompare(b.provider) || a.model.localeCompare(b.model)),
    frontier,
    recommendation: recommend(placed, epsilon, (m) => `${m.model} (${m.provider})`),
  };
}

function modelFigures(r: ModelRow): Omit<FrontierModel, 'onFrontier' | 'dominatedBy'> {
  const meanScore = r.mean_score === null ? null : round9(r.mean_score);
  const meanCostUsd = round9(r.mean_cost);
  const ms = (v: number | null) => (v === null ? null : Math.round(Number(v)));
  return {
    provider: r.provider,
    model: r.model,
    candidates: r.candidates,
    judged: r.judged,
    wins: r.wins,
    winRate: r.judged > 0 ? r.wins / r.judged : null,
    scored: r.scored,
    meanScore,
    meanCostUsd,
    costPerScorePointUsd: meanScore !== null && meanScore > 0 ? round9(meanCostUsd / meanScore) : null,
    latencyMs: { p50: ms(r.p50), p95: ms(r.p95), samples: r.samples },
    failed: r.failed,
    failureRate: r.failed / r.candidates,
  };
}

/** An unknown template, or a phase id no version of it (of any template, without one) declares, is a 404. */
async function ensureKnown(db: DataSource, query: FrontierQuery): Promise<void> {
  if (query.templateId !== undefined && !(await new ReadModelQueries(db).templateExists(query.templateId))) throw notFound('template', query.templateId);
  if (query.phaseId !== undefined) {
    const found = (await db.query(
      `SELECT 1 FROM template_versions tv CROSS JOIN LATERAL jsonb_array_elements(tv.template -> 'phases') ph
        WHERE ($1::text IS NULL OR tv.template_id = $1::text) AND ph ->> 'id' = $2 LIMIT 1`,
      [query.templateId ?? null, query.phaseId],
    )) as unknown[];
    if (found.length === 0) throw notFound(query.templateId === undefined ? 'phase of any template' : `phase of template "${query.templateId}"`, query.phaseId);
  }
}
