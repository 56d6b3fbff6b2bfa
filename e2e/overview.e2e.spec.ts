import type { Browser, Page, Request } from 'playwright-core';
import type { OverviewView, RunView } from '@conclave/contracts';
import { eventually, FakeLlmServer, openai, type FakeReply, type RecordedRequest, type Stack, type TestEnv } from '@conclave/testing';
import { closeDashboard, openDashboard, screenshot } from './support/dashboard';
import { seriousViolations } from './support/axe';
import { jsonApi } from './support/rest';

/**
 * The overview at `/` as a user watches it: a new installation says what to do first; then a run
 * on a priced model (OpenAI's SDK against a fake server) appears active, waits on its gate with a
 * link to it, and completes, while today's spend goes up — all from socket events, the page never
 * reloaded. axe-core finds no serious violation on it. Needs `web/dist` (cd web && npx vite build).
 */
type Json = Record<string, unknown>;
/** Every call answers `{ "summary": … }` with 1,500 prompt and 250 completion tokens (gpt-4.1's price makes that ~0.005 USD), after `delayMs`. */
const slowOpenai =
  (delayMs: number) =>
  (r: RecordedRequest): FakeReply => {
    const answer = JSON.stringify({ summary: 'a short summary' });
    const reply = (r.body as Json).stream ? openai.stream([answer.slice(0, 8), answer.slice(8)], { prompt: 1500, completion: 250 }) : openai.completion(answer, { prompt: 1500, completion: 250 });
    return { ...reply, delayMs } as FakeReply;
  };

describe('overview at / end to end', () => {
  let env: TestEnv;
  let stack: Stack;
  let fake: FakeLlmServer;
  let browser: Browser;
  let page: Page;
  const overviewReads: string[] = [];
  const pageErrors: string[] = [];
  const api = jsonApi(() => stack.url);
  const shot = (name: string) => screenshot(page, `overview-${name}`);
  const spendToday = async () => Number(await page.getByTestId('overview-spend-today').getAttribute('data-usd'));
  const stat = (testId: string) => page.getByTestId(testId).locator('dd');

  beforeAll(async () => {
    fake = (await FakeLlmServer.start()).respond(slowOpenai(2500));
    // axe is an inline script: the gateway's CSP would refuse it
    ({ env, stack, browser, page } = await openDashboard({ envPrefix: 'e2eoverview', label: 'e2e-overview', context: { bypassCSP: true, viewport: { width: 1400, height: 1000 } } }));
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('request', (r: Request) => {
      if (new URL(r.url()).pathname === '/api/v1/overview') overviewReads.push(r.url());
    });
  });
  afterAll(async () => {
    await closeDashboard({ browser, stack });
    await fake?.close();
    await env?.dispose();
  });

  it('greets a new installation with what to do first', async () => {
    await page.goto(`${stack.url}/`);
    const first = page.getByTestId('overview-first-run');
    await first.waitFor({ timeout: 30_000 });
    await expect(first.textContent()).resolves.toContain('No runs yet — start one from Templates.');
    await expect(first.getByRole('link', { name: 'Templates' }).getAttribute('href')).resolves.toBe('/templates');
    await expect(page.getByRole('link', { name: 'Overview', exact: true }).getAttribute('aria-current')).resolves.toBe('page');
    await expect(page.getByRole('link', { name: 'Runs', exact: true }).getAttribute('aria-current')).resolves.toBeNull();
    await page.getByText('No failures. When a run or a phase fails').waitFor();
    await expect(spendToday()).resolves.toBe(0);
    await shot('empty');
    expect(await seriousViolations(page)).toEqual([]);
  });

  it('follows a run live — active, waiting on its gate with a link, completed — while today’s spend goes up', async () => {
    expect((await api('/providers', { method: 'POST', body: JSON.stringify({ name: 'openai', kind: 'openai', apiKey: 'sk-overview-e2e-1234', baseUrl: fake.url }) })).status).toBe(201);
    expect((await api('/budgets', { method: 'PUT', body: JSON.stringify({ globalMonthlyUsd: 1, templates: [] }) })).status).toBe(200);
    const summary = { type: 'object', properties: { summary: { type: 'string' } }, required: ['summary'] };
    const gpt = { provider: 'openai', model: 'gpt-4.1' };
    const tpl = await api<{ id: string }>('/templates', {
      method: 'POST',
      body: JSON.stringify({
        name: `overview-e2e-${env.id}`,
        phases: [
          { id: 'draft', name: 'Draft', kind: 'llm', prompt: { user: 'Draft it' }, candidates: [gpt], output: { schema: summary } },
          { id: 'review', name: 'Review', kind: 'gate', dependsOn: ['draft'], message: 'Ship the draft?' },
          { id: 'final', name: 'Final', kind: 'llm', dependsOn: ['review'], prompt: { user: 'Finish it' }, candidates: [gpt], output: { schema: summary } },
        ],
      }),
    });
    expect(tpl.status).toBe(201);
    const readsBefore = overviewReads.length;
    const created = await api<{ id: string }>('/runs', { method: 'POST', body: JSON.stringify({ templateId: tpl.body.id, name: 'overview e2e', inputs: {} }) });
    expect(created.status).toBe(201);
    const id = created.body.id;
    const row = (status?: string) => page.locator(`[data-testid="overview-active-run"][data-run-id="${id}"]${status ? `[data-status="${status}"]` : ''}`);

    // active: its draft phase works (the fake model takes 2.5 s)
    await row('running').waitFor({ timeout: 30_000 });
    await expect(row().getByRole('link', { name: 'overview e2e' }).getAttribute('href')).resolves.toBe(`/runs/${id}`);
    await page.getByTestId('overview-first-run').waitFor({ state: 'detached', timeout: 15_000 });
    await shot('running');

    // waiting on the gate, with a link to it; the draft's call is in today's spend
    await row('waiting').waitFor({ timeout: 30_000 });
    // the live patch names the phase by its id; the refetch that follows brings the template's name
    const gate = row().getByRole('link', { name: 'Approve Review', exact: true });
    await gate.waitFor({ timeout: 15_000 });
    await expect(gate.getAttribute('href')).resolves.toBe(`/runs/${id}?phase=review`);
    await expect(row().locator('[data-testid="overview-wait"][data-kind="gate"]').textContent()).resolves.toContain('Ship the draft?');
    await eventually(async () => (await stat('overview-count-waiting').textContent()) === '1', 'one run waiting', 15_000);
    const afterDraft = await eventually(async () => {
      const usd = await spendToday();
      return usd > 0 && usd;
    }, 'today’s spend to go up after the draft', 15_000);
    await page.locator('[data-testid="overview-budget"]').filter({ hasText: 'All runs' }).waitFor();
    await shot('waiting');
    expect(await seriousViolations(page)).toEqual([]);

    // approved: the final phase runs, then the run completes and leaves the active list
    expect((await api(`/runs/${id}/phases/review/approve`, { method: 'POST', body: JSON.stringify({ comment: 'ship it' }) })).status).toBe(202);
    await page.locator(`[data-testid="overview-recent-run"][data-run-id="${id}"][data-status="completed"]`).waitFor({ timeout: 30_000 });
    await row().waitFor({ state: 'detached', timeout: 15_000 });
    await page.getByTestId('overview-no-active').waitFor({ timeout: 15_000 });
    await expect(stat('overview-count-running').textContent()).resolves.toBe('0');
    const afterFinal = await eventually(async () => {
      const usd = await spendToday();
      return usd > afterDraft && usd;
    }, 'today’s spend to go up after the final phase', 15_000);

    // what the page shows is what the API says, and what the run cost
    const run = await eventually(async () => {
      const r = await api<RunView>(`/runs/${id}`);
      return r.body.status === 'completed' && r.body;
    }, 'the run completed in the read model', 15_000);
    const served = await eventually(async () => {
      const o = (await api<OverviewView>('/overview')).body;
      return Math.abs(o.spend.today.costUsd - afterFinal) < 1e-9 && o;
    }, 'GET /overview to agree with the page', 15_000);
    expect(served.spend.today.costUsd).toBeCloseTo(run.costUsd, 9);
    expect(run.costUsd).toBeGreaterThan(0);
    expect(served.runs.recent[0]).toMatchObject({ id, status: 'completed' });
    await shot('completed');

    // live, not polled: the page read the overview at most once per throttle window (1.5 s) while
    // the run moved, and not at all once nothing happens (after the last window's trailing read)
    expect(overviewReads.length - readsBefore).toBeLessThan(20);
    await page.waitForTimeout(2000);
    const idle = overviewReads.length;
    await page.waitForTimeout(4000);
    expect(overviewReads.length).toBe(idle);
    // the page was never reloaded: the same document followed the run
    expect(await page.evaluate('performance.getEntriesByType("navigation").length')).toBe(1);
  });

  it('opens the run from the list of finished runs', async () => {
    await page.locator('[data-testid="overview-recent-run"] a').first().click();
    await page.waitForURL(/\/runs\/[^/?]+$/, { timeout: 15_000 });
    await page.locator('.page-header .badge.status--completed').waitFor({ timeout: 15_000 });
    // the brand leads home
    await page.locator('a.brand').click();
    await page.waitForURL(`${stack.url}/`);
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    expect(pageErrors).toEqual([]);
  });
});
