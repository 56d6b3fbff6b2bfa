import type { BudgetAction, BudgetRule } from '@conclave/contracts';
import { useId } from 'react';
import { describeBudgetRule } from '../../run/BudgetPolicy';

/** The start form's one-rule budget policy for this run (ADR 024); the REST body takes up to ten. */
export interface BudgetRuleDraft {
  action: BudgetAction | 'template';
  atPct: string;
  /** `provider/model`, for a switch */
  model: string;
}
export const TEMPLATE_POLICY: BudgetRuleDraft = { action: 'template', atPct: '80', model: '' };

/** The draft as the run's budgetPolicy, undefined for the template's own, or why it cannot be sent. */
export function budgetPolicyOf(draft: BudgetRuleDraft): { ok: true; policy?: BudgetRule[] } | { ok: false; message: string } {
  if (draft.action === 'template') return { ok: true };
  const atPct = Number(draft.atPct);
  if (!draft.atPct.trim() || !Number.isFinite(atPct) || atPct <= 0 || atPct > 100) return { ok: false, message: 'The budget policy threshold is a percentage above 0 and at most 100.' };
  if (draft.action !== 'switch') return { ok: true, policy: [{ atPct, action: draft.action }] };
  const slash = draft.model.indexOf('/');
  if (slash <= 0 || slash === draft.model.length - 1) return { ok: false, message: 'A switch names the cheaper model as provider/model, e.g. openai/gpt-4.1-nano.' };
  return { ok: true, policy: [{ atPct, action: 'switch', model: { provider: draft.model.slice(0, slash).trim(), model: draft.model.slice(slash + 1).trim() } }] };
}

export function BudgetPolicyField({ value, onChange, templatePolicy }: { value: BudgetRuleDraft; onChange: (next: BudgetRuleDraft) => void; templatePolicy: BudgetRule[] | undefined }) {
  const id = useId();
  const templateText = templatePolicy?.length ? templatePolicy.map((r) => `at ${r.atPct}%: ${describeBudgetRule(r)}`).join('; ') : 'none (over budget, the run pauses)';
  return (
    <fieldset className="form__row">
      <legend className="small">Budget policy</legend>
      <label className="field" htmlFor={`${id}-action`}>
        <span>As the reserved spend nears the budget</span>
        <select id={`${id}-action`} value={value.action} onChange={(e) => onChange({ ...value, action: e.target.value as BudgetRuleDraft['action'] })}>
          <option value="template">the template&apos;s policy</option>
          <option value="pause">pause the run</option>
          <option value="shrink">one candidate, no judge</option>
          <option value="switch">switch to a cheaper model</option>
          <option value="stop">stop the run</option>
        </select>
      </label>
      {value.action === 'template' ? (
        <span className="muted small">{templateText}</span>
      ) : (
        <>
          <label className="field" htmlFor={`${id}-pct`}>
            <span>at % of the budget</span>
            <input id={`${id}-pct`} type="number" min="1" max="100" step="1" value={value.atPct} onChange={(e) => onChange({ ...value, atPct: e.target.value })} />
          </label>
          {value.action === 'switch' && (
            <label className="field" htmlFor={`${id}-model`}>
              <span>cheaper model (provider/model)</span>
              <input id={`${id}-model`} type="text" value={value.model} placeholder="openai/gpt-4.1-nano" onChange={(e) => onChange({ ...value, model: e.target.value })} />
            </label>
          )}
        </>
      )}
    </fieldset>
  );
}
