/** @jest-environment jsdom */
// the polyfills (TextEncoder for react-router, which RunControls loads) first
import '../test/jsdom-polyfills';
import type { RunView, SocketEvent } from '@conclave/contracts';
import { cleanup, render, screen } from '@testing-library/react';
import { BudgetPolicySummary } from './BudgetPolicy';
import { PausedBanner } from './RunControls';
import { applyRunEvent, emptyRunView } from './run-reducer';

afterEach(cleanup);

const policy: NonNullable<RunView['budgetPolicy']> = {
  rules: [
    { atPct: 80, action: 'shrink' },
    { atPct: 50, action: 'switch', model: { provider: 'openai', model: 'gpt-4.1-nano' } },
  ],
  decisions: [],
};
const applied = (sequence: number): SocketEvent => ({
  sequence,
  type: 'BudgetPolicyApplied',
  runId: 'r1',
  occurredAt: '2026-12-05T10:00:00.000Z',
  data: { ruleIndex: 1, thresholdPct: 50, action: 'switch', model: { provider: 'openai', model: 'gpt-4.1-nano' }, budgetUsd: 0.04, spentUsd: 0, reservedUsd: 0, estimateUsd: 0.024, phaseId: 'b', phaseIds: ['b', 'c'] },
});

describe('BudgetPolicySummary', () => {
  it('lists the rules by threshold, and a fired rule with when and the figures (folded live from its event)', () => {
    const view = applyRunEvent({ ...emptyRunView('r1'), budgetPolicy: policy }, applied(5));
    expect(view.budgetPolicy!.decisions).toEqual([expect.objectContaining({ sequence: 5, ruleIndex: 1, action: 'switch', phaseIds: ['b', 'c'] })]);
    // a redelivered event adds nothing
    expect(applyRunEvent({ ...view, sequence: 4 }, applied(6)).budgetPolicy!.decisions).toHaveLength(1);
    render(<BudgetPolicySummary view={view} />);
    const items = screen.getAllByRole('listitem');
    expect(items.map((li) => li.getAttribute('data-fired'))).toEqual(['true', 'false']);
    expect(items[0]!.textContent).toContain('at 50%: switch later phases to openai/gpt-4.1-nano — applied');
    expect(items[0]!.textContent).toContain('later phases (b, c) switch to openai/gpt-4.1-nano (reserved $0.0240 of $0.04 when phase b dispatched)');
    expect(items[1]!.textContent).toBe('at 80%: run later phases with one candidate and no judge — not reached');
  });

  it('shows nothing for a run without a policy', () => {
    const { container } = render(<BudgetPolicySummary view={emptyRunView('r1')} />);
    expect(container.innerHTML).toBe('');
  });
});

describe('PausedBanner on a budget pause', () => {
  it("gives the pause's own instruction: resume after a policy's pause, raise and resume over the budget", () => {
    const paused = (message: string): RunView => ({ ...emptyRunView('r1'), status: 'paused', pauseReason: { code: 'budget', message } });
    render(<PausedBanner view={paused('the reserved spend would reach 60.0% of the $0.04 budget (rule at 50%) when phase "b" dispatches; resume to go on')} />);
    expect(screen.getByRole('status').textContent).toBe('Paused (budget). the reserved spend would reach 60.0% of the $0.04 budget (rule at 50%) when phase "b" dispatches; resume to go on.');
    cleanup();
    render(<PausedBanner view={paused('phase "b" would need ~$0.0240 with $0.0000 spent of $0.01; raise the budget and resume')} />);
    expect(screen.getByRole('status').textContent).toBe('Paused (budget). phase "b" would need ~$0.0240 with $0.0000 spent of $0.01; raise the budget and resume.');
  });
});
