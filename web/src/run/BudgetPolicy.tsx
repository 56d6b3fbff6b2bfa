import { budgetDecisionText, type BudgetRule, type RunView } from '@conclave/contracts';
import { formatDateTime } from '../lib/format';

/** What a rule does, in a few words ("switch later phases to openai/gpt-4.1-nano"). */
export function describeBudgetRule(rule: BudgetRule): string {
  switch (rule.action) {
    case 'pause':
      return 'pause the run';
    case 'shrink':
      return 'run later phases with one candidate and no judge';
    case 'switch':
      return `switch later phases to ${rule.model?.provider}/${rule.model?.model}`;
    case 'stop':
      return 'stop the run';
  }
}

/**
 * The run's budget policy (ADR 024): each rule by its threshold of the reserved spend, and, once a
 * rule fired, when and with which figures. Nothing for a run without a policy.
 */
export function BudgetPolicySummary({ view }: { view: RunView }) {
  const policy = view.budgetPolicy;
  if (!policy || policy.rules.length === 0) return null;
  const rules = policy.rules.map((rule, index) => ({ rule, index })).sort((a, b) => a.rule.atPct - b.rule.atPct);
  return (
    <section aria-label="Budget policy">
      <h3>Budget policy</h3>
      <p>As the reserved spend (spent, plus what outstanding and next calls are expected to cost) reaches a share of the budget:</p>
      <ul>
        {rules.map(({ rule, index }) => {
          const decision = policy.decisions.find((d) => d.ruleIndex === index);
          return (
            <li key={index} data-fired={decision ? 'true' : 'false'}>
              at {rule.atPct}%: {describeBudgetRule(rule)}
              {decision ? (
                <>
                  {' '}
                  — <strong>applied</strong> {formatDateTime(decision.at)}: {budgetDecisionText(decision)}
                </>
              ) : (
                ' — not reached'
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
