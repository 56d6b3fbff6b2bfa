/** @jest-environment jsdom */
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { useState } from 'react';
import { BudgetPolicyField, budgetPolicyOf, TEMPLATE_POLICY, type BudgetRuleDraft } from './BudgetPolicyField';

afterEach(cleanup);

describe('the start form budget policy', () => {
  it("sends nothing for the template's policy, one rule otherwise, and says why a draft cannot be sent", () => {
    expect(budgetPolicyOf(TEMPLATE_POLICY)).toEqual({ ok: true });
    expect(budgetPolicyOf({ action: 'shrink', atPct: '70', model: '' })).toEqual({ ok: true, policy: [{ atPct: 70, action: 'shrink' }] });
    expect(budgetPolicyOf({ action: 'switch', atPct: '50', model: 'openai/gpt-4.1-nano' })).toEqual({
      ok: true,
      policy: [{ atPct: 50, action: 'switch', model: { provider: 'openai', model: 'gpt-4.1-nano' } }],
    });
    expect(budgetPolicyOf({ action: 'switch', atPct: '50', model: 'gpt-4.1-nano' })).toMatchObject({ ok: false, message: expect.stringContaining('provider/model') });
    expect(budgetPolicyOf({ action: 'stop', atPct: '120', model: '' })).toMatchObject({ ok: false, message: expect.stringContaining('at most 100') });
  });

  it("shows the template's rules by default, and the threshold and model fields for a switch", () => {
    let last: BudgetRuleDraft = TEMPLATE_POLICY;
    function Harness() {
      const [value, setValue] = useState(TEMPLATE_POLICY);
      last = value;
      return <BudgetPolicyField value={value} onChange={setValue} templatePolicy={[{ atPct: 90, action: 'pause' }]} />;
    }
    render(<Harness />);
    expect(screen.getByText('at 90%: pause the run')).toBeTruthy();
    fireEvent.change(screen.getByLabelText('As the reserved spend nears the budget'), { target: { value: 'switch' } });
    fireEvent.change(screen.getByLabelText('at % of the budget'), { target: { value: '60' } });
    fireEvent.change(screen.getByLabelText('cheaper model (provider/model)'), { target: { value: 'openai/gpt-4.1-nano' } });
    expect(budgetPolicyOf(last)).toEqual({ ok: true, policy: [{ atPct: 60, action: 'switch', model: { provider: 'openai', model: 'gpt-4.1-nano' } }] });
  });
});
