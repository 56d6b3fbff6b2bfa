import { createHash } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import type { FrontierView, TemplateInput } from '@conclave/contracts';
import { FakeLlmServer, openai, type FakeReply, type RecordedRequest, type Stack, type TestEnv } from '@conclave/testing';
import { seriousViolations } from './support/axe';
import { closeDashboard, openDashboard, screenshot } from './support/dashboard';
import { restClient } from './support/rest';

/**
 * The quality–cost frontier page after real runs on the whole stack: one phase asks four priced
 * OpenAI models (a local fake server speaking OpenAI's wire format, the same usage for every call,
 * so a candidate costs what its model's price says) and the simulated judge picks a winner. Each
 * model answers its own summary, chosen so that the simulated judge (its documented scoring: the
 * sha256 of the criterion and the output's canonical JSON, as a number in [0, 1]) ranks them as a
 * team tuning a pipeline would meet them: the dearest model good but beaten, the flagship the best,
 * a mini model a little below it at a fifth of the price, a nano model cheap and weak. The page's
 * chart, recommendation, table and back-test link are checked against its GET /analytics/frontier
 * answer (whose figures the int spec proves against SQL). Needs a build (node scripts/build.mjs).
 */

/** The simulated judge's score of a `{ summary }` output for one criterion, to 3 decimals. */
function simulatedScore(criterion: string, summary: string): number {
  const digest = createHash('sha256').update(`${criterion}\u0000${JSON.stringify({ summary })}`).digest();
  return Math.round((digest.readUInt32BE(0) / 0xffffffff) * 1000) / 1000;
}
/** The first summary `<model> answer <n>` the judge scores within [lo, hi]. */
function summaryScoring(model: string, lo: number, hi: number): { summary: string; score: number } {
  for (let n = 0; ; n++) {
    const summary = `${model} answer ${n}`;
    const score = simulatedScore('quality', summary);
    if (score >= lo && score <= hi) return { summary, score };
  }
}

// list prices (libs/contracts prices.ts), USD per 1M tokens in / out; every call uses 1500 in, 250 out
const MODELS = {
  'gpt-4o': { price: [2.5, 10], ...summaryScoring('gpt-4o', 0.6, 0.7) },
  'gpt-4.1': { price: [2, 8], ...summaryScoring('gpt-4.1', 0.95, 0.97) },
  'gpt-4.1-mini': { price: [0.4, 1.6], ...summaryScoring('gpt-4.1-mini', 0.92, 0.94) },
  'gpt-4.1-nano': { price: [0.1, 0.4], ...summaryScoring('gpt-4.1-nano', 0.3, 0.5) },
} as const;
type ModelName = keyof typeof MODELS;
const costOf = (m: ModelName) => (1500 * MODELS[m].price[0] + 250 * MODELS[m].price[1]) / 1e6;

const responder = (r: RecordedRequest): FakeReply => {
  const body = r.body as { model: ModelName; stream?: boolean };
  const answer = JSON.stringify({ summary: MODELS[body.model].summary });
  return body.stream ? openai.stream([answer.slice(0, 7), answer.slice(7)], { prompt: 1500, completion: 250 }) : openai.completion(answer, { prompt: 1500, completion: 250 });
};

describe('the quality–cost frontier page end to end', () => {
  let env: TestEnv;
  let stack: Stack;
  let fake: FakeLlmServer;
  let browser: Browser;
  let page: Page;
  let templateId = '';
  const { api, post, createTemplate, startRun, until } = restClient(() => stack.url);
  const shot = (name: string) => screenshot(page, `frontier-${name}`);
  /** the page's own GET /analytics/frontier answer after `action` */
  const frontierAfter = async (action: () => Promise<unknown>): Promise<{ query: URLSearchParams; body: FrontierView }> => {
    const response = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/analytics/frontier' && r.status() === 200, { timeout: 15_000 });
    await action();
    const res = await response;
    return { query: new URL(res.url()).searchParams, body: (await res.json()) as FrontierView };
  };
  const points = () =>
    page.getByTestId('frontier-point').evaluateAll((els) => els.map((el) => ({ model: el.getAttribute('data-model'), kind: el.getAttribute('data-kind'), cost: Number(el.getAttribute('data-cost')), score: Number(el.getAttribute('data-score')) })));

  beforeAll(async () => {
    fake = (await FakeLlmServer.start()).respond(responder);
    // axe-core is an inline script: the dashboard's CSP is bypassed for this test's pages
    ({ env, stack, browser, page } = await openDashboard({ envPrefix: 'e2e', label: 'e2e-frontier', context: { bypassCSP: true, viewport: { width: 1400, height: 1100 } } }));
    expect((await post('/providers', { name: 'openai', kind: 'openai', apiKey: 'sk-frontier-e2e', baseUrl: fake.url })).status).toBe(201);
    const template: TemplateInput = {
      name: `frontier ${env.id}`,
      inputs: { type: 'object', properties: { topic: { type: 'string' } }, required: ['topic'] },
      phases: [
        {
          id: 'draft',
          name: 'Draft',
          kind: 'llm',
          prompt: { user: 'Summarise {{inputs.topic}}' },
          candidates: (Object.keys(MODELS) as ModelName[]).map((model) => ({ provider: 'openai', model })),
          judge: { provider: 'simulated', model: 'sim-judge', criteria: ['quality'] },
          output: { schema: { type: 'object', properties: { summary: { type: 'string' } }, required: ['summary'] } },
        },
      ],
    };
    templateId = await createTemplate(template);
    const ids: string[] = [];
    for (const topic of ['kites', 'boats', 'trains']) ids.push(await startRun(templateId, { name: topic, inputs: { topic } }));
    for (const id of ids) {
      const run = await until(id, `run ${id} to finish`, (r) => r.status === 'completed' || r.status === 'failed', 90_000);
      expect(run.status).toBe('completed');
    }
  });
  afterAll(async () => {
    await closeDashboard({ browser, stack, env });
    await fake?.close();
  });

  it('plots one point per model at its mean cost and score, draws the frontier, recommends the mini model and shows the figures', async () => {
    const { query, body } = await frontierAfter(() => page.goto(`${stack.url}/analytics/frontier?templateId=${templateId}`));
    expect([query.get('templateId'), query.get('epsilon')]).toEqual([templateId, '0.05']);
    expect(await (await api(`/analytics/frontier?${query.toString()}`)).json<FrontierView>()).toEqual(body);

    // the API's figures agree with the runs: three candidates per model, each at its model's price, scored as chosen
    const draft = body.phases.find((p) => p.phaseId === 'draft')!;
    expect(draft.judgedRounds).toBe(3);
    for (const m of draft.models) {
      const name = m.model as ModelName;
      expect([m.model, m.candidates, m.judged, m.failureRate, m.meanScore]).toEqual([name, 3, 3, 0, MODELS[name].score]);
      expect(m.meanCostUsd).toBeCloseTo(costOf(name), 12);
    }
    expect(draft.models.find((m) => m.model === 'gpt-4.1')!.winRate).toBe(1);
    expect(draft.frontier.map((m) => m.model)).toEqual(['gpt-4.1-nano', 'gpt-4.1-mini', 'gpt-4.1']);
    // gpt-4o is dearer and worse than both gpt-4.1 and the mini model; the cheaper of the two is named
    expect(draft.models.find((m) => m.model === 'gpt-4o')!.dominatedBy).toEqual({ provider: 'openai', model: 'gpt-4.1-mini' });
    expect(draft.recommendation).toEqual(expect.objectContaining({ model: 'gpt-4.1-mini', best: expect.objectContaining({ model: 'gpt-4.1' }) }));

    // the chart: one point per model where the API places it, each marked as the API classes it
    await page.getByTestId('frontier-chart').locator('svg').first().waitFor();
    const kindOf = (m: (typeof draft.models)[number]) => (m.model === draft.recommendation!.model ? 'recommended' : m.onFrontier ? 'frontier' : 'dominated');
    await expect(points().then((ps) => ps.sort((a, b) => a.cost - b.cost))).resolves.toEqual(
      draft.models.map((m) => ({ model: `${m.provider}/${m.model}`, kind: kindOf(m), cost: m.meanCostUsd, score: m.meanScore })),
    );
    // the frontier line passes through its three points, cheapest to dearest (a rising path of 3 vertices)
    const line = await page.locator('.frontier-line path.recharts-curve').getAttribute('d');
    expect(line?.match(/[ML]/g)).toEqual(['M', 'L', 'L']);
    const dots = Object.fromEntries(await page.getByTestId('frontier-point').evaluateAll((els) => els.map((el) => [el.getAttribute('data-model'), [Number(el.getAttribute('cx')), Number(el.getAttribute('cy'))]])));
    const vertices = [...line!.matchAll(/[ML]\s*([\d.]+)[ ,]([\d.]+)/g)].map((v) => [Number(v[1]), Number(v[2])]);
    expect(vertices.map(([x, y]) => [Math.round(x!), Math.round(y!)])).toEqual(
      draft.frontier.map((m) => dots[`openai/${m.model}`]!.map((v: number) => Math.round(v))),
    );

    // the recommendation with its reasoning and the back-test link to the Judge lab
    await expect(page.getByTestId('recommended-model').textContent()).resolves.toBe('gpt-4.1-mini');
    await expect(page.getByTestId('recommendation-reason').textContent()).resolves.toBe(draft.recommendation!.reason);
    await expect(page.getByTestId('recommendation-saving').getAttribute('data-value')).resolves.toBe(String(draft.recommendation!.savingUsd));
    const backtest = new URL((await page.getByTestId('frontier-backtest').getAttribute('href'))!, stack.url);
    // the lab takes UTC days with the last one included: the day before the API's exclusive `to`
    const lastDay = new Date(Date.parse(`${query.get('to')!}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
    expect([backtest.pathname, Object.fromEntries(backtest.searchParams)]).toEqual(['/judge-lab', { templateId, phases: 'draft', from: query.get('from'), to: lastDay }]);

    // the table: the API's figures, cheapest first
    const rows = await page.locator('[data-testid="frontier-models"] tbody tr').evaluateAll((trs) =>
      trs.map((tr) => Object.fromEntries([...tr.querySelectorAll('td')].map((td) => [td.getAttribute('data-col'), td.getAttribute('data-value')]))),
    );
    expect(rows.map((r) => [r.model, Number(r.meanScore), Number(r.meanCost), Number(r.winRate), Number(r.p95), r.frontier])).toEqual(
      draft.models.map((m) => [m.model, m.meanScore, m.meanCostUsd, m.winRate, m.latencyMs.p95, m.onFrontier ? 'on the frontier' : `dominated by ${m.dominatedBy!.model}`]),
    );
    await shot('page');
  });

  it('moves the recommendation with ε, kept in the URL, and refuses an ε out of range without asking the API', async () => {
    await frontierAfter(() => page.goto(`${stack.url}/analytics/frontier?templateId=${templateId}`));
    const strict = await frontierAfter(() => page.getByLabel('ε (score tolerance)').fill('0'));
    expect(strict.query.get('epsilon')).toBe('0');
    expect(strict.body.phases[0]!.recommendation!.model).toBe('gpt-4.1');
    await page.locator('[data-testid="frontier-point"][data-kind="recommended"][data-model="openai/gpt-4.1"]').waitFor();
    await expect(page.getByTestId('recommended-model').textContent()).resolves.toBe('gpt-4.1');
    expect(new URL(page.url()).searchParams.get('epsilon')).toBe('0');
    await shot('epsilon-0');
    let asked = 0;
    page.on('request', (r) => {
      if (new URL(r.url()).pathname === '/api/v1/analytics/frontier') asked++;
    });
    await page.getByLabel('ε (score tolerance)').fill('1.5');
    await page.getByRole('alert').filter({ hasText: 'ε must be a number from 0 to 1.' }).waitFor();
    expect(asked).toBe(0);
    // the API says the same, naming the field
    const refused = await api(`/analytics/frontier?templateId=${templateId}&epsilon=1.5`);
    const { error } = await refused.json<{ error: { code: string; details: { field: string } } }>();
    expect([refused.status, error.code, error.details.field]).toEqual([422, 'validation', 'epsilon']);
  });

  it('refreshes while open when another run of the template completes', async () => {
    await frontierAfter(() => page.goto(`${stack.url}/analytics/frontier?templateId=${templateId}`));
    await page.getByTestId('frontier-chart').locator('svg').first().waitFor();
    const refreshed = page.waitForResponse(
      async (r) => new URL(r.url()).pathname === '/api/v1/analytics/frontier' && r.status() === 200 && ((await r.json()) as FrontierView).phases[0]?.models.every((m) => m.candidates === 4) === true,
      { timeout: 60_000 },
    );
    await startRun(templateId, { name: 'gliders', inputs: { topic: 'gliders' } });
    await refreshed;
    await page.locator('[data-testid="frontier-models"] td[data-col="candidates"][data-value="4"]').first().waitFor();
    await expect(page.locator('[data-testid="frontier-models"] td[data-col="candidates"]').evaluateAll((tds) => tds.map((td) => td.getAttribute('data-value')))).resolves.toEqual(['4', '4', '4', '4']);
  });

  it('is reached from the analytics page, and a range before the runs has nothing to plot', async () => {
    await page.goto(`${stack.url}/analytics?range=7d`);
    await page.getByRole('link', { name: 'quality–cost frontier' }).click();
    await page.waitForURL('**/analytics/frontier?range=7d');
    await page.getByText('Pick a template to see its phases').waitFor();
    const empty = await frontierAfter(() => page.goto(`${stack.url}/analytics/frontier?templateId=${templateId}&from=2020-01-01&to=2020-01-31`));
    expect(empty.body.phases).toEqual([]);
    await page.getByText('No candidates of this template were requested in this range.').waitFor();
  });

  it('has no serious accessibility violations', async () => {
    await page.goto(`${stack.url}/analytics/frontier?templateId=${templateId}`);
    await page.getByTestId('frontier-chart').locator('svg').first().waitFor({ timeout: 15_000 });
    await page.locator('[data-testid="frontier-models"]').waitFor();
    expect(await seriousViolations(page)).toEqual([]);
  });
});
