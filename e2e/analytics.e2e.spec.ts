import type { Browser, Page } from 'playwright-core';
import type { AnalyticsView, RunView, TemplateInput } from '@conclave/contracts';
import { eventually, FakeLlmServer, openai, type FakeReply, type RecordedRequest, type Stack, type TestEnv } from '@conclave/testing';
import { seriousViolations } from './support/axe';
import { closeDashboard, openDashboard, screenshot } from './support/dashboard';
import { jsonApi } from './support/rest';

/**
 * The analytics page after a handful of runs on the whole stack: two templates whose candidates
 * call two priced OpenAI models (a local fake server speaking OpenAI's wire format, so the runs
 * cost something) and a simulated judge; completed runs and runs that fail (the fake refuses
 * prompts carrying FAIL-ME with a 400). Every figure the page shows is checked against the API,
 * and the API's against the runs themselves. Needs `web/dist` (cd web && npx vite build).
 */
const FAIL = 'FAIL-ME';

/** A summary for every candidate; a 400 (not retried) for a prompt carrying FAIL-ME. */
const responder = (r: RecordedRequest): FakeReply => {
  const body = r.body as { stream?: boolean };
  if (JSON.stringify(r.body).includes(FAIL)) return openai.error(400, 'this prompt is refused');
  const answer = JSON.stringify({ summary: 'a considered answer from the fake provider' });
  return body.stream ? openai.stream([answer.slice(0, 9), answer.slice(9)], { prompt: 1500, completion: 250 }) : openai.completion(answer, { prompt: 1500, completion: 250 });
};

const summary = { type: 'object', properties: { summary: { type: 'string' } }, required: ['summary'] };
const inputs = { type: 'object', properties: { topic: { type: 'string' } }, required: ['topic'] };
const GPT = { provider: 'openai', model: 'gpt-4.1' };
const MINI = { provider: 'openai', model: 'gpt-4.1-mini' };

describe('the analytics page end to end', () => {
  let env: TestEnv;
  let stack: Stack;
  let fake: FakeLlmServer;
  let browser: Browser;
  let page: Page;
  const templateIds: Record<'alpha' | 'beta', string> = { alpha: '', beta: '' };
  const runs: RunView[] = [];
  const api = jsonApi(() => stack.url);
  const shot = (name: string) => screenshot(page, `analytics-${name}`);
  /** the page's own GET /analytics answer after `action` (the figures it renders) */
  const analyticsAfter = async (action: () => Promise<unknown>): Promise<{ query: URLSearchParams; body: AnalyticsView }> => {
    const response = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/analytics' && r.status() === 200, { timeout: 15_000 });
    await action();
    const res = await response;
    return { query: new URL(res.url()).searchParams, body: (await res.json()) as AnalyticsView };
  };
  const cells = async (testId: string, rowKey: string) =>
    page.locator(`[data-testid="${testId}"] tr[data-row-key="${rowKey}"] td`).evaluateAll((tds) => tds.map((td) => ({ col: td.getAttribute('data-col'), value: td.getAttribute('data-value'), text: td.textContent })));
  const rowKeys = (testId: string) => page.locator(`[data-testid="${testId}"] tbody tr`).evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-row-key')));

  beforeAll(async () => {
    fake = (await FakeLlmServer.start()).respond(responder);
    // axe-core is an inline script: the dashboard's CSP is bypassed for this test's pages
    ({ env, stack, browser, page } = await openDashboard({ envPrefix: 'e2e', label: 'e2e-analytics', context: { bypassCSP: true, viewport: { width: 1400, height: 1000 } } }));
    const provider = await api('/providers', { method: 'POST', body: JSON.stringify({ name: 'openai', kind: 'openai', apiKey: 'sk-analytics-e2e', baseUrl: fake.url }) });
    expect(provider.status).toBe(201);
    const templates: Record<'alpha' | 'beta', TemplateInput> = {
      alpha: {
        name: `analytics alpha ${env.id}`,
        inputs,
        phases: [
          { id: 'draft', name: 'Draft', kind: 'llm', prompt: { user: 'Draft about {{inputs.topic}}' }, candidates: [GPT, MINI], judge: { provider: 'simulated', model: 'sim-judge', criteria: ['quality'] }, output: { schema: summary } },
          { id: 'polish', kind: 'llm', dependsOn: ['draft'], prompt: { user: 'Polish {{phases.draft.output.summary}}' }, candidates: [MINI], output: { schema: summary } },
        ],
      },
      beta: { name: `analytics beta ${env.id}`, inputs, phases: [{ id: 'write', kind: 'llm', prompt: { user: 'Write about {{inputs.topic}}' }, candidates: [GPT], output: { schema: summary } }] },
    };
    for (const key of ['alpha', 'beta'] as const) {
      const created = await api<{ id: string }>('/templates', { method: 'POST', body: JSON.stringify(templates[key]) });
      expect(created.status).toBe(201);
      templateIds[key] = created.body.id;
    }
    // two completed runs and one failed run of each template
    const starts: [keyof typeof templateIds, string][] = [
      ['alpha', 'kites'],
      ['alpha', 'boats'],
      ['alpha', FAIL],
      ['beta', 'trains'],
      ['beta', 'gliders'],
      ['beta', FAIL],
    ];
    const ids: string[] = [];
    for (const [key, topic] of starts) {
      const started = await api<{ id: string }>('/runs', { method: 'POST', body: JSON.stringify({ templateId: templateIds[key], name: `${key} ${topic}`, inputs: { topic } }) });
      expect(started.status).toBe(201);
      ids.push(started.body.id);
    }
    for (const id of ids) {
      runs.push(
        await eventually(async () => {
          const { body } = await api<RunView>(`/runs/${id}`);
          return body.status === 'completed' || body.status === 'failed' ? body : null;
        }, `run ${id} to finish`, 90_000),
      );
    }
    expect(runs.map((r) => [r.name, r.status])).toEqual(starts.map(([key, topic]) => [`${key} ${topic}`, topic === FAIL ? 'failed' : 'completed']));
  });
  afterAll(async () => {
    await closeDashboard({ browser, stack, env });
    await fake?.close();
  });

  it('shows per template, per model, the costliest runs and the spend, the figures the API gives', async () => {
    const { query, body } = await analyticsAfter(() => page.goto(`${stack.url}/analytics`));
    // the default range: the last 30 UTC days, today included
    const today = new Date().toISOString().slice(0, 10);
    expect((Date.parse(query.get('to')!) - Date.parse(query.get('from')!)) / 86_400_000).toBe(30);
    expect(query.get('from')! <= today && today < query.get('to')!).toBe(true);
    // an independent read of the API with the same range answers the same figures
    expect((await api<AnalyticsView>(`/analytics?${query.toString()}`)).body).toEqual(body);

    // the API's figures agree with the runs themselves
    expect(body.totals.runs).toBe(6);
    expect(body.totals.costUsd).toBeCloseTo(runs.reduce((s, r) => s + r.costUsd, 0), 9);
    expect(body.totals.costUsd).toBeGreaterThan(0);
    for (const key of ['alpha', 'beta'] as const) {
      const own = runs.filter((r) => r.templateId === templateIds[key]);
      const row = body.templates.find((t) => t.templateId === templateIds[key])!;
      expect(row).toEqual(expect.objectContaining({ runs: 3, completed: 2, failed: 1, cancelled: 0, active: 0, successRate: 2 / 3, failureRate: 1 / 3 }));
      expect(row.costUsd).toBeCloseTo(own.reduce((s, r) => s + r.costUsd, 0), 9);
      expect(row.durationMs.samples).toBe(2);
    }
    expect(body.models.map((m) => m.model).sort()).toEqual(['gpt-4.1', 'gpt-4.1-mini', 'sim-judge']);
    // gpt-4.1: 1500 in / 250 out at $2 / $8 per million tokens, for every generated call
    const gpt = body.models.find((m) => m.model === 'gpt-4.1')!;
    expect(gpt.costUsd).toBeCloseTo((gpt.calls - gpt.failed) * ((1500 * 2 + 250 * 8) / 1e6), 9);
    expect(gpt.failed).toBe(2);
    expect(body.topRuns.map((r) => r.id)).toEqual([...runs].sort((a, b) => b.costUsd - a.costUsd || Date.parse(b.startedAt) - Date.parse(a.startedAt) || a.id.localeCompare(b.id)).map((r) => r.id));
    // every phase of both templates, in each template's order
    const phaseRows = body.phases.map((p) => [p.templateId === templateIds.alpha ? 'alpha' : 'beta', p.phaseId, p.completed, p.failed]);
    expect(phaseRows.filter((r) => r[0] === 'alpha')).toEqual([
      ['alpha', 'draft', 2, 1],
      ['alpha', 'polish', 2, 0],
    ]);
    expect(phaseRows.filter((r) => r[0] === 'beta')).toEqual([['beta', 'write', 2, 1]]);

    // what the page shows is that answer
    await expect(page.getByTestId('total-runs').textContent()).resolves.toBe('6');
    await expect(page.getByTestId('total-cost').getAttribute('data-value')).resolves.toBe(String(body.totals.costUsd));
    for (const t of body.templates) {
      const row = Object.fromEntries((await cells('analytics-templates', t.templateId)).map((c) => [c.col, c]));
      expect({
        name: row.template!.text,
        runs: row.runs!.text,
        completed: row.completed!.text,
        failed: row.failed!.text,
        success: row.successRate!.text,
        failure: row.failureRate!.text,
        cost: Number(row.cost!.value),
        costPerRun: Number(row.costPerRun!.value),
        p50: Number(row.p50!.value),
        p95: Number(row.p95!.value),
      }).toEqual({
        name: t.templateName,
        runs: String(t.runs),
        completed: String(t.completed),
        failed: String(t.failed),
        success: `${Math.round(t.successRate! * 100)}%`,
        failure: `${Math.round(t.failureRate! * 100)}%`,
        cost: t.costUsd,
        costPerRun: t.costPerRunUsd,
        p50: t.durationMs.p50,
        p95: t.durationMs.p95,
      });
    }
    for (const m of body.models) {
      const row = Object.fromEntries((await cells('analytics-models', `${m.provider}/${m.model}`)).map((c) => [c.col, c]));
      expect([row.model!.text, row.calls!.text, row.failureRate!.text, Number(row.cost!.value), Number(row.p95!.value || 'NaN')]).toEqual([m.model, String(m.calls), m.failureRate === null ? '—' : `${Math.round(m.failureRate * 100)}%`, m.costUsd, m.durationMs.p95 ?? NaN]);
    }
    for (const p of body.phases) {
      const row = Object.fromEntries((await cells('analytics-phases', `${p.templateId}/${p.phaseId}`)).map((c) => [c.col, c]));
      expect([row.completed!.text, row.failed!.text, Number(row.p50!.value), Number(row.p95!.value)]).toEqual([String(p.completed), String(p.failed), p.durationMs.p50, p.durationMs.p95]);
    }
    // the ten costliest runs, costliest first, each linked to its run page
    await expect(rowKeys('analytics-top-runs')).resolves.toEqual(body.topRuns.map((r) => r.id));
    const costliest = body.topRuns[0]!;
    await expect(page.getByTestId('analytics-top-runs').getByRole('link', { name: costliest.name! }).getAttribute('href')).resolves.toBe(`/runs/${costliest.id}`);
    await expect(page.getByTestId('daily-total').getAttribute('data-value')).resolves.toBe(String(body.daily.reduce((s, d) => s + d.costUsd, 0)));
    await page.locator('.analytics .chart svg').first().waitFor();
    await shot('page');

    // sorting a table by a header: cheapest template first, then costliest first
    const costHeader = page.getByTestId('analytics-templates').getByRole('button', { name: 'Cost', exact: true });
    await costHeader.click();
    const byCost = [...body.templates].sort((a, b) => b.costUsd - a.costUsd).map((t) => t.templateId);
    await expect(rowKeys('analytics-templates')).resolves.toEqual(byCost);
    await costHeader.click();
    await expect(rowKeys('analytics-templates')).resolves.toEqual([...byCost].reverse());
    await expect(page.getByTestId('analytics-templates').locator('th[aria-sort="ascending"]').count()).resolves.toBe(1);
    await shot('sorted');

    // a run link opens the run page
    await page.getByTestId('analytics-top-runs').getByRole('link', { name: costliest.name! }).click();
    await page.waitForURL(`**/runs/${costliest.id}`);
  });

  it('changes the range: 7 days asks the API again; a custom range before the runs shows none', async () => {
    await analyticsAfter(() => page.goto(`${stack.url}/analytics`));
    const week = await analyticsAfter(() => page.getByRole('button', { name: '7 days' }).click());
    expect((Date.parse(week.query.get('to')!) - Date.parse(week.query.get('from')!)) / 86_400_000).toBe(7);
    expect(week.body.totals.runs).toBe(6);
    expect(new URL(page.url()).searchParams.get('range')).toBe('7d');
    const past = await analyticsAfter(() => page.goto(`${stack.url}/analytics?from=2020-01-01&to=2020-01-31`));
    expect([past.query.get('from'), past.query.get('to')]).toEqual(['2020-01-01', '2020-02-01']);
    expect(past.body).toEqual(expect.objectContaining({ totals: { runs: 0, costUsd: 0, tokens: { input: 0, output: 0 } }, templates: [], topRuns: [], daily: [] }));
    await page.getByText('No runs started in this range.').first().waitFor();
    await shot('empty-range');
    // a first day after the last: said on the page, not asked of the API
    await page.getByLabel('From').fill('2020-02-15');
    await page.getByRole('alert').filter({ hasText: 'The first day must not be after the last day.' }).waitFor();
  });

  it('gives /costs the same range picker, and its export follows it', async () => {
    const costs = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/costs' && r.status() === 200);
    await page.goto(`${stack.url}/costs?range=7d`);
    const query = new URL((await costs).url()).searchParams;
    expect((Date.parse(query.get('to')!) - Date.parse(query.get('from')!)) / 86_400_000).toBe(7);
    const byProvider = await api<{ items: { key: string; costUsd: number }[] }>(`/costs?groupBy=provider&${new URLSearchParams({ from: query.get('from')!, to: query.get('to')! })}`);
    await page.getByText(/^Total .* over the last 7 days\.$/).waitFor();
    expect(byProvider.body.items.find((i) => i.key === 'openai')!.costUsd).toBeGreaterThan(0);
    await shot('costs-range');
    // the export asks for what is on screen: this grouping and range
    const exported = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/costs/export');
    await page.getByRole('button', { name: 'Export' }).click();
    await page.getByRole('menuitem', { name: 'JSON' }).click();
    const res = await exported;
    const params = new URL(res.url()).searchParams;
    expect([params.get('format'), params.get('groupBy'), params.get('from'), params.get('to')]).toEqual(['json', 'provider', query.get('from'), query.get('to')]);
    // (the page saved the body as a file; the same URL read here)
    const url = new URL(res.url());
    expect((await api<unknown>(`${url.pathname.replace('/api/v1', '')}${url.search}`)).body).toEqual(byProvider.body.items);
  });

  it('has no serious accessibility violations on /analytics and /costs', async () => {
    for (const [path, table] of [
      ['/analytics', '[data-testid="analytics-templates"]'],
      ['/costs', '.table-wrap table'],
    ] as const) {
      await page.goto(`${stack.url}${path}`);
      await page.locator('.range-picker').waitFor();
      await page.locator(table).first().waitFor({ timeout: 15_000 });
      expect({ path, violations: await seriousViolations(page) }).toEqual({ path, violations: [] });
    }
  });
});
