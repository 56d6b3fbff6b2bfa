import { Inject, Injectable } from '@nestjs/common';
import type { BudgetsView, CostGroupBy, CostItem, PutBudgetsBody } from '@conclave/contracts';
import { idPart } from '@conclave/event-log';
import { BudgetRow, type DataSource } from '@conclave/read-models';
import { AlertsService } from '../alerts/alerts.service';
import { DATA_SOURCE } from '../tokens';

/**
 * Every priced call: generated (or later rejected) candidates and judge verdicts, with the run's
 * template (also summed by the overview). `$1`/`$2` bound the call time (inclusive / exclusive);
 * NULL means unbounded.
 */
export const USAGE = `
  WITH usage AS (
    SELECT c.provider, c.model, r.template_id AS template, c.requested_at AS at, c.cost_usd, c.tokens_input, c.tokens_output
      FROM candidates c JOIN runs r ON r.id = c.run_id
     WHERE c.status IN ('generated', 'rejected')
    UNION ALL
    SELECT v.provider, v.model, r.template_id, v.recorded_at, v.cost_usd, v.tokens_input, v.tokens_output
      FROM verdicts v JOIN runs r ON r.id = v.run_id
  )`;
const RANGE = `($1::timestamptz IS NULL OR at >= $1::timestamptz) AND ($2::timestamptz IS NULL OR at < $2::timestamptz)`;
const KEY: Record<CostGroupBy, string> = {
  provider: 'provider',
  model: 'model',
  template: 'template',
  day: `to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD')`,
};

const GLOBAL = 'global';
const BUDGET_THRESHOLDS = [80, 100] as const;
const templateScope = (id: string) => `template:${id}`;

/** Costs (SQL aggregates over the read models), budgets and alerts. */
@Injectable()
export class CostsService {
  constructor(
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    @Inject(AlertsService) private readonly alerts: AlertsService,
  ) {}

  async costs(groupBy: CostGroupBy, from?: string, to?: string): Promise<CostItem[]> {
    const order = groupBy === 'day' ? 'key ASC' : 'cost DESC, key ASC';
    const rows: { key: string; cost: number; input: string; output: string; calls: number }[] = await this.db.query(
      `${USAGE}
       SELECT ${KEY[groupBy]} AS key, COALESCE(sum(cost_usd), 0)::float8 AS cost, COALESCE(sum(tokens_input), 0)::int8 AS input,
              COALESCE(sum(tokens_output), 0)::int8 AS output, count(*)::int AS calls
         FROM usage WHERE ${RANGE} GROUP BY 1 ORDER BY ${order}`,
      [utc(from), utc(to)],
    );
    return rows.map((r) => ({ key: r.key, costUsd: round(r.cost), tokens: { input: Number(r.input), output: Number(r.output) }, calls: r.calls }));
  }

  async budgets(now = new Date()): Promise<BudgetsView> {
    const start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
    const end = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
    const rows = await this.db.getRepository(BudgetRow).find({ order: { scope: 'ASC' } });
    const spent: { template: string; cost: number }[] = await this.db.query(
      `${USAGE} SELECT template, COALESCE(sum(cost_usd), 0)::float8 AS cost FROM usage WHERE ${RANGE} GROUP BY 1`,
      [start.toISOString(), end.toISOString()],
    );
    const byTemplate = new Map(spent.map((s) => [s.template, s.cost]));
    const global = rows.find((r) => r.scope === GLOBAL);
    const updated = rows.map((r) => r.updatedAt.getTime());
    return {
      month: start.toISOString().slice(0, 7),
      global: { monthlyUsd: global?.monthlyUsd ?? null, spentUsd: round(spent.reduce((sum, s) => sum + s.cost, 0)) },
      templates: rows
        .filter((r) => r.templateId !== null)
        .map((r) => ({ templateId: r.templateId!, monthlyUsd: r.monthlyUsd ?? 0, spentUsd: round(byTemplate.get(r.templateId!) ?? 0) })),
      updatedAt: updated.length > 0 ? new Date(Math.max(...updated)).toISOString() : null,
    };
  }

  /**
   * Monthly budget alerts: one alert per scope, month and threshold (80 %, 100 %), whatever the
   * number of gateways or checks: the alert id is derived from them, and the log keeps the first
   * `AlertRaised` of an id (ADR 016). Returns the ids of the alerts this call raised.
   */
  async checkBudgets(now = new Date()): Promise<string[]> {
    const view = await this.budgets(now);
    const scopes = [
      ...(view.global.monthlyUsd ? [{ scope: GLOBAL, label: 'the global monthly budget', budget: view.global.monthlyUsd, spent: view.global.spentUsd, templateId: null as string | null }] : []),
      ...view.templates
        .filter((t) => t.monthlyUsd > 0)
        .map((t) => ({ scope: templateScope(t.templateId), label: `the monthly budget of template ${t.templateId}`, budget: t.monthlyUsd, spent: t.spentUsd, templateId: t.templateId })),
    ];
    const created: string[] = [];
    for (const s of scopes) {
      for (const pct of BUDGET_THRESHOLDS) {
        if (s.spent < (s.budget * pct) / 100) continue;
        // the same threshold written as a row before ADR 016 (`budget:<scope>:<month>:<pct>`) is not raised again
        const legacy: unknown[] = await this.db.query('SELECT 1 FROM alerts WHERE id = $1', [`budget:${s.scope}:${view.month}:${pct}`]);
        if (legacy.length > 0) continue;
        const id = `budget-${idPart(s.scope)}-${view.month}-${pct}`;
        const details = { scope: s.scope, month: view.month, thresholdPct: pct, budgetUsd: s.budget, spentUsd: s.spent };
        const message = `${pct} % of ${s.label} is spent (${round(s.spent)} of ${s.budget} USD in ${view.month})`;
        if (await this.alerts.raise({ alertId: id, kind: 'budget_threshold', message, templateId: s.templateId, details })) created.push(id);
      }
    }
    return created;
  }

  /** Replaces every budget at once (one transaction): what is not in the body is removed. */
  async putBudgets(body: PutBudgetsBody): Promise<BudgetsView> {
    const now = new Date();
    await this.db.transaction(async (m) => {
      await m.query('DELETE FROM budgets');
      const rows: BudgetRow[] = [
        { scope: GLOBAL, templateId: null, monthlyUsd: body.globalMonthlyUsd, updatedAt: now },
        ...body.templates.map((t) => ({ scope: templateScope(t.templateId), templateId: t.templateId, monthlyUsd: t.monthlyUsd, updatedAt: now })),
      ];
      await m.getRepository(BudgetRow).insert(rows);
    });
    await this.checkBudgets(now);
    return this.budgets(now);
  }

}

/** A date without a time is midnight UTC (not the database session's time zone). */
function utc(bound: string | undefined): string | null {
  if (bound === undefined) return null;
  return /^\d{4}-\d{2}-\d{2}$/.test(bound) ? `${bound}T00:00:00Z` : bound;
}

/** USD to 1e-9 (sums of doubles drift in the last digits). */
function round(usd: number): number {
  return Math.round(usd * 1e9) / 1e9;
}
