import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { AlertItem, AlertSummary, ErrorEnvelope } from '@conclave/contracts';
import { eventually, type Stack, type TestEnv } from '@conclave/testing';
import { closeDashboard, openDashboard, screenshot } from './support/dashboard';
import { restClient } from './support/rest';
import { sim } from './support/templates';
import { seriousViolations } from './support/axe';

/**
 * Alerts and toasts as a user meets them (issue 13 §7, §8), on the whole stack with a 3-second
 * stall threshold: a run left waiting on a slow model makes the header's bell count go up live (no
 * reload, no polling), the alert is on /alerts with a link to its run, and acknowledging it brings
 * the count back down. Commands sent from the run page report their outcome as toasts, a refusal
 * with the API's own reason. axe-core finds no serious violation on /alerts. Needs `web/dist`.
 */

describe('alerts and toasts end to end', () => {
  let env: TestEnv;
  let stack: Stack;
  let browser: Browser;
  let page: Page;
  let runId: string;
  const { api, post, createTemplate, startRun, until } = restClient(() => stack.url);
  const shot = (p: Page, name: string) => screenshot(p, `alerts-${name}`);
  const summary = async () => (await api('/alerts/summary')).json<AlertSummary>();
  const bellLabel = () => page.getByTestId('alerts-bell').getAttribute('aria-label');
  const toast = (p: Page, title: string) => p.locator('[data-sonner-toast]').filter({ hasText: title });

  beforeAll(async () => {
    // 0.05 min: a run with no event for 3 s is stalled (the projector sweeps every second); axe is an inline script (bypassCSP)
    ({ env, stack, browser, page } = await openDashboard({
      envPrefix: 'e2ealerts',
      label: 'e2e-alerts',
      extraEnv: { CONCLAVE_STALL_MINUTES: '0.05', WORKER_HEARTBEAT_MS: '200' },
      context: { bypassCSP: true },
    }));
  });
  afterAll(() => closeDashboard({ browser, stack, env }));

  it('counts a stalled run on the bell, live; /alerts lists it with its run and acknowledges it', async () => {
    await page.goto(`${stack.url}/runs`);
    await eventually(async () => (await bellLabel()) === '0 open alerts', 'the bell with no open alert');
    expect(await summary()).toEqual({ open: 0, byKind: {} });

    // a slow model: the run is running and nothing happens for two minutes
    const templateId = await createTemplate({ name: 'stalls', phases: [{ id: 'slow', kind: 'llm', dependsOn: [], prompt: { user: 'take your time' }, candidates: [sim('m', 120_000)] }] });
    runId = await startRun(templateId);

    // the page is never reloaded: the count arrives over the socket's `alerts` room
    await eventually(async () => (await bellLabel()) === '1 open alert', 'the bell to count the stalled run', 30_000);
    await expect(page.getByTestId('alerts-bell-count').textContent()).resolves.toBe('1');
    expect(await summary()).toEqual({ open: 1, byKind: { run_stalled: 1 } });
    await shot(page, 'bell');

    await page.getByTestId('alerts-bell').click();
    await page.waitForURL(/\/alerts$/);
    const row = page.locator('[data-testid="alert-row"][data-kind="run_stalled"]');
    await row.waitFor();
    await expect(row.getAttribute('data-state')).resolves.toBe('open');
    await expect(row.textContent()).resolves.toContain(`Run ${runId} has made no progress`);
    await expect(row.getByRole('link', { name: `run ${runId}` }).getAttribute('href')).resolves.toBe(`/runs/${runId}`);
    await expect(page.getByTestId('alerts-summary').textContent()).resolves.toMatch(/^1 open: 1 run stalled\./);
    expect(await seriousViolations(page)).toEqual([]);
    await shot(page, 'page');

    await row.getByRole('button', { name: /^Acknowledge/ }).click();
    await toast(page, 'Alert acknowledged').waitFor({ timeout: 15_000 });
    // it leaves the open list and the bell
    await row.waitFor({ state: 'detached', timeout: 15_000 });
    await eventually(async () => (await bellLabel()) === '0 open alerts', 'the bell back to zero');
    await expect(page.getByTestId('alerts-bell-count').count()).resolves.toBe(0);
    const acknowledged = await (await api('/alerts?status=acknowledged')).json<{ items: AlertItem[] }>();
    expect(acknowledged.items).toEqual([expect.objectContaining({ kind: 'run_stalled', runId, acknowledgedBy: 'anonymous', acknowledgedAt: expect.any(String) })]);
    // the log has it: one AlertRaised and one AlertAcknowledged
    const log = await (await api(`/events?limit=1000`)).json<{ items: { type: string; streamId: string }[] }>();
    expect(log.items.filter((e) => e.streamId.startsWith('alert:')).map((e) => e.type)).toEqual(['AlertRaised', 'AlertAcknowledged']);

    await page.getByRole('button', { name: 'All', exact: true }).click();
    await page.locator('[data-testid="alert-row"][data-state="acknowledged"]').waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await shot(page, 'acknowledged');
  });

  it('toasts the outcome of commands, and a refusal with the API\'s reason', async () => {
    await page.goto(`${stack.url}/runs/${runId}`);
    await page.getByRole('button', { name: 'Pause', exact: true }).click();
    await toast(page, 'Run paused').waitFor({ timeout: 15_000 });
    await until(runId, 'the run to be paused', (r) => r.status === 'paused');
    await shot(page, 'toast-paused');
    await page.getByRole('button', { name: 'Resume', exact: true }).click();
    await toast(page, 'Run resumed').waitFor({ timeout: 15_000 });
    await until(runId, 'the run to run again', (r) => r.status === 'running');

    // a second tab without live updates still offers Pause after the run was paused elsewhere:
    // the orchestrator refuses it, and the toast says why in the API's words
    let stale: BrowserContext | undefined;
    try {
      stale = await browser.newContext({ viewport: { width: 1400, height: 900 } });
      await stale.route('**/socket.io/**', (route) => route.abort());
      // and no fresher reads: without its socket the page refetches the run (and would learn of the
      // pause), so every read of this run answers what the first one said. The first answer is kept
      // as a promise: a read made while the first is still on its way (the gap-fill starts as the
      // run's view lands, the timeline's may not have) shares it instead of asking after the pause.
      type Answer = { status: number; headers: Record<string, string>; body: Buffer };
      const firstAnswers = new Map<string, Promise<Answer>>();
      await stale.route(`**/api/v1/runs/${runId}**`, async (route) => {
        if (route.request().method() !== 'GET') return route.continue();
        const path = new URL(route.request().url()).pathname;
        let answer = firstAnswers.get(path);
        if (!answer) {
          answer = route.fetch().then(async (response) => ({ status: response.status(), headers: response.headers(), body: await response.body() }));
          firstAnswers.set(path, answer);
        }
        return route.fulfill(await answer);
      });
      const stalePage = await stale.newPage();
      await stalePage.goto(`${stack.url}/runs/${runId}`);
      const pause = stalePage.getByRole('button', { name: 'Pause', exact: true });
      await pause.waitFor();
      // every read the page made on load has its answer before the run is paused elsewhere
      await Promise.all(firstAnswers.values());
      expect((await post(`/runs/${runId}/pause`)).status).toBe(202);
      await until(runId, 'the run paused by the API', (r) => r.status === 'paused');
      const refusal = await post(`/runs/${runId}/pause`);
      expect(refusal.status).toBe(409);
      const { error } = await refusal.json<ErrorEnvelope>();
      await pause.click();
      const refused = toast(stalePage, 'Pause refused');
      await refused.waitFor({ timeout: 15_000 });
      await expect(refused.textContent()).resolves.toContain(`${error.message} (${error.code})`);
      await shot(stalePage, 'toast-refused');
    } finally {
      // a read still being answered when the tab closes would fail in its handler: drop them first
      await stale?.unrouteAll({ behavior: 'ignoreErrors' });
      await stale?.close();
    }

    // back on the live page: cancelling through its dialog
    await page.reload();
    await page.getByRole('button', { name: 'Cancel run…' }).click();
    await page.getByRole('button', { name: 'Cancel the run' }).click();
    await toast(page, 'Run cancelled').waitFor({ timeout: 15_000 });
    await until(runId, 'the run to be cancelled', (r) => r.status === 'cancelled');
  });
});
