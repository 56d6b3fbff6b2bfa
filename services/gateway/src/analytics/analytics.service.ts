import { Inject, Injectable } from '@nestjs/common';
import { round9, type AnalyticsQuery, type AnalyticsView, type DailyCost, type DurationStats, type FrontierQuery, type FrontierView, type ModelAnalytics, type PhaseAnalytics, type RunStatus, type TemplateAnalytics, type TopRun } from '@conclave/contracts';
import type { DataSource } from '@conclave/read-models';
import { instant } from '../http/date-range';
import { DATA_SOURCE } from '../tokens';
import { readFrontier } from './frontier-query';

const TOP_RUNS = 10;

/**
 * Two bases, as a user reads them:
 * - run figures (templates, phases, top runs, totals) cover the runs *started* in [from, to);
 * - spend figures (models, daily) cover the calls *made* in [from, to), as `GET /costs` does, so a
 *   day's spend is what was billed that day whatever run it belongs to.
 * Archived runs count: archiving hides a run from the list, not what it cost or how it went.
 * Parameters: $1 from, $2 to (NULL: open), $3 template id (NULL: every template).
 */
const RUNS_IN_RANGE = `($1::timestamptz IS NULL OR r.started_at >= $1::timestamptz) AND ($2::timestamptz IS NULL OR r.started_at < $2::timestamptz)
  AND ($3::text IS NULL OR r.template_id = $3::text)`;

/**
 * Every call of a model: candidates (their spend includes billed failures and retried tries, as
 * their run's does; `status` 'requested' is still in flight) and judge or evaluator verdicts.
 */
const CALLS_IN_RANGE = `
  WITH calls AS (
    SELECT c.run_id, c.provider, c.model, c.requested_at AS at, c.status, c.duration_ms, c.cost_usd, c.tokens_input, c.tokens_output
      FROM candidates c JOIN runs r ON r.id = c.run_id
     WHERE ($1::timestamptz IS NULL OR c.requested_at >= $1::timestamptz) AND ($2::timestamptz IS NULL OR c.requested_at < $2::timestamptz)
       AND ($3::text IS NULL OR r.template_id = $3::text)
    UNION ALL
    SELECT v.run_id, v.provider, v.model, v.recorded_at, 'verdict', NULL, v.cost_usd, v.tokens_input, v.tokens_output
      FROM verdicts v JOIN runs r ON r.id = v.run_id
     WHERE ($1::timestamptz IS NULL OR v.recorded_at >= $1::timestamptz) AND ($2::timestamptz IS NULL OR v.recorded_at < $2::timestamptz)
       AND ($3::text IS NULL OR r.template_id = $3::text)
  )`;

/** percentile_cont (linear interpolation) of a millisecond expression over the rows `filter` keeps, with the sample count. */
const percentiles = (ms: string, filter: string) => `
  percentile_cont(0.5) WITHIN GROUP (ORDER BY ${ms}) FILTER (WHERE ${filter}) AS p50,
  percentile_cont(0.95) WITHIN GROUP (ORDER BY ${ms}) FILTER (WHERE ${filter}) AS p95,
  count(*) FILTER (WHERE ${filter})::int AS samples`;
const millisBetween = (start: string, end: string) => `(extract(epoch FROM (${end} - ${start})) * 1000)::float8`;

/**
 * A fork's reused phases did not run in the fork: the decider completes them in the fork's first
 * commit (started and completed at one instant) from the source's outputs. They are left out of
 * the phase figures; a reused phase retried later in the fork has a real duration and counts.
 */
const NOT_REUSED = `NOT (p.status = 'completed' AND p.started_at = p.completed_at AND EXISTS (
    SELECT 1 FROM timeline_events t CROSS JOIN LATERAL jsonb_array_elements(t.data->'reused') u
     WHERE t.run_id = p.run_id AND t.type = 'RunForked' AND u->>'phaseId' = p.phase_id))`;

const RUN_MS = millisBetween('r.started_at', 'r.completed_at');
const PHASE_MS = millisBetween('p.started_at', 'p.completed_at');
const FINISHED = `('completed', 'failed', 'cancelled')`;

interface StatsRow {
  p50: number | null;
  p95: number | null;
  samples: number;
}
interface UsageRow {
  cost: number;
  input: string;
  output: string;
}

/** Analytics over the read models: per template, template phase and model, the costliest runs, spend by day. */
@Injectable()
export class AnalyticsService {
  constructor(@Inject(DATA_SOURCE) private readonly db: DataSource) {}

  async analytics(query: AnalyticsQuery): Promise<AnalyticsView> {
    const from = instant(query.from);
    const to = instant(query.to);
    const params = [from, to, query.templateId ?? null];
    const [templates, phases, models, topRuns, daily, totals] = await Promise.all([
      this.templates(params),
      this.phases(params),
      this.models(params),
      this.topRuns(params),
      this.daily(params),
      this.totals(params),
    ]);
    return { from: from && new Date(from).toISOString(), to: to && new Date(to).toISOString(), templateId: query.templateId ?? null, totals, templates, phases, models, topRuns, daily };
  }

  /** The quality–cost frontier per template phase and model (frontier-query.ts). */
  frontier(query: FrontierQuery): Promise<FrontierView> {
    return readFrontier(this.db, query);
  }

  private async templates(params: unknown[]): Promise<TemplateAnalytics[]> {
    const rows: (StatsRow & UsageRow & { template_id: string; template_name: string; runs: number; completed: number; failed: number; cancelled: number; active: number })[] = await this.db.query(
      `SELECT r.template_id, (array_agg(r.template_name ORDER BY r.started_at DESC, r.id DESC))[1] AS template_name,
              count(*)::int AS runs,
              count(*) FILTER (WHERE r.status = 'completed')::int AS completed,
              count(*) FILTER (WHERE r.status = 'failed')::int AS failed,
              count(*) FILTER (WHERE r.status = 'cancelled')::int AS cancelled,
              count(*) FILTER (WHERE r.status NOT IN ${FINISHED})::int AS active,
              ${percentiles(RUN_MS, `r.status = 'completed' AND r.completed_at IS NOT NULL`)},
              COALESCE(sum(r.cost_usd), 0)::float8 AS cost, COALESCE(sum(r.tokens_input), 0)::int8 AS input, COALESCE(sum(r.tokens_output), 0)::int8 AS output
         FROM runs r WHERE ${RUNS_IN_RANGE}
        GROUP BY r.template_id ORDER BY cost DESC, r.template_id`,
      params,
    );
    return rows.map((r) => {
      const finished = r.completed + r.failed + r.cancelled;
      return {
        templateId: r.template_id,
        templateName: r.template_name,
        runs: r.runs,
        completed: r.completed,
        failed: r.failed,
        cancelled: r.cancelled,
        active: r.active,
        successRate: finished > 0 ? r.completed / finished : null,
        failureRate: finished > 0 ? r.failed / finished : null,
        durationMs: stats(r),
        costUsd: round9(r.cost),
        costPerRunUsd: r.runs > 0 ? round9(r.cost / r.runs) : null,
        tokens: tokens(r),
      };
    });
  }

  /** The phases of the runs in range (not a fork's reused ones), per template and phase id, in the template's order. */
  private async phases(params: unknown[]): Promise<PhaseAnalytics[]> {
    const rows: (StatsRow & UsageRow & { template_id: string; phase_id: string; name: string | null; kind: string; completed: number; failed: number })[] = await this.db.query(
      `SELECT r.template_id, p.phase_id,
              (array_agg(p.name ORDER BY r.started_at DESC, r.id DESC))[1] AS name,
              (array_agg(p.kind ORDER BY r.started_at DESC, r.id DESC))[1] AS kind,
              count(*) FILTER (WHERE p.status = 'completed')::int AS completed,
              count(*) FILTER (WHERE p.status = 'failed')::int AS failed,
              ${percentiles(PHASE_MS, `p.status = 'completed' AND p.started_at IS NOT NULL AND p.completed_at IS NOT NULL`)},
              COALESCE(sum(p.cost_usd), 0)::float8 AS cost, COALESCE(sum(p.tokens_input), 0)::int8 AS input, COALESCE(sum(p.tokens_output), 0)::int8 AS output
         FROM run_phases p JOIN runs r ON r.id = p.run_id
        WHERE ${RUNS_IN_RANGE} AND ${NOT_REUSED}
        GROUP BY r.template_id, p.phase_id ORDER BY r.template_id, min(p.position), p.phase_id`,
      params,
    );
    return rows.map((r) => ({
      templateId: r.template_id,
      phaseId: r.phase_id,
      name: r.name,
      kind: r.kind,
      completed: r.completed,
      failed: r.failed,
      durationMs: stats(r),
      costUsd: round9(r.cost),
      tokens: tokens(r),
    }));
  }

  private async models(params: unknown[]): Promise<ModelAnalytics[]> {
    const rows: (StatsRow & UsageRow & { provider: string; model: string; runs: number; calls: number; failed: number })[] = await this.db.query(
      `${CALLS_IN_RANGE}
       SELECT provider, model, count(DISTINCT run_id)::int AS runs,
              count(*) FILTER (WHERE status <> 'requested')::int AS calls,
              count(*) FILTER (WHERE status IN ('failed', 'rejected'))::int AS failed,
              ${percentiles('duration_ms::float8', `status IN ('generated', 'rejected', 'failed') AND duration_ms IS NOT NULL`)},
              COALESCE(sum(cost_usd), 0)::float8 AS cost, COALESCE(sum(tokens_input), 0)::int8 AS input, COALESCE(sum(tokens_output), 0)::int8 AS output
         FROM calls GROUP BY provider, model ORDER BY cost DESC, provider, model`,
      params,
    );
    return rows.map((r) => ({
      provider: r.provider,
      model: r.model,
      runs: r.runs,
      calls: r.calls,
      failed: r.failed,
      successRate: r.calls > 0 ? (r.calls - r.failed) / r.calls : null,
      failureRate: r.calls > 0 ? r.failed / r.calls : null,
      durationMs: stats(r),
      costUsd: round9(r.cost),
      costPerRunUsd: r.runs > 0 ? round9(r.cost / r.runs) : null,
      tokens: tokens(r),
    }));
  }

  private async topRuns(params: unknown[]): Promise<TopRun[]> {
    const rows: { id: string; name: string | null; template_id: string; template_name: string; status: RunStatus; cost_usd: number; tokens_input: number; tokens_output: number; started_at: Date; completed_at: Date | null }[] =
      await this.db.query(
        `SELECT r.id, r.name, r.template_id, r.template_name, r.status, r.cost_usd, r.tokens_input, r.tokens_output, r.started_at, r.completed_at
           FROM runs r WHERE ${RUNS_IN_RANGE}
          ORDER BY r.cost_usd DESC, r.started_at DESC, r.id LIMIT ${TOP_RUNS}`,
        params,
      );
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      templateId: r.template_id,
      templateName: r.template_name,
      status: r.status,
      costUsd: round9(r.cost_usd),
      tokens: { input: r.tokens_input, output: r.tokens_output },
      startedAt: r.started_at.toISOString(),
      completedAt: r.completed_at?.toISOString() ?? null,
      durationMs: r.completed_at ? r.completed_at.getTime() - r.started_at.getTime() : null,
    }));
  }

  private async daily(params: unknown[]): Promise<DailyCost[]> {
    const rows: (UsageRow & { day: string; calls: number })[] = await this.db.query(
      `${CALLS_IN_RANGE}
       SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, count(*) FILTER (WHERE status <> 'requested')::int AS calls,
              COALESCE(sum(cost_usd), 0)::float8 AS cost, COALESCE(sum(tokens_input), 0)::int8 AS input, COALESCE(sum(tokens_output), 0)::int8 AS output
         FROM calls GROUP BY 1 ORDER BY 1`,
      params,
    );
    return rows.map((r) => ({ day: r.day, costUsd: round9(r.cost), tokens: tokens(r), calls: r.calls }));
  }

  private async totals(params: unknown[]): Promise<AnalyticsView['totals']> {
    const [row] = (await this.db.query(
      `SELECT count(*)::int AS runs, COALESCE(sum(r.cost_usd), 0)::float8 AS cost, COALESCE(sum(r.tokens_input), 0)::int8 AS input, COALESCE(sum(r.tokens_output), 0)::int8 AS output
         FROM runs r WHERE ${RUNS_IN_RANGE}`,
      params,
    )) as (UsageRow & { runs: number })[];
    return { runs: row!.runs, costUsd: round9(row!.cost), tokens: tokens(row!) };
  }
}

/** Durations to whole milliseconds. */
function stats(r: StatsRow): DurationStats {
  const ms = (v: number | null) => (v === null ? null : Math.round(Number(v)));
  return { p50: ms(r.p50), p95: ms(r.p95), samples: r.samples };
}

function tokens(r: UsageRow): { input: number; output: number } {
  return { input: Number(r.input), output: Number(r.output) };
}

