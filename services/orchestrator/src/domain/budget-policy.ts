import type { BudgetModel, BudgetRule, ModelRef } from '@conclave/contracts';
import type { ActiveRun } from './run-state';

/**
 * Budgets that steer (ADR 024): the pure rules behind `BudgetPolicyApplied`. The decider measures
 * the run's reserved spend whenever a step would dispatch priced work; the lowest rule not fired
 * yet whose threshold that spend reaches fires once, and the phases not started by then run as it
 * says. No clock, no I/O: replaying a run's events through the decider takes the same decisions.
 */

/** The reserved spend of a step about to dispatch: settled cost, outstanding reservations, the step's own. */
export interface BudgetFigures {
  budgetUsd: number;
  spentUsd: number;
  reservedUsd: number;
  estimateUsd: number;
}

/** A fired rule as the run state keeps it. */
export interface BudgetDecision {
  ruleIndex: number;
  action: BudgetRule['action'];
  model?: BudgetModel;
  phaseIds: string[];
}

/** How the budget policy changes one phase when it starts: fewer candidates, another model. */
export interface BudgetSteer {
  shrink: boolean;
  model?: BudgetModel;
}

/** The run's own policy (POST /runs) or else its template's defaults. */
export function budgetPolicyOf(run: ActiveRun): readonly BudgetRule[] {
  return run.budgetPolicy ?? run.template.defaults.budgetPolicy ?? [];
}

/** The share of the budget the step would bring the reserved spend to, in %. */
export function reservedPct(f: BudgetFigures): number {
  return ((f.spentUsd + f.reservedUsd + f.estimateUsd) / f.budgetUsd) * 100;
}

/** The lowest-threshold rule not fired yet that the figures reach, or null. */
export function crossedRule(run: ActiveRun, figures: BudgetFigures): { index: number; rule: BudgetRule } | null {
  const pct = reservedPct(figures);
  const fired = new Set(run.budgetDecisions.map((d) => d.ruleIndex));
  const due = budgetPolicyOf(run)
    .map((rule, index) => ({ index, rule }))
    .filter(({ index, rule }) => !fired.has(index) && pct >= rule.atPct)
    .sort((a, b) => a.rule.atPct - b.rule.atPct);
  return due[0] ?? null;
}

/** The phases a `shrink` or `switch` changes: those not started yet (a scheduled retry counts as not started). */
export function steeredPhases(run: ActiveRun, rule: BudgetRule): string[] {
  if (rule.action !== 'shrink' && rule.action !== 'switch') return [];
  return run.template.phases.map((p) => p.id).filter((id) => run.phases[id]!.status === 'pending');
}

/** What the fired rules say about a phase: shrunk once any shrink names it; the last switch naming it wins. */
export function steerOf(run: ActiveRun, phaseId: string): BudgetSteer {
  let steer: BudgetSteer = { shrink: false };
  for (const d of run.budgetDecisions) {
    if (!d.phaseIds.includes(phaseId)) continue;
    if (d.action === 'shrink') steer = { ...steer, shrink: true };
    if (d.action === 'switch' && d.model) steer = { ...steer, model: d.model };
  }
  return steer;
}

/** A phase's candidate models under its steer: switched to the rule's model (options kept), one when shrunk. */
export function steeredModels(models: readonly ModelRef[], steer: BudgetSteer): ModelRef[] {
  const switched = steer.model ? models.map((m) => ({ provider: steer.model!.provider, model: steer.model!.model, ...(m.options ? { options: m.options } : {}) })) : [...models];
  return steer.shrink ? switched.slice(0, 1) : switched;
}
