import { mkdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, LiveMessage, RunView, ServerToClientEvents } from '@conclave/contracts';
import { createTestEnv, eventually, REPO_ROOT, startStack, type Stack, type TestEnv } from '@conclave/testing';
import { launchChromium } from './support/browser';
import { git } from './support/git';

/**
 * The dashboard's side of issue 10 in Chromium, on the whole stack with a git repository under
 * WORKSPACE_ROOTS: the start form's repository picker (dirty badge, base ref, the 422 naming the
 * roots), the run header (repository, base, branch, HEAD moving as the agent phase's commit lands,
 * the patch download), the agent phase's commit and candidates' diffs with the winner marked, the
 * runs list's files-changed column, and an axe audit of those pages. Needs `web/dist`.
 */
const SCREENSHOTS = path.join(REPO_ROOT, 'test-output', 'screenshots');
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');


/** axe in both themes (the page as it is; the theme switched in place). */
async function seriousViolations(page: Page): Promise<Record<string, { id: string; targets: string[] }[]>> {
  await page.addScriptTag({ content: AXE });
  const found: Record<string, { id: string; targets: string[] }[]> = {};
  for (const theme of ['dark', 'light']) {
    await page.evaluate(`document.documentElement.dataset.theme = '${theme}'`);
    const serious = await themeViolations(page);
    if (serious.length) found[theme] = serious;
  }
  return found;
}

async function themeViolations(page: Page): Promise<{ id: string; targets: string[] }[]> {
  const violations = await page.evaluate<{ id: string; impact: string | null; nodes: { target: string[] }[] }[]>('axe.run(document).then((r) => r.violations)');
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => ({ id: v.id, targets: v.nodes.slice(0, 5).map((n) => n.target.join(' ')) }));
}

describe('dashboard on a user repository', () => {
  let env: TestEnv;
  let stack: Stack;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let base: string;
  let roots: string;
  let repo: string;
  let baseCommit: string;
  let templateId: string;
  let runId: string;

  const api = async <T>(p: string, init?: RequestInit): Promise<{ status: number; body: T; text: string; type: string | null }> => {
    const res = await fetch(`${stack.url}/api/v1${p}`, { ...init, headers: { 'content-type': 'application/json' } });
    const text = await res.text();
    let body: unknown = undefined;
    try {
      body = JSON.parse(text);
    } catch {
      /* a patch */
    }
    return { status: res.status, body: body as T, text, type: res.headers.get('content-type') };
  };
  const shot = (name: string) => page.screenshot({ path: path.join(SCREENSHOTS, `workspace-${name}.png`), fullPage: true });

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    base = await realpath(await mkdtemp(path.join(tmpdir(), 'conclave-ws-dash-')));
    roots = path.join(base, 'roots');
    repo = path.join(roots, 'app');
    await mkdir(repo, { recursive: true });
    git(repo, 'init', '--quiet');
    await writeFile(path.join(repo, 'app.txt'), 'one\ntwo\nthree\n');
    git(repo, 'add', '--all');
    git(repo, 'commit', '--quiet', '-m', 'initial');
    baseCommit = git(repo, 'rev-parse', 'HEAD');
    await writeFile(path.join(repo, 'notes.txt'), 'uncommitted\n'); // dirty: the picker and the header say so
    env = await createTestEnv('e2e');
    stack = await startStack(env, { label: `e2e-ws-dash-${env.id}`, extraEnv: { WORKSPACE_ROOTS: roots, WORKSPACES_ROOT: path.join(base, 'conclave') } });
    browser = await launchChromium();
    // axe is injected as an inline script, which the gateway's CSP (script-src 'self') refuses
    context = await browser.newContext({ bypassCSP: true, viewport: { width: 1400, height: 900 } });
    page = await context.newPage();
    const sim = (model: string) => ({ provider: 'simulated', model, options: { latencyMs: 20 } });
    const tpl = await api<{ id: string }>('/templates', {
      method: 'POST',
      body: JSON.stringify({
        name: `ws-dash-${env.id}`,
        phases: [
          {
            id: 'implement',
            kind: 'agent',
            prompt: { user: 'Improve the app. file: app.txt' },
            candidates: [sim('sim-a'), sim('sim-b')],
            judge: { provider: 'simulated', model: 'sim-judge' },
            tools: ['read_file', 'write_file', 'list_files'],
          },
        ],
      }),
    });
    expect(tpl.status).toBe(201);
    templateId = tpl.body.id;
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    await env?.dispose();
    if (base) await rm(base, { recursive: true, force: true });
  });

  it('lists the repository in the start form, refuses an unknown base ref with the roots, and starts a run on it', async () => {
    await page.goto(`${stack.url}/templates/${encodeURIComponent(templateId)}`);
    const picker = page.getByRole('group', { name: 'Repository' });
    await picker.waitFor({ timeout: 15_000 });
    await expect(picker.getByRole('radio', { name: /Fresh repository \(none\)/ }).isChecked()).resolves.toBe(true);
    const option = picker.getByRole('radio', { name: /^app/ });
    const text = (await picker.locator('li').filter({ hasText: 'app' }).last().textContent()) ?? '';
    expect(text).toContain(`${roots}/app`);
    expect(text).toContain('main');
    expect(text).toContain(baseCommit.slice(0, 7));
    expect(text).toContain('uncommitted changes not included');
    await option.check();
    const baseRef = page.getByLabel(/^Base ref/);
    await baseRef.fill('no-such-ref');
    await page.getByRole('button', { name: /^Start run/ }).click();
    const alert = page.getByRole('alert').filter({ hasText: 'The run was not started' });
    await alert.waitFor({ timeout: 15_000 });
    const why = (await alert.textContent()) ?? '';
    expect(why).toContain('no-such-ref');
    expect(why).toContain(roots);
    await shot('start-refused');
    const axe = await seriousViolations(page);
    expect(axe).toEqual({});

    await baseRef.fill('main');
    await page.getByRole('button', { name: /^Start run/ }).click();
    await page.waitForURL(/\/runs\/[^/?]+/, { timeout: 15_000 });
    runId = decodeURIComponent(new URL(page.url()).pathname.split('/')[2]!);
  });

  it('shows repository, base, branch and HEAD in the run header, HEAD moving to the phase commit, and the patch button', async () => {
    const bar = page.getByRole('region', { name: 'Repository' });
    await bar.waitFor({ timeout: 15_000 });
    const header = (await bar.textContent()) ?? '';
    expect(header).toContain('app');
    expect(header).toContain(`${roots}/app`);
    expect(header).toContain(`main ${baseCommit.slice(0, 7)}`);
    expect(header).toContain(`conclave/${runId}`);
    expect(header).toContain('uncommitted changes when the run started');
    await page.locator('.page-header .badge.status--completed').waitFor({ timeout: 90_000 });
    const run = await eventually(async () => {
      const r = await api<RunView>(`/runs/${runId}`);
      return r.body.status === 'completed' && r.body.phases[0]!.commit && r.body;
    }, 'the read model to show the completed run with its commit', 15_000);
    const head = run.workspace!.head;
    expect(head).not.toBe(baseCommit);
    expect(head).toBe(git(repo, 'rev-parse', `conclave/${runId}`));
    await eventually(async () => (await page.getByTestId('workspace-head').textContent())?.trim() === head.slice(0, 7), 'the header HEAD at the phase commit', 15_000);
    // a button: the dashboard fetches the patch (with its token, when the gateway has them) and saves the blob
    const patchButton = bar.getByRole('button', { name: 'Download patch' });
    const patch = await api<unknown>(`/runs/${encodeURIComponent(runId)}/patch`);
    expect(patch.status).toBe(200);
    expect(patch.type).toContain('text/x-patch');
    expect(patch.text).toMatch(/^From [0-9a-f]{40} /m);
    const [download] = await Promise.all([page.waitForEvent('download'), patchButton.click()]);
    expect(download.suggestedFilename()).toBe(`conclave-${runId}.patch`);
    expect(readFileSync(await download.path(), 'utf8')).toBe(patch.text);
    await shot('run-header');
  });

  it("opens the agent phase: its commit and both candidates' diffs, the winner marked", async () => {
    await page.locator('.phase-chips button').filter({ hasText: /^implement/ }).click();
    const commit = page.getByTestId('phase-commit');
    await commit.waitFor({ timeout: 15_000 });
    const run = (await api<RunView>(`/runs/${runId}`)).body;
    const phase = run.phases[0]!;
    expect(await commit.textContent()).toContain(phase.commit!.sha.slice(0, 7));
    await commit.getByText('app.txt').waitFor();
    const diffs = page.locator('.candidate-diffs article');
    await expect(diffs.count()).resolves.toBe(2);
    const winner = page.locator('.candidate-diffs article.is-winner');
    await expect(winner.count()).resolves.toBe(1);
    await expect(winner.getAttribute('data-candidate-id')).resolves.toBe(phase.commit!.candidateId);
    // each candidate's own edit, the loser's included
    for (const c of phase.candidates) await page.locator(`.candidate-diffs article[data-candidate-id="${c.id}"]`).getByText(`edited by ${c.model}`, { exact: false }).first().waitFor({ timeout: 15_000 });
    await shot('agent-phase');
    const axe = await seriousViolations(page);
    expect(axe).toEqual({});
  });

  it('shows the files changed in the runs list', async () => {
    await page.goto(`${stack.url}/runs`);
    const row = page.locator(`tr[data-run-id="${runId}"]`);
    await row.waitFor({ timeout: 15_000 });
    const headers = await page.locator('thead th').allTextContents();
    const column = headers.findIndex((h) => h.trim() === 'Files changed');
    expect(column).toBeGreaterThanOrEqual(0);
    await expect(row.locator('td, th').nth(column).textContent()).resolves.toBe('1');
  });

  it("shows a cancelled agent's partial work on a fresh repository: diff, files and tool calls", async () => {
    const slow = await api<{ id: string }>('/templates', {
      method: 'POST',
      body: JSON.stringify({
        name: `ws-dash-slow-${env.id}`,
        phases: [
          {
            id: 'implement',
            kind: 'agent',
            prompt: { user: 'Improve the app. file: app.txt' },
            candidates: [{ provider: 'simulated', model: 'sim-slow', options: { latencyMs: 30_000 } }],
            judge: { provider: 'simulated', model: 'sim-judge' },
            tools: ['read_file', 'write_file', 'list_files'],
          },
        ],
      }),
    });
    expect(slow.status).toBe(201);
    // the agent's tool calls are live messages (not replayed to a late page): a socket of the test's own sees them all
    const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io(stack.url, { transports: ['websocket'] });
    const calls: string[] = [];
    socket.on('live', (m: LiveMessage) => {
      if (m.kind === 'tool_call') calls.push(m.tool);
    });
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    let id: string;
    try {
      const created = await api<{ id: string; sequence: number }>('/runs', { method: 'POST', body: JSON.stringify({ templateId: slow.body.id, inputs: {} }) });
      expect(created.status).toBe(201);
      id = created.body.id;
      await socket.timeout(5_000).emitWithAck('subscribe', { room: `run:${id}` });
      await page.goto(`${stack.url}/runs/${encodeURIComponent(id)}?phase=implement&min_sequence=${created.body.sequence}`);
      const bar = page.getByRole('region', { name: 'Repository' });
      await bar.getByText('Fresh repository (the run’s own)').waitFor({ timeout: 15_000 });
      // cancel once the agent has written
      await eventually(async () => calls.includes('write_file'), 'the agent to write', 30_000);
    } finally {
      socket.close();
    }
    await page.getByRole('button', { name: 'Cancel run…' }).click();
    await page.getByRole('dialog', { name: 'Cancel the run' }).getByRole('button', { name: 'Cancel the run' }).click();
    await page.locator('.page-header .badge.status--cancelled').waitFor({ timeout: 15_000 });
    const work = page.getByTestId('partial-work');
    await work.waitFor({ timeout: 30_000 });
    await work.getByText('partial work: cancelled').waitFor();
    await work.getByText('edited by sim-slow', { exact: false }).first().waitFor();
    expect(await work.getByRole('list', { name: 'Changed files' }).textContent()).toContain('app.txt');
    expect(await work.locator('.tool-calls').textContent()).toContain('write_file');
    await shot('partial-work');
  });
});
