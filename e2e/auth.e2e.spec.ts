import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { TimelineEntry } from '@conclave/contracts';
import { createTestEnv, REPO_ROOT, startStack, type Stack, type TestEnv } from '@conclave/testing';
import { launchChromium } from './support/browser';

/**
 * The dashboard in front of a gateway with named API tokens (CONCLAVE_API_TOKENS), in Chromium on
 * the whole stack: the sign-in screen (a wrong token refused, the right one kept for the tab), the
 * runs list and a run followed live over the authenticated socket, a gate approved from the page
 * with the token's name in the log as its author, an export downloaded with the token in a header
 * (never in a URL), and sign-out.
 */
const SCREENSHOTS = join(REPO_ROOT, 'test-output', 'screenshots');

describe('dashboard behind API tokens', () => {
  const tokens = { alice: randomBytes(24).toString('hex'), ci: randomBytes(24).toString('hex') };
  let env: TestEnv;
  let stack: Stack;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let runId: string;
  /** how many requests the page had made when alice signed in */
  let signedInAt = 0;
  const requests: { url: string; authorization: string | undefined }[] = [];
  const runName = `auth e2e run ${randomBytes(3).toString('hex')}`;
  const api = async <T>(path: string, init: RequestInit & { token?: string | null } = {}): Promise<{ status: number; body: T }> => {
    const { token = tokens.ci, ...rest } = init;
    const res = await fetch(`${stack.url}/api/v1${path}`, {
      ...rest,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    });
    return { status: res.status, body: (await res.json()) as T };
  };
  const shot = (name: string) => page.screenshot({ path: join(SCREENSHOTS, `auth-${name}.png`), fullPage: true });
  const signInForm = () => page.getByRole('form', { name: 'Sign in' });

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    env = await createTestEnv('e2eauth');
    stack = await startStack(env, { label: `e2e-auth-${env.id}`, extraEnv: { CONCLAVE_API_TOKENS: `alice:${tokens.alice},ci:${tokens.ci}` } });
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1300, height: 900 }, acceptDownloads: true });
    page = await context.newPage();
    page.on('request', (r) => requests.push({ url: r.url(), authorization: r.headers().authorization }));
  });
  afterAll(async () => {
    await browser?.close();
    if (stack) await stack.stop();
    await env?.dispose();
  });

  it('refuses the API without a token', async () => {
    expect((await api('/runs', { token: null })).status).toBe(401);
    expect((await api('/runs', { token: 'not-a-token' })).status).toBe(401);
    expect((await api('/runs')).status).toBe(200);
  });

  it('shows the sign-in screen, refuses a wrong token with a clear message, and opens the runs list with the right one', async () => {
    await page.goto(`${stack.url}/runs`);
    await signInForm().waitFor({ timeout: 15_000 });
    await shot('sign-in');
    const field = signInForm().getByLabel('API token');
    await field.fill('certainly-not-the-token');
    await signInForm().getByRole('button', { name: 'Sign in' }).click();
    await expect(signInForm().getByRole('alert').textContent()).resolves.toBe('This token was refused: check it and try again.');
    await shot('sign-in-refused');

    // before signing in the page's calls carried no token (the 401s that brought the form)
    expect(requests.filter((r) => r.url.includes('/api/v1/runs')).length).toBeGreaterThan(0);
    signedInAt = requests.length;
    await field.fill(tokens.alice);
    await signInForm().getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Runs', level: 1 }).waitFor({ timeout: 15_000 });
    await expect(signInForm().count()).resolves.toBe(0);
    // the socket's handshake carries the token too: live updates are on
    await page.locator('.connection--connected').waitFor({ timeout: 15_000 });
    await expect(page.evaluate<string | null>('sessionStorage.getItem("conclave.apiToken")')).resolves.toBe(tokens.alice);
  });

  it('sees a run started elsewhere appear live, follows it, and approves its gate as alice', async () => {
    const sim = { provider: 'simulated', model: 'sim' };
    const template = await api<{ id: string }>('/templates', {
      method: 'POST',
      body: JSON.stringify({
        name: `auth-e2e-${env.id}`,
        phases: [
          { id: 'draft', kind: 'llm', prompt: { user: 'Draft it' }, candidates: [sim] },
          { id: 'review', kind: 'gate', dependsOn: ['draft'], message: 'Ship the draft?' },
        ],
      }),
    });
    expect(template.status).toBe(201);
    // started by the CI token while alice looks at the runs list
    const started = await api<{ id: string }>('/runs', { method: 'POST', body: JSON.stringify({ templateId: template.body.id, name: runName, inputs: {} }) });
    expect(started.status).toBe(201);
    runId = started.body.id;
    await page.getByText(runName, { exact: true }).first().waitFor({ timeout: 15_000 });
    await shot('runs-list');

    await page.goto(`${stack.url}/runs/${runId}`);
    const gate = page.getByRole('form', { name: /Gate review/ });
    await gate.waitFor({ timeout: 30_000 });
    await gate.getByRole('button', { name: 'Approve' }).click();
    // the completion arrives over the socket
    await page.locator('.page-header .badge.status--completed').waitFor({ timeout: 30_000 });

    // the audit trail: each event names the token that caused it
    const timeline = await api<{ items: TimelineEntry[] }>(`/runs/${runId}/timeline`);
    const actorOf = (type: string) => timeline.body.items.find((e) => e.type === type)?.actor;
    expect(actorOf('RunStarted')).toEqual({ kind: 'user', id: 'ci' });
    expect(actorOf('GateApproved')).toEqual({ kind: 'user', id: 'alice' });
  });

  it('downloads an export with the token in a header, never in a URL', async () => {
    await page.goto(`${stack.url}/runs`);
    await page.getByText(runName, { exact: true }).first().waitFor({ timeout: 15_000 });
    await page.getByRole('button', { name: 'Export' }).click();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('menuitem', { name: 'CSV' }).click()]);
    expect(download.suggestedFilename()).toMatch(/\.csv$/);
    const csv = readFileSync(await download.path(), 'utf8');
    expect(csv).toContain(runId);
    expect(csv).toContain(runName);
    const exportRequest = requests.find((r) => r.url.includes('/api/v1/runs/export'));
    expect(exportRequest?.authorization).toBe(`Bearer ${tokens.alice}`);
    // every REST call the page made once signed in carried the token; no URL ever held it
    const rest = requests.slice(signedInAt).filter((r) => new URL(r.url).pathname.startsWith('/api/v1/'));
    expect(rest.length).toBeGreaterThan(3);
    expect(rest.filter((r) => r.authorization !== `Bearer ${tokens.alice}`).map((r) => r.url)).toEqual([]);
    expect(requests.filter((r) => r.url.includes(tokens.alice))).toEqual([]);
  });

  it('keeps the token per tab: another tab signs in on its own', async () => {
    const other = await context.newPage();
    try {
      await other.goto(`${stack.url}/runs`);
      await other.getByRole('form', { name: 'Sign in' }).waitFor({ timeout: 15_000 });
    } finally {
      await other.close();
    }
  });

  it('signs out: the token is forgotten and the sign-in screen returns, also after a reload', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signInForm().waitFor({ timeout: 15_000 });
    await expect(page.evaluate<string | null>('sessionStorage.getItem("conclave.apiToken")')).resolves.toBeNull();
    await page.reload();
    await signInForm().waitFor({ timeout: 15_000 });
    await expect(page.getByText(runName, { exact: true }).count()).resolves.toBe(0);
  });
});
