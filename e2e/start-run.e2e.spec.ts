import type { Browser, Page } from 'playwright-core';
import type { EstimateResponse, RunView, TimelineEntry } from '@conclave/contracts';
import { eventually, FakeLlmServer, openai, type RecordedRequest, type Stack, type TestEnv } from '@conclave/testing';
import { closeDashboard, openDashboard, screenshot } from './support/dashboard';
import { seriousViolations } from './support/axe';
import { jsonApi } from './support/rest';

/**
 * Starting a run as a user does it, on the whole stack: open a template, fill the form generated
 * from its inputs schema (the gateway's check lands on a field), read the cost estimate and the
 * first prompt as they follow the form, switch auto mode off, start, land on the run page — and
 * the run holds those inputs, sent the previewed prompt to the model, and waits for "continue"
 * after its first phase. axe-core finds no serious violation, in the dark and the light theme.
 * Needs `web/dist` (cd web && npx vite build) and the services' dist (node scripts/build.mjs).
 */
/** axe-core through the devtools protocol: the page keeps its CSP (which refuses inline scripts) while it is audited. */
/*
 * The estimate by hand: gpt-4.1 at the default list price ($2 / $8 per 1M) for a 2,000 + 1,000
 * token call is 0.004 + 0.008 = $0.012; simulated calls are free.
 *   plan:   gpt-4.1 + a simulated candidate + a simulated judge          = $0.012 every time
 *   refine: a loop of gpt-4.1 with a simulated evaluator, maxAttempts 3  = $0.012 a round, 1 / 2 / 3 rounds
 *   min $0.024, expected $0.036, max $0.048
 */
const template = (suffix: string) => ({
  name: `start-run-e2e-${suffix}`,
  description: 'A plan, refined in a loop',
  inputs: {
    type: 'object',
    properties: {
      idea: { type: 'string', title: 'Idea', description: 'What to plan' },
      weeks: { type: 'integer', title: 'Weeks', minimum: 1, default: 2 },
      audience: { type: 'string', title: 'Audience', enum: ['engineers', 'managers'], default: 'engineers' },
    },
    required: ['idea'],
  },
  phases: [
    {
      id: 'plan', name: 'Plan', kind: 'llm',
      prompt: { system: 'You plan projects for {{inputs.audience}}.', user: 'Plan "{{inputs.idea}}" in {{inputs.weeks}} weeks.' },
      candidates: [{ provider: 'openai', model: 'gpt-4.1' }, { provider: 'simulated', model: 'sim' }],
      judge: { provider: 'simulated', model: 'sim-judge' },
      output: { schema: { type: 'object', properties: { summary: { type: 'string' } }, required: ['summary'] } },
    },
    {
      id: 'refine', name: 'Refine', kind: 'loop', dependsOn: ['plan'],
      prompt: { user: 'Refine the plan: {{phases.plan.output.summary}}' },
      candidates: [{ provider: 'openai', model: 'gpt-4.1' }],
      loop: { maxAttempts: 3, passThreshold: 0.8, evaluator: { provider: 'simulated', model: 'sim-judge' } },
    },
  ],
});

describe('starting a run from the generated form end to end', () => {
  let env: TestEnv;
  let stack: Stack;
  let fake: FakeLlmServer;
  let browser: Browser;
  let page: Page;
  let templateId: string;
  const api = jsonApi(() => stack.url);
  const shot = (name: string) => screenshot(page, `start-run-${name}`);

  beforeAll(async () => {
    fake = (await FakeLlmServer.start()).respond((r: RecordedRequest) => {
      const answer = JSON.stringify({ summary: 'ride the river banks first' });
      return (r.body as { stream?: boolean }).stream ? openai.stream([answer.slice(0, 10), answer.slice(10)], { prompt: 1500, completion: 250 }) : openai.completion(answer, { prompt: 1500, completion: 250 });
    });
    ({ env, stack, browser, page } = await openDashboard({ envPrefix: 'e2estart', label: 'e2e-start', context: { viewport: { width: 1400, height: 1000 } } }));
    expect((await api('/providers', { method: 'POST', body: JSON.stringify({ name: 'openai', kind: 'openai', apiKey: 'sk-start-run-e2e-1234', baseUrl: fake.url }) })).status).toBe(201);
    const created = await api<{ id: string }>('/templates', { method: 'POST', body: JSON.stringify(template(env.id)) });
    expect(created.status).toBe(201);
    templateId = created.body.id;
  });
  afterAll(async () => {
    await closeDashboard({ browser, stack });
    await fake?.close();
    await env?.dispose();
  });

  it('fills the generated form, reads the estimate and the first prompt, switches auto mode off and starts the run with those inputs', async () => {
    await page.goto(`${stack.url}/templates/${templateId}`);
    const start = page.locator('#start-run');
    const idea = start.getByLabel(/^Idea/);
    await idea.waitFor({ timeout: 30_000 });

    // the estimate, as the API answers it and as computed by hand
    const figures = (await api<EstimateResponse>(`/templates/${templateId}/estimate`, { method: 'POST', body: '{}' })).body;
    expect([figures.min.usd, figures.expected.usd, figures.max.usd]).toEqual([0.024, 0.036, 0.048]);
    await eventually(async () => (await start.getByTestId('estimate-expected').textContent()) === '$0.036', 'the expected cost shown', 15_000);
    await expect(start.getByTestId('estimate-min').textContent()).resolves.toBe('$0.024');
    await expect(start.getByTestId('estimate-max').textContent()).resolves.toBe('$0.048');
    await expect(start.getByRole('row', { name: /Refine/ }).textContent()).resolves.toContain('1 round (min), 2 (expected), 3 (max = maxAttempts)');

    // the form: the schema's defaults are there; a value the schema refuses is flagged on its field by the gateway
    await expect(start.getByLabel(/^Weeks/).inputValue()).resolves.toBe('2');
    await idea.fill('a bike map for Lyon');
    await start.getByLabel(/^Weeks/).fill('0');
    await start.getByText('must be >= 1').waitFor({ timeout: 15_000 });
    await shot('input-error');
    await start.getByLabel(/^Weeks/).fill('3');
    await start.getByText('must be >= 1').waitFor({ state: 'detached', timeout: 15_000 });
    await start.getByLabel(/^Audience/).selectOption('managers');

    // the first prompt follows the form
    const user = start.getByTestId('prompt-plan');
    await eventually(async () => (await user.textContent()) === 'Plan "a bike map for Lyon" in 3 weeks.', 'the previewed prompt to follow the form', 10_000);
    await expect(start.getByRole('region', { name: 'First prompt' }).textContent()).resolves.toContain('You plan projects for managers.');

    // the Advanced tab holds the same inputs as JSON
    await start.getByRole('tab', { name: 'Advanced (JSON)' }).click();
    await expect(start.getByLabel('Inputs (JSON)').inputValue().then((t) => JSON.parse(t))).resolves.toEqual({ idea: 'a bike map for Lyon', weeks: 3, audience: 'managers' });
    await shot('advanced-json');
    await start.getByRole('tab', { name: 'Form' }).click();
    await idea.waitFor();

    await start.getByLabel('Run name (optional)').fill('bike map plan');
    const auto = start.getByRole('switch', { name: /Auto mode/ });
    await expect(auto.isChecked()).resolves.toBe(true);
    await auto.click();
    await expect(auto.isChecked()).resolves.toBe(false);
    await start.getByText('each phase waits for you to continue it').waitFor();

    await start.scrollIntoViewIfNeeded();
    await page.evaluate("document.documentElement.dataset.theme = 'dark'");
    await shot('form-dark');
    expect(await seriousViolations(page)).toEqual([]);
    await page.evaluate("document.documentElement.dataset.theme = 'light'");
    await shot('form-light');
    expect(await seriousViolations(page)).toEqual([]);
    await page.evaluate("document.documentElement.dataset.theme = 'dark'");

    // start: the run page opens
    await start.getByRole('button', { name: /Start run/ }).click();
    await page.waitForURL(/\/runs\/[0-9a-f-]{36}/, { timeout: 15_000 });
    const runId = /\/runs\/([0-9a-f-]{36})/.exec(page.url())![1]!;
    await page.getByRole('heading', { name: /bike map plan/ }).first().waitFor({ timeout: 15_000 });

    // the run holds the form's inputs, sent the previewed prompt, and (auto mode off) waits for "continue" before refine
    const run = (await api<RunView>(`/runs/${runId}`)).body;
    expect(run.inputs).toEqual({ idea: 'a bike map for Lyon', weeks: 3, audience: 'managers' });
    await eventually(async () => fake.requests.length > 0, 'the plan phase to call the model', 30_000);
    expect(JSON.stringify(fake.requests[0]!.body)).toContain('Plan \\"a bike map for Lyon\\" in 3 weeks.');
    expect(JSON.stringify(fake.requests[0]!.body)).toContain('You plan projects for managers.');
    await eventually(async () => (await api<RunView>(`/runs/${runId}`)).body.status === 'waiting', 'the run to wait for continue', 30_000);
    const timeline = (await api<{ items: TimelineEntry[] }>(`/runs/${runId}/timeline`)).body.items;
    expect(timeline.some((e) => e.type === 'ContinueRequired')).toBe(true);
    expect(timeline.some((e) => e.type === 'PhaseStarted' && (e.data as { phaseId?: string }).phaseId === 'refine')).toBe(false);
    await shot('run-page');
  });
});
