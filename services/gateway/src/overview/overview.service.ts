import { Inject, Injectable } from '@nestjs/common';
import { ConclaveError, type OverviewView } from '@conclave/contracts';
import { MAIN_CHECKPOINT, type DataSource, type EntityManager } from '@conclave/read-models';
import { USAGE } from '../costs/costs.service';
import { DATA_SOURCE } from '../tokens';
import { roundUsd, toOverviewFailure, toOverviewRun, toOverviewSettledRun, type ActiveRunRow, type FailureRow, type SettledRunRow } from './overview-view';

/** Active runs listed (the counts cover them all). */
export const ACTIVE_LIMIT = 50;
export const FAILURES_LIMIT = 10;
export const RECENT_LIMIT = 5;
const GLOBAL_SCOPE = 'global';

/** Today's and this month's bounds in the zone `$2`, at the instant `$1`. */
const WINDOWS_SQL = `
  WITH local AS (SELECT ($1::timestamptz AT TIME ZONE $2) AS t)
  SELECT date_trunc('day', t) AT TIME ZONE $2 AS day_from,
         (date_trunc('day', t) + interval '1 day') AT TIME ZONE $2 AS day_to,
         date_trunc('month', t) AT TIME ZONE $2 AS month_from,
         (date_trunc('month', t) + interval '1 month') AT TIME ZONE $2 AS month_to,
         to_char(t, 'YYYY-MM') AS month
    FROM local`;

/** Spend per template over the month [$3, $4), and the part of it that falls today [$1, $2). */
const SPEND_SQL = `${USAGE}
  SELECT template,
         COALESCE(sum(cost_usd) FILTER (WHERE at >= $1 AND at < $2), 0)::float8 AS today,
         COALESCE(sum(cost_usd), 0)::float8 AS month
    FROM usage WHERE at >= $3 AND at < $4 GROUP BY template`;

const ACTIVE_SQL = `
  SELECT r.id, r.name, r.template_id, r.template_name, r.status, r.started_at, r.cost_usd, r.budget_usd,
         r.phases_total, r.phases_done, r.sequence, r.pending, r.pause_reason,
         COALESCE((SELECT jsonb_agg(jsonb_build_object('id', p.phase_id, 'name', p.name, 'kind', p.kind, 'status', p.status,
                                                       'startedAt', p.started_at, 'retryAt', p.retry_at) ORDER BY p.position)
                     FROM run_phases p WHERE p.run_id = r.id), '[]'::jsonb) AS phases
    FROM runs r
   WHERE r.status IN ('running', 'waiting', 'paused')
   ORDER BY (r.status = 'running'), r.started_at DESC, r.id DESC
   LIMIT $1`;

const COUNTS_SQL = `
  SELECT count(*)::int AS total,
         count(*) FILTER (WHERE status = 'running')::int AS running,
         count(*) FILTER (WHERE status = 'waiting')::int AS waiting,
         count(*) FILTER (WHERE status = 'paused')::int AS paused
    FROM runs`;

const RECENT_SQL = `
  SELECT r.id, r.name, r.template_id, r.template_name, r.status, r.started_at, r.cost_usd, r.completed_at
    FROM runs r
   WHERE r.status IN ('completed', 'failed', 'cancelled') AND r.completed_at IS NOT NULL
     AND NOT EXISTS (SELECT 1 FROM run_archive a WHERE a.run_id = r.id)
   ORDER BY r.completed_at DESC, r.id
   LIMIT $1`;

/**
 * A failed run once (with the phase that failed it, if any), and failed phases of runs that did
 * not fail (a run that goes on, or waits for a retry). Archived runs were put away: left out.
 */
const FAILURES_SQL = `
  SELECT * FROM (
    SELECT r.id AS run_id, r.name AS run_name, r.template_id, r.template_name, r.status AS run_status,
           fp.phase_id, fp.name AS phase_name, r.error, r.completed_at AS at
      FROM runs r
      LEFT JOIN LATERAL (SELECT p.phase_id, p.name FROM run_phases p
                          WHERE p.run_id = r.id AND p.status = 'failed'
                          ORDER BY p.completed_at DESC NULLS LAST LIMIT 1) fp ON true
     WHERE r.status = 'failed' AND r.error IS NOT NULL AND r.completed_at IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM run_archive a WHERE a.run_id = r.id)
    UNION ALL
    SELECT r.id, r.name, r.template_id, r.template_name, r.status, p.phase_id, p.name, p.error, p.completed_at
      FROM run_phases p JOIN runs r ON r.id = p.run_id
     WHERE p.status = 'failed' AND p.error IS NOT NULL AND p.completed_at IS NOT NULL AND r.status <> 'failed'
       AND NOT EXISTS (SELECT 1 FROM run_archive a WHERE a.run_id = r.id)
  ) f
  ORDER BY at DESC, run_id, phase_id
  LIMIT $1`;

/** Postgres: "invalid_parameter_value" (an unknown time zone name). */
const INVALID_PARAMETER_VALUE = '22023';

/**
 * GET /overview: SQL over the read models, every figure from one REPEATABLE READ snapshot, so the
 * answer is the state at one log position (`sequence`) and a client patches it with the live
 * events after that position without counting any twice.
 */
@Injectable()
export class OverviewService {
  constructor(@Inject(DATA_SOURCE) private readonly db: DataSource) {}

  async overview(timeZone: string, now = new Date()): Promise<OverviewView> {
    try {
      return await this.db.transaction('REPEATABLE READ', (m) => this.read(m, timeZone, now));
    } catch (err) {
      // the contract checked the name against the runtime's zone list; Postgres has its own
      if ((err as { code?: string }).code === INVALID_PARAMETER_VALUE) throw new ConclaveError('validation', `unknown time zone ${JSON.stringify(timeZone)}`, { tz: timeZone });
      throw err;
    }
  }

  private async read(m: EntityManager, timeZone: string, now: Date): Promise<OverviewView> {
    const [checkpoint]: { sequence: string }[] = await m.query('SELECT sequence FROM projection_checkpoints WHERE name = $1', [MAIN_CHECKPOINT]);
    const [w]: { day_from: Date; day_to: Date; month_from: Date; month_to: Date; month: string }[] = await m.query(WINDOWS_SQL, [now.toISOString(), timeZone]);
    const spend: { template: string; today: number; month: number }[] = await m.query(SPEND_SQL, [w!.day_from, w!.day_to, w!.month_from, w!.month_to]);
    const budgets: { template_id: string | null; scope: string; monthly_usd: number | null; template_name: string | null }[] = await m.query(
      `SELECT b.scope, b.template_id, b.monthly_usd, t.name AS template_name FROM budgets b LEFT JOIN templates t ON t.id = b.template_id ORDER BY b.scope`,
    );
    const [counts]: { total: number; running: number; waiting: number; paused: number }[] = await m.query(COUNTS_SQL);
    const active: ActiveRunRow[] = await m.query(ACTIVE_SQL, [ACTIVE_LIMIT]);
    const failures: FailureRow[] = await m.query(FAILURES_SQL, [FAILURES_LIMIT]);
    const recent: SettledRunRow[] = await m.query(RECENT_SQL, [RECENT_LIMIT]);

    const monthByTemplate = new Map(spend.map((s) => [s.template, s.month]));
    const global = budgets.find((b) => b.scope === GLOBAL_SCOPE);
    return {
      generatedAt: now.toISOString(),
      sequence: checkpoint ? Number(checkpoint.sequence) : 0,
      timeZone,
      runs: {
        total: counts!.total,
        counts: { running: counts!.running, waiting: counts!.waiting, paused: counts!.paused },
        active: active.map(toOverviewRun),
        limit: ACTIVE_LIMIT,
        recent: recent.map(toOverviewSettledRun),
      },
      spend: {
        today: { from: w!.day_from.toISOString(), to: w!.day_to.toISOString(), costUsd: roundUsd(spend.reduce((sum, s) => sum + s.today, 0)) },
        month: { month: w!.month, from: w!.month_from.toISOString(), to: w!.month_to.toISOString(), costUsd: roundUsd(spend.reduce((sum, s) => sum + s.month, 0)) },
        budgets: {
          global: { monthlyUsd: global?.monthly_usd ?? null, spentUsd: roundUsd(spend.reduce((sum, s) => sum + s.month, 0)) },
          templates: budgets
            .filter((b) => b.template_id !== null)
            .map((b) => ({ templateId: b.template_id!, templateName: b.template_name, monthlyUsd: b.monthly_usd ?? 0, spentUsd: roundUsd(monthByTemplate.get(b.template_id!) ?? 0) })),
        },
      },
      failures: failures.map(toOverviewFailure),
    };
  }
}
