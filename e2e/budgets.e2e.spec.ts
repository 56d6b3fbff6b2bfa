import { estimateCallUsd, type BudgetRule, type Recorded, type TemplateInput, type TimelineEntry } from '@conclave/contracts';
import { createTestEnv, startStack, type Stack, type TestEnv } from '@conclave/testing';
import { evolve, initialRunState, reconcileStep, type RunFact, type RunState } from '../services/orchestrator/src/domain';
import { addPricedProvider, PRICED, pricedPhase } from './support/budgets';
import { phaseOf, restClient } from './support/rest';
import { sim } from './support/templates';

/**
 * Budgets that steer (issue 15 §3, ADR 024) end to end: a template runs into each policy on the
 * simulated provider with a tiny budget, and the test reads what was dispatched. Phase a is free
 * (simulated), phase b is priced (support/budgets: $0.024 reserved, past every rule at 50 %).
 */
const NANO = { provider: PRICED, model: 'gpt-4.1-nano' };
const steered = (budgetPolicy?: BudgetRule[]): TemplateInput => ({
  name: 'steered',
  defaults: { budgetUsd: 0.04, ...(budgetPolicy ? { budgetPolicy } : {}) },
  phases: [
    { id: 'a', kind: 'llm', prompt: { user: 'outline' }, candidates: [sim('m1', 30), sim('m2', 30)], judge: { provider: 'simulated', model: 'j' } },
    pricedPhase('b', ['a'], 'draft {{phases.a.output.text}}'),
    pricedPhase('c', ['b'], 'polish {{phases.b.output.text}}'),
  ],
});

describe('budgets that steer, end to end', () => {
  let env: TestEnv;
  let stack: Stack;
  const { api, post, createTemplate, startRun, until, replayVerify } = restClient(() => stack.url);
  const runIds: string[] = [];

  beforeAll(async () => {
    env = await createTestEnv('budgets');
    stack = await startStack(env, { label: `e2e-budgets-${env.id}` });
    await addPricedProvider(post);
  });
  afterAll(async () => {
    await stack?.stop();
    await env?.dispose();
  });

  const timeline = async (id: string) => (await (await api(`/runs/${id}/timeline?limit=1000`)).json<{ items: TimelineEntry[] }>()).items;
  /** what went out per phase: candidate models in slot order, and the judge's model (null: no judge) */
  const dispatched = (items: TimelineEntry[], phaseId: string) => ({
    candidates: items.filter((e) => e.type === 'CandidateRequested' && e.phaseId === phaseId).map((e) => (e.data as { model: string }).model),
    judge: (items.find((e) => e.type === 'JudgeRequested' && e.phaseId === phaseId)?.data as { model: string } | undefined)?.model ?? null,
  });
  const decisions = (items: TimelineEntry[]) => items.filter((e) => e.type === 'BudgetPolicyApplied').map((e) => e.data as Record<string, unknown>);
  const figures = { budgetUsd: 0.04, spentUsd: 0, reservedUsd: 0, estimateUsd: 0.024, thresholdPct: 50, phaseId: 'b' };

  it('shrink: later phases run one candidate and no judge; the first runs as written', async () => {
    const id = await startRun(await createTemplate(steered([{ atPct: 50, action: 'shrink' }])));
    runIds.push(id);
    const done = await until(id, 'the shrunk run to complete', (r) => r.status === 'completed');
    expect(done.budgetPolicy).toEqual({ rules: [{ atPct: 50, action: 'shrink' }], decisions: [expect.objectContaining({ ruleIndex: 0, action: 'shrink', phaseIds: ['b', 'c'] })] });
    const items = await timeline(id);
    expect(dispatched(items, 'a')).toEqual({ candidates: ['m1', 'm2'], judge: 'j' });
    expect(dispatched(items, 'b')).toEqual({ candidates: ['gpt-4.1'], judge: null });
    expect(dispatched(items, 'c')).toEqual({ candidates: ['gpt-4.1'], judge: null });
    expect(decisions(items)).toEqual([{ ruleIndex: 0, action: 'shrink', phaseIds: ['b', 'c'], ...figures }]);
  });

  it('switch: later phases (candidates and judge) use the named cheaper model', async () => {
    const id = await startRun(await createTemplate(steered([{ atPct: 50, action: 'switch', model: NANO }])));
    runIds.push(id);
    await until(id, 'the switched run to complete', (r) => r.status === 'completed');
    const items = await timeline(id);
    expect(dispatched(items, 'a')).toEqual({ candidates: ['m1', 'm2'], judge: 'j' });
    expect(dispatched(items, 'b')).toEqual({ candidates: ['gpt-4.1-nano', 'gpt-4.1-nano'], judge: 'gpt-4.1-nano' });
    expect(dispatched(items, 'c')).toEqual({ candidates: ['gpt-4.1-nano', 'gpt-4.1-nano'], judge: 'gpt-4.1-nano' });
    expect(decisions(items)).toEqual([{ ruleIndex: 0, action: 'switch', model: NANO, phaseIds: ['b', 'c'], ...figures }]);
  });

  it('pause: the run pauses with the figures before b dispatches; resumed, it goes on as written', async () => {
    const id = await startRun(await createTemplate(steered([{ atPct: 50, action: 'pause' }])));
    runIds.push(id);
    const paused = await until(id, 'the budget pause', (r) => r.status === 'paused');
    expect(paused.pauseReason).toMatchObject({ code: 'budget', message: expect.stringContaining('60.0% of the $0.04 budget (rule at 50%)') });
    expect(phaseOf(paused, 'b').status).toBe('pending');
    expect(dispatched(await timeline(id), 'b')).toEqual({ candidates: [], judge: null });
    expect((await post(`/runs/${id}/resume`)).status).toBe(202);
    await until(id, 'the resumed run to complete', (r) => r.status === 'completed');
    const items = await timeline(id);
    expect(dispatched(items, 'b')).toEqual({ candidates: ['gpt-4.1', 'gpt-4.1'], judge: 'gpt-4.1' });
    expect(decisions(items)).toEqual([{ ruleIndex: 0, action: 'pause', phaseIds: [], ...figures }]);
    const alerts = await (await api('/alerts')).json<{ items: { kind: string; message: string }[] }>();
    expect(alerts.items.some((a) => a.kind === 'budget' && a.message === `run ${id}: budget policy at 50%: the run paused (reserved $0.0240 of $0.04 when phase b dispatched)`)).toBe(true);
  });

  it("stop, as the run's own policy over the template's: the run fails with the reason and b is never dispatched", async () => {
    const templateId = await createTemplate(steered([{ atPct: 50, action: 'shrink' }]));
    const id = await startRun(templateId, { budgetPolicy: [{ atPct: 50, action: 'stop' }] });
    runIds.push(id);
    const failed = await until(id, 'the stopped run to fail', (r) => r.status === 'failed');
    expect(failed.error).toMatchObject({ code: 'budget_stop', message: expect.stringContaining('stopped by the budget policy') });
    expect(phaseOf(failed, 'a').status).toBe('completed');
    expect(phaseOf(failed, 'b').status).toBe('pending');
    expect(failed.budgetPolicy).toEqual({ rules: [{ atPct: 50, action: 'stop' }], decisions: [expect.objectContaining({ action: 'stop', reservedUsd: 0, estimateUsd: 0.024 })] });
    const items = await timeline(id);
    expect(dispatched(items, 'b')).toEqual({ candidates: [], judge: null });
    expect(decisions(items)).toEqual([{ ruleIndex: 0, action: 'stop', phaseIds: [], ...figures }]);
    // a rerun keeps the run's own policy (not the template's shrink)
    const rerun = await post(`/runs/${id}/rerun`);
    expect(rerun.status).toBe(201);
    const again = await until((await rerun.json<{ id: string }>()).id, 'the rerun to stop too', (r) => r.status === 'failed');
    expect(again.error).toMatchObject({ code: 'budget_stop' });
  });

  it('refuses a switch to a model with no price: 422 naming the field, on the template and on the run body', async () => {
    const bad = await post('/templates', steered([{ atPct: 50, action: 'switch', model: { provider: PRICED, model: 'gpt-unpriced' } }]));
    expect(bad.status).toBe(422);
    expect((await bad.json<{ error: { details: { errors: { code: string; field: string }[] } } }>()).error.details.errors).toEqual([
      expect.objectContaining({ code: 'unpriced_model', field: 'defaults.budgetPolicy[0].model' }),
    ]);
    const templateId = await createTemplate(steered());
    const before = (await (await api('/runs')).json<{ items: unknown[] }>()).items.length;
    const refused = await post('/runs', { templateId, inputs: {}, budgetPolicy: [{ atPct: 50, action: 'switch', model: { provider: PRICED, model: 'gpt-unpriced' } }] });
    expect(refused.status).toBe(422);
    expect(await refused.json()).toMatchObject({ error: { code: 'validation', details: { field: 'budgetPolicy[0].model' } } });
    expect((await (await api('/runs')).json<{ items: unknown[] }>()).items).toHaveLength(before);
  });

  it('replay: each recorded decision comes out of the decider again from the events before it, and the rebuilt read models equal the live ones', async () => {
    expect(runIds).toHaveLength(4);
    for (const id of runIds) {
      const events = (await env.log.read('run', id)) as Recorded[];
      const at = events.findIndex((e) => e.type === 'BudgetPolicyApplied');
      expect(at).toBeGreaterThan(0);
      const before = events.slice(0, at).reduce<RunState>((s, e) => evolve(s, e as unknown as RunFact), initialRunState());
      const again = reconcileStep(before, { now: events[at]!.occurredAt, validate: () => [], estimateUsd: (p, m, maxTokens) => estimateCallUsd(p, m, maxTokens) });
      expect(again[0]?.type).toBe('BudgetPolicyApplied');
      expect(again.map((e) => ({ id: e.id, type: e.type, data: e.data }))).toEqual(events.slice(at, at + again.length).map((e) => ({ id: e.id, type: e.type, data: e.data })));
    }
    const done = await replayVerify();
    expect({ state: done.state, differenceCount: done.differenceCount, differences: done.differences }).toEqual({ state: 'completed', differenceCount: 0, differences: [] });
  });
});
