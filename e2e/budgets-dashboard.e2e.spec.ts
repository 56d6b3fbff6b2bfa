import type { Browser, Page } from 'playwright-core';
import type { TemplateInput } from '@conclave/contracts';
import type { Stack, TestEnv } from '@conclave/testing';
import { seriousViolations } from './support/axe';
import { addPricedProvider, PRICED, pricedPhase } from './support/budgets';
import { closeDashboard, openDashboard, screenshot } from './support/dashboard';
import { restClient } from './support/rest';

/**
 * Budgets that steer on the run page (ADR 024), in Chromium on the whole stack: a budget policy's
 * decision reads in the timeline with its figures, the Budget dialog lists the rules and what fired,
 * and a policy's pause says to resume. `priced-sim` is a simulated-kind provider whose models are
 * priced for reservations (support/budgets). Needs `web/dist` (node scripts/build.mjs).
 */
const steered = (atPct: number, rule: { action: 'switch' | 'pause'; model?: { provider: string; model: string } }): TemplateInput => ({
  name: `steered-${rule.action}`,
  defaults: { budgetUsd: 0.04, budgetPolicy: [{ atPct, ...rule }] },
  phases: [
    { id: 'a', kind: 'llm', prompt: { user: 'outline' }, candidates: [{ provider: 'simulated', model: 'm1', options: { latencyMs: 30 } }] },
    pricedPhase('b', ['a'], 'draft'),
    pricedPhase('c', ['b'], 'polish'),
  ],
});

describe('budgets that steer on the run page', () => {
  let env: TestEnv;
  let stack: Stack;
  let browser: Browser;
  let page: Page;
  const { post, createTemplate, startRun, until } = restClient(() => stack.url);

  beforeAll(async () => {
    // axe is injected as an inline script, which the gateway's CSP (script-src 'self') refuses
    ({ env, stack, browser, page } = await openDashboard({ envPrefix: 'budgetsui', label: 'e2e-budgets-ui', context: { bypassCSP: true } }));
    await addPricedProvider(post);
  });
  afterAll(() => closeDashboard({ browser, stack, env }));

  it('reads a switch in the timeline with its figures, and lists the rule as applied in the Budget dialog', async () => {
    const id = await startRun(await createTemplate(steered(50, { action: 'switch', model: { provider: PRICED, model: 'gpt-4.1-nano' } })));
    const done = await until(id, 'the switched run to complete', (r) => r.status === 'completed');
    await page.goto(`${stack.url}/runs/${id}?min_sequence=${done.sequence}`);
    const row = page.locator('.timeline tr[data-event="BudgetPolicyApplied"]');
    await row.waitFor();
    expect(await row.textContent()).toContain('budget policy at 50%: later phases (b, c) switch to priced-sim/gpt-4.1-nano (reserved $0.0240 of $0.04 when phase b dispatched)');
    await row.scrollIntoViewIfNeeded();
    await screenshot(page, 'budgets-timeline');

    await page.getByRole('button', { name: 'Budget: $0.040 · steered' }).click();
    const policy = page.getByRole('region', { name: 'Budget policy' });
    await policy.waitFor();
    expect(await policy.getByRole('listitem').allTextContents()).toEqual([
      expect.stringMatching(/^at 50%: switch later phases to priced-sim\/gpt-4\.1-nano — applied .+: budget policy at 50%: later phases \(b, c\) switch to priced-sim\/gpt-4\.1-nano/),
    ]);
    await screenshot(page, 'budgets-dialog');
    expect((await seriousViolations(page)).map((v) => v.id)).toEqual([]);
  });

  it("shows a policy's pause with its figures and asks only to resume", async () => {
    const id = await startRun(await createTemplate(steered(50, { action: 'pause' })));
    const paused = await until(id, 'the policy pause', (r) => r.status === 'paused');
    await page.goto(`${stack.url}/runs/${id}?min_sequence=${paused.sequence}`);
    const banner = page.locator('.notice--warn', { hasText: 'Paused (budget).' });
    await banner.waitFor();
    expect(await banner.textContent()).toBe('Paused (budget). the reserved spend would reach 60.0% of the $0.04 budget (rule at 50%) when phase "b" dispatches; resume to go on.');
    await screenshot(page, 'budgets-paused');
  });
});
