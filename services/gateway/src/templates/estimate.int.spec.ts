import { randomUUID } from 'node:crypto';
import { ErrorEnvelope, EstimateResponse } from '@conclave/contracts';
import { createTestEnv, type TestEnv } from '@conclave/testing';
import { appendMeta as meta, fold, http, startGateway, type HttpResult, type RunningGateway } from '../__tests__/harness';

/*
 * Figures by hand (one call = 2,000 input + 1,000 output tokens):
 *   gpt-4.1 at the provider's own price $1 / $4   → 0.002 + 0.004   = $0.006
 *   claude-sonnet-4-5 (default list $3 / $15)      → 0.006 + 0.015   = $0.021
 *   gpt-4.1-mini judge (default list $0.4 / $1.6)  → 0.0008 + 0.0016 = $0.0024
 *   claude-haiku-4-5 evaluator (default $1 / $5)   → 0.002 + 0.005   = $0.007
 * plan  = 0.006 + 0.021 + 0.0024 = $0.0294 (3 calls) whatever the case
 * refine, a round = 0.006 + 0.007 = $0.013 (2 calls); maxAttempts 3 → 1 / 2 / 3 rounds
 * min 0.0294 + 0.013 = 0.0424; expected 0.0294 + 0.026 = 0.0554; max 0.0294 + 0.039 = 0.0684
 */
const planned = {
  name: 'planned',
  inputs: { type: 'object', properties: { idea: { type: 'string' }, weeks: { type: 'integer', minimum: 1 } }, required: ['idea'] },
  phases: [
    {
      id: 'plan', name: 'Plan', kind: 'llm',
      prompt: { system: 'You plan.', user: 'Idea: {{inputs.idea}} in {{inputs.weeks}} weeks' },
      candidates: [{ provider: 'openai', model: 'gpt-4.1' }, { provider: 'anthropic', model: 'claude-sonnet-4-5' }],
      judge: { provider: 'openai', model: 'gpt-4.1-mini' },
    },
    { id: 'review', kind: 'gate', dependsOn: ['plan'], message: 'ok?' },
    {
      id: 'refine', kind: 'loop', dependsOn: ['review'], prompt: { user: 'Refine {{phases.plan.output.text}}' },
      candidates: [{ provider: 'openai', model: 'gpt-4.1' }],
      loop: { maxAttempts: 3, passThreshold: 0.8, evaluator: { provider: 'anthropic', model: 'claude-haiku-4-5' } },
    },
  ],
};
const unpriced = {
  name: 'unpriced',
  phases: [{ id: 'draft', kind: 'llm', prompt: { user: 'x' }, candidates: [{ provider: 'openai', model: 'gpt-9' }, { provider: 'simulated', model: 'sim' }] }],
};

describe('POST /templates/:id/estimate', () => {
  let env: TestEnv;
  let gw: RunningGateway;
  let api: string;
  const plannedId = `tpl-${randomUUID()}`;
  const unpricedId = `tpl-${randomUUID()}`;

  const estimate = (id: string, body: unknown) => http(`${api}/templates/${id}/estimate`, { method: 'POST', json: body });
  const errorOf = (res: HttpResult) => ({ status: res.status, code: ErrorEnvelope.safeParse(res.body).data?.error.code });

  beforeAll(async () => {
    env = await createTestEnv('gwestimate');
    gw = await startGateway(env);
    api = `${gw.url}/api/v1`;
    await env.log.append('template', plannedId, [{ type: 'TemplateCreated', data: { templateId: plannedId, version: 1, template: planned as never } }], 0, meta());
    await env.log.append('template', unpricedId, [{ type: 'TemplateCreated', data: { templateId: unpricedId, version: 1, template: unpriced as never } }], 0, meta());
    const configured = await http(`${api}/providers`, { method: 'POST', json: { name: 'openai', kind: 'openai', prices: { 'gpt-4.1': { inputPer1M: 1, outputPer1M: 4 } } } });
    expect(configured.status).toBe(201);
    await fold(env, await env.log.readAll(0, 10_000));
  });
  afterAll(async () => {
    await gw?.close();
    await env?.dispose();
  });

  it("answers min / expected / max from the provider's prices, the default list, the judge and the loop's bounds, per phase", async () => {
    const res = await estimate(plannedId, { inputs: { idea: 'a bike map', weeks: 2 } });
    expect(res.status).toBe(200);
    const body = EstimateResponse.parse(res.body);

    expect(body).toMatchObject({ templateId: plannedId, version: 1, currency: 'USD', defaultBudgetUsd: null });
    expect(body.min).toEqual({ usd: 0.0424, tokens: { input: 10_000, output: 5_000 }, calls: 5 });
    expect(body.expected).toEqual({ usd: 0.0554, tokens: { input: 14_000, output: 7_000 }, calls: 7 });
    expect(body.max).toEqual({ usd: 0.0684, tokens: { input: 18_000, output: 9_000 }, calls: 9 });
    expect(body.phases.map((p) => [p.phaseId, p.min.usd, p.expected.usd, p.max.usd, p.rounds])).toEqual([
      ['plan', 0.0294, 0.0294, 0.0294, null],
      ['review', 0, 0, 0, null],
      ['refine', 0.013, 0.026, 0.039, { min: 1, expected: 2, max: 3 }],
    ]);
    expect(body.phases[0]!.calls.map((c) => [c.role, c.provider, c.model, c.price, c.usd])).toEqual([
      ['candidate', 'openai', 'gpt-4.1', { inputPer1M: 1, outputPer1M: 4 }, 0.006],
      ['candidate', 'anthropic', 'claude-sonnet-4-5', { inputPer1M: 3, outputPer1M: 15 }, 0.021],
      ['judge', 'openai', 'gpt-4.1-mini', { inputPer1M: 0.4, outputPer1M: 1.6 }, 0.0024],
    ]);
    expect(body.assumptions.join(' ')).toMatch(/maxAttempts rounds/);
    expect(body.preview).toEqual([{ phaseId: 'plan', name: 'Plan', system: 'You plan.', user: 'Idea: a bike map in 2 weeks' }]);
  });

  it('estimates without inputs (the preview leaves the bindings empty) and for a named version', async () => {
    const res = await estimate(plannedId, { version: 1 });
    expect(res.status).toBe(200);
    expect(EstimateResponse.parse(res.body).preview[0]!.user).toBe('Idea:  in  weeks');
  });

  it('404 for an unknown template or version; 400 for a body with unknown fields; nothing is appended', async () => {
    const before = await env.log.lastSequence();
    expect(errorOf(await estimate(`tpl-${randomUUID()}`, {}))).toEqual({ status: 404, code: 'not_found' });
    expect(errorOf(await estimate(plannedId, { version: 7 }))).toEqual({ status: 404, code: 'not_found' });
    expect(errorOf(await estimate(plannedId, { inputs: {}, budget: 3 }))).toEqual({ status: 400, code: 'bad_request' });
    expect(await env.log.lastSequence()).toBe(before);
  });

  it('422 for inputs the schema refuses, naming each problem', async () => {
    const res = await estimate(plannedId, { inputs: { weeks: 0 } });
    expect(errorOf(res)).toEqual({ status: 422, code: 'validation' });
    const { details } = ErrorEnvelope.parse(res.body).error as { details: { errors: string[] } };
    expect(details.errors).toEqual(expect.arrayContaining(["(root): must have required property 'idea'", '/weeks: must be >= 1']));
  });

  it('422 for a model with no price, naming the phase, role, provider and model', async () => {
    const res = await estimate(unpricedId, {});
    expect(errorOf(res)).toEqual({ status: 422, code: 'validation' });
    const error = ErrorEnvelope.parse(res.body).error;
    expect(error.message).toContain('openai/gpt-9 (candidate of phase "draft")');
    // with no judge named, the first candidate's model judges: unpriced twice
    expect(error.details).toEqual({
      problem: 'missing_price',
      missing: [
        { phaseId: 'draft', role: 'candidate', provider: 'openai', model: 'gpt-9' },
        { phaseId: 'draft', role: 'judge', provider: 'openai', model: 'gpt-9' },
      ],
    });
  });
});
