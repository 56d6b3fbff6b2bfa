import type { Browser, Page } from 'playwright-core';
import type { RunView, TemplateView } from '@conclave/contracts';
import { eventually, type Stack, type TestEnv } from '@conclave/testing';
import { closeDashboard, openDashboard, screenshot } from './support/dashboard';
import { seriousViolations } from './support/axe';
import { jsonApi } from './support/rest';

/**
 * The dashboard as a user drives it, on the whole stack: a template built in the visual editor and
 * saved, a run of it followed live to completion, its candidates and verdict opened, and an axe-core
 * audit of the pages with no serious or critical violation. Needs `web/dist` (cd web && npx vite build).
 */
describe('dashboard end to end', () => {
  let env: TestEnv;
  let stack: Stack;
  let browser: Browser;
  let page: Page;
  let templateId: string;
  let runId: string;
  const api = jsonApi(() => stack.url);
  const shot = (name: string) => screenshot(page, `dashboard-${name}`);

  beforeAll(async () => {
    ({ env, stack, browser, page } = await openDashboard({ envPrefix: 'e2e', label: 'e2e-dash' }));
  });
  afterAll(() => closeDashboard({ browser, stack, env }));

  it('builds a template in the editor and saves it', async () => {
    await page.goto(`${stack.url}/templates/new`);
    await page.waitForSelector('[data-testid="editor-node"][data-phase-id="draft"]');
    const name = `editor-e2e-${env.id}`;
    await page.getByLabel('Name', { exact: true }).first().fill(name);
    // the starting phase: two simulated candidates and a judge
    await page.getByRole('button', { name: '+ Candidate' }).click();
    await page.getByLabel('Use an explicit judge').check();
    // a second phase after it (new phases depend on the selected one)
    await page.getByRole('button', { name: '+ llm' }).click();
    await page.waitForSelector('[data-testid="editor-node"][data-phase-id="llm1"]');
    await page.getByRole('status').filter({ hasText: /^Valid · 2 execution levels/ }).waitFor({ timeout: 15_000 });
    // a dependency on a phase that does not exist: the validator's located error lands on the node and the field
    const dependsOn = page.getByLabel(/^Depends on/);
    await dependsOn.fill('draft, ghost');
    await page.locator('[data-testid="editor-node"][data-phase-id="llm1"]:not([data-errors="0"])').waitFor({ timeout: 15_000 });
    await expect(dependsOn.getAttribute('aria-invalid')).resolves.toBe('true');
    await shot('editor-error');
    await dependsOn.fill('draft');
    // a schema error (an empty prompt) is located on its field too
    const prompt = page.getByLabel(/^User \(bindings/);
    await prompt.fill('');
    await eventually(async () => (await prompt.getAttribute('aria-invalid')) === 'true', 'the prompt field marked invalid', 15_000);
    await expect(page.locator('[data-testid="editor-node"][data-phase-id="llm1"]').getAttribute('data-errors')).resolves.not.toBe('0');
    await prompt.fill('Plan it');
    await shot('editor');
    await page.getByTestId('save-new-template').click();
    await page.waitForURL(/\/templates\/(?!new)[^/?]+\?/, { timeout: 15_000 });
    const saved = new URL(page.url());
    templateId = decodeURIComponent(saved.pathname.split('/')[2]!);
    // the editor lands on the template with the write's sequence: read it back the same way
    const { status, body } = await api<TemplateView>(`/templates/${encodeURIComponent(templateId)}?min_sequence=${saved.searchParams.get('min_sequence')}`);
    expect(status).toBe(200);
    expect(body.name).toBe(name);
    expect(body.template.phases.map((p) => [p.id, p.kind, p.dependsOn])).toEqual([
      ['draft', 'llm', []],
      ['llm1', 'llm', ['draft']],
    ]);
  });

  it('starts a run and watches it complete', async () => {
    const created = await api<{ id: string }>('/runs', { method: 'POST', body: JSON.stringify({ templateId, name: 'dashboard e2e run', inputs: { idea: 'a dashboard' } }) });
    expect(created.status).toBe(201);
    runId = created.body.id;
    await page.goto(`${stack.url}/runs/${runId}`);
    await eventually(async () => (await page.locator('[data-testid="phase-node"][data-status="completed"]').count()) === 2, 'two completed nodes', 60_000);
    await page.locator('.page-header .badge.status--completed').waitFor({ timeout: 15_000 });
    // the page folds socket events; the read model may apply the last one a moment later
    await eventually(async () => (await api<RunView>(`/runs/${runId}`)).body.status === 'completed', 'the read model says completed', 15_000);
    await shot('run-completed');
  });

  it('opens the candidates and the verdict', async () => {
    await page.locator('.phase-chips button').filter({ hasText: /^draft/ }).click();
    const panel = page.locator('.phase-panel');
    await panel.waitFor();
    await expect(panel.locator('article.candidate').count()).resolves.toBe(2);
    await panel.getByRole('heading', { name: 'Verdict' }).waitFor();
    await expect(panel.locator('.candidate.is-winner').count()).resolves.toBe(1);
    await shot('candidates-verdict');
    // a candidate's recorded conversation: the prompt and the model's answer
    const winner = panel.locator('.candidate.is-winner');
    await winner.getByText(/^Conversation \(\d+ messages recorded\)$/).click();
    await winner.getByText('Recorded transcript.').waitFor({ timeout: 15_000 });
    await shot('conversation');
  });

  it('forks from a phase and re-runs, each landing on the new run', async () => {
    await page.goto(`${stack.url}/runs/${runId}?phase=llm1`);
    await page.getByRole('button', { name: 'Fork from here' }).click();
    await page.waitForURL((url) => url.pathname.startsWith('/runs/') && !url.pathname.endsWith(runId), { timeout: 15_000 });
    const forkId = new URL(page.url()).pathname.split('/')[2]!;
    await page.locator('.page-header .badge.status--completed').waitFor({ timeout: 30_000 });
    // the page may show the badge before the fork's timeline is projected: read it once it is there
    const forked = await eventually(async () => {
      const fork = await api<{ items?: { type: string; data: { fromPhaseId?: string; sourceRunId?: string } }[] }>(`/runs/${forkId}/timeline`);
      return fork.body.items?.find((e) => e.type === 'RunForked')?.data;
    }, "the fork's RunForked in its timeline", 15_000);
    expect(forked).toMatchObject({ sourceRunId: runId, fromPhaseId: 'llm1' });

    await page.getByRole('button', { name: 'Re-run' }).click();
    await page.waitForURL((url) => url.pathname.startsWith('/runs/') && !url.pathname.endsWith(forkId), { timeout: 15_000 });
    await page.locator('.page-header .badge.status--completed').waitFor({ timeout: 30_000 });
  });

  it('approves a gate from the run page, with a comment', async () => {
    const sim = { provider: 'simulated', model: 'sim' };
    const tpl = await api<{ id: string }>('/templates', {
      method: 'POST',
      body: JSON.stringify({
        name: `gate-e2e-${env.id}`,
        phases: [
          { id: 'draft', kind: 'llm', prompt: { user: 'Draft it' }, candidates: [sim] },
          { id: 'review', kind: 'gate', dependsOn: ['draft'], message: 'Ship the draft?' },
          { id: 'final', kind: 'llm', dependsOn: ['review'], prompt: { user: 'Finish it' }, candidates: [sim] },
        ],
      }),
    });
    expect(tpl.status).toBe(201);
    const run = await api<{ id: string }>('/runs', { method: 'POST', body: JSON.stringify({ templateId: tpl.body.id, name: 'gate e2e', inputs: {} }) });
    expect(run.status).toBe(201);
    await page.goto(`${stack.url}/runs/${run.body.id}`);
    const gate = page.getByRole('form', { name: /Gate review/ });
    await gate.waitFor({ timeout: 30_000 });
    await expect(gate.textContent()).resolves.toContain('Ship the draft?');
    await shot('gate-waiting');
    await gate.getByLabel('Comment (optional)').fill('looks good');
    await gate.getByRole('button', { name: 'Approve' }).click();
    await page.locator('.page-header .badge.status--completed').waitFor({ timeout: 30_000 });
    const timeline = await api<{ items: { type: string; data: { comment?: string } }[] }>(`/runs/${run.body.id}/timeline`);
    expect(timeline.body.items.find((e) => e.type === 'GateApproved')?.data.comment).toBe('looks good');
  });

  it('answers an interview from the question form', async () => {
    const tpl = await api<{ id: string }>('/templates', {
      method: 'POST',
      body: JSON.stringify({
        name: `interview-e2e-${env.id}`,
        phases: [
          { id: 'ask', kind: 'interview', prompt: { user: 'What do you need to know?' }, candidates: [{ provider: 'simulated', model: 'sim' }], maxQuestions: 2 },
          { id: 'use', kind: 'llm', dependsOn: ['ask'], prompt: { user: 'Use the answers' }, candidates: [{ provider: 'simulated', model: 'sim' }] },
        ],
      }),
    });
    expect(tpl.status).toBe(201);
    const run = await api<{ id: string }>('/runs', { method: 'POST', body: JSON.stringify({ templateId: tpl.body.id, name: 'interview e2e', inputs: {} }) });
    await page.goto(`${stack.url}/runs/${run.body.id}`);
    const form = page.getByRole('form', { name: /Questions from ask/ });
    await form.waitFor({ timeout: 30_000 });
    const boxes = form.locator('textarea');
    for (let i = 0; i < (await boxes.count()); i++) await boxes.nth(i).fill(`answer ${i + 1}`);
    await shot('questions');
    await form.getByRole('button', { name: 'Submit answers' }).click();
    await page.locator('.page-header .badge.status--completed').waitFor({ timeout: 30_000 });
  });

  it('pauses and resumes a run', async () => {
    const tpl = await api<{ id: string }>('/templates', {
      method: 'POST',
      body: JSON.stringify({
        name: `pause-e2e-${env.id}`,
        phases: [
          { id: 'slow', kind: 'llm', prompt: { user: 'Take your time' }, candidates: [{ provider: 'simulated', model: 'sim', options: { latencyMs: 3000 } }] },
          { id: 'next', kind: 'llm', dependsOn: ['slow'], prompt: { user: 'Then this' }, candidates: [{ provider: 'simulated', model: 'sim' }] },
        ],
      }),
    });
    const run = await api<{ id: string }>('/runs', { method: 'POST', body: JSON.stringify({ templateId: tpl.body.id, name: 'pause e2e', inputs: {} }) });
    await page.goto(`${stack.url}/runs/${run.body.id}`);
    await page.getByRole('button', { name: 'Pause', exact: true }).click();
    await page.locator('.page-header .badge.status--paused').waitFor({ timeout: 15_000 });
    await page.getByText(/Paused \(by a user\)/).waitFor();
    await shot('paused');
    await page.getByRole('button', { name: 'Resume', exact: true }).click();
    await page.locator('.page-header .badge.status--completed').waitFor({ timeout: 30_000 });
  });

  /** A template and a run of it, through REST; the run is opened right away (no min_sequence: the page copes). */
  const startRunOf = async (name: string, phases: unknown[]) => {
    const tpl = await api<{ id: string }>('/templates', { method: 'POST', body: JSON.stringify({ name: `${name}-${env.id}`, phases }) });
    expect(tpl.status).toBe(201);
    const run = await api<{ id: string }>('/runs', { method: 'POST', body: JSON.stringify({ templateId: tpl.body.id, name, inputs: {} }) });
    expect(run.status).toBe(201);
    return run.body.id;
  };
  const phaseOf = async (id: string, phaseId: string) => (await api<RunView>(`/runs/${id}`)).body.phases.find((p) => p.id === phaseId)!;
  /** The page folds socket events ahead of the projector: the read model may show a status a moment later. */
  const phaseOnceCompleted = (id: string, phaseId: string) =>
    eventually(async () => {
      const p = await phaseOf(id, phaseId);
      return p.status === 'completed' && p;
    }, `the read model to show ${phaseId} completed`, 15_000);
  const header = (status: string) => page.locator(`.page-header .badge.status--${status}`);

  it('retries a failed phase on another model chosen in the model picker', async () => {
    const id = await startRunOf('retry e2e', [
      { id: 'ok', kind: 'llm', prompt: { user: 'Fine' }, candidates: [{ provider: 'simulated', model: 'sim-fast' }] },
      { id: 'broken', kind: 'llm', prompt: { user: 'Broken' }, candidates: [{ provider: 'no-such-provider', model: 'x' }] },
    ]);
    await page.goto(`${stack.url}/runs/${id}?phase=broken`);
    await header('failed').waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: 'Retry…' }).click();
    const dialog = page.getByRole('dialog', { name: /Retry phase broken/ });
    await dialog.getByRole('combobox', { name: 'Provider' }).click();
    await page.getByRole('option', { name: 'simulated (simulated)' }).click();
    await dialog.getByRole('combobox', { name: 'Model' }).click();
    await page.getByRole('option', { name: 'sim-fast' }).click();
    await shot('retry-model-picker');
    await dialog.getByRole('button', { name: 'Retry phase' }).click();
    await header('completed').waitFor({ timeout: 30_000 });
    const broken = await phaseOnceCompleted(id, 'broken');
    expect(broken.attempt).toBe(2);
    expect(broken.candidates.map((c) => [c.provider, c.model])).toEqual([['simulated', 'sim-fast']]);
  });

  it('accepts a rejected output after editing it', async () => {
    // the simulated provider does not steer `pattern`: its output fails this schema (the worker
    // reports output_invalid, the phase fails) and an edited output is accepted in its place
    const schema = { type: 'object', required: ['code'], properties: { code: { type: 'string', pattern: '^[0-9]{3}$' } } };
    const id = await startRunOf('accept e2e', [{ id: 'code', kind: 'llm', prompt: { user: 'A three-digit code' }, candidates: [{ provider: 'simulated', model: 'sim' }], output: { schema } }]);
    await page.goto(`${stack.url}/runs/${id}?phase=code`);
    // the phase panel shows the raw answer beside the schema it failed, with the errors
    const rejection = page.getByRole('region', { name: /Why the output of .* was rejected/ });
    await rejection.waitFor({ timeout: 30_000 });
    const why = await rejection.textContent();
    expect(why).toContain('must match pattern');
    expect(why).toContain('^[0-9]{3}$');
    await page.getByRole('button', { name: 'Accept output…' }).click({ timeout: 30_000 });
    const dialog = page.getByRole('dialog', { name: /Accept the output of code/ });
    await expect(dialog.textContent()).resolves.toContain('must match pattern');
    await dialog.getByLabel(/^Output \(JSON/).fill('{ "code": "123" }');
    await shot('accept-edited');
    await dialog.getByRole('button', { name: 'Accept edited output' }).click();
    await header('completed').waitFor({ timeout: 30_000 });
    const phase = await phaseOnceCompleted(id, 'code');
    const artifact = await api<{ content: unknown }>(`/runs/${id}/artifacts/${phase.artifactId}`);
    expect(artifact.body.content).toEqual({ code: '123' });
  });

  it('rolls back to a checkpoint', async () => {
    const sim = [{ provider: 'simulated', model: 'sim' }];
    const id = await startRunOf('rollback e2e', [
      { id: 'first', kind: 'llm', prompt: { user: 'One' }, candidates: sim },
      { id: 'second', kind: 'llm', dependsOn: ['first'], prompt: { user: 'Two' }, candidates: sim },
    ]);
    await page.goto(`${stack.url}/runs/${id}`);
    await header('completed').waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: 'Roll back…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Roll back to a checkpoint' });
    await dialog.getByRole('radio', { name: /phase first/ }).check();
    await shot('rollback');
    await dialog.getByRole('button', { name: 'Roll back' }).click();
    await eventually(async () => (await phaseOf(id, 'second')).attempt === 2, 'the second phase to run again', 30_000);
    await header('completed').waitFor({ timeout: 30_000 });
    await eventually(async () => (await page.locator('[data-testid="phase-node"][data-status="completed"]').count()) === 2, 'both nodes completed again', 15_000);
    expect([(await phaseOf(id, 'first')).attempt, (await phaseOf(id, 'second')).attempt]).toEqual([1, 2]);
  });

  it('archives a run and unarchives it', async () => {
    const listed = async (query: string) => (await api<{ items: { id: string }[] }>(`/runs${query}`)).body.items.some((r) => r.id === runId);
    await page.goto(`${stack.url}/runs/${runId}`);
    await page.getByRole('button', { name: 'Archive', exact: true }).click();
    await page.getByTestId('archived-badge').waitFor({ timeout: 15_000 });
    expect(await listed('')).toBe(false);
    expect(await listed('?archived=true')).toBe(true);
    // the runs list hides it unless the Archived filter asks for it
    await page.goto(`${stack.url}/runs`);
    await page.getByRole('table').waitFor({ timeout: 15_000 });
    expect(await page.locator(`tr[data-run-id="${runId}"]`).count()).toBe(0);
    await page.getByRole('combobox', { name: 'Archived' }).click();
    await page.getByRole('option', { name: 'Only archived' }).click();
    await page.locator(`tr[data-run-id="${runId}"]`).waitFor({ timeout: 15_000 });
    await shot('runs-archived');
    await page.locator(`tr[data-run-id="${runId}"] a`).first().click();
    await page.getByRole('button', { name: 'Unarchive' }).click();
    await page.getByRole('button', { name: 'Archive', exact: true }).waitFor({ timeout: 15_000 });
    expect(await page.getByTestId('archived-badge').count()).toBe(0);
    expect(await listed('')).toBe(true);
  });

  it('lists the providers and tests the simulated one', async () => {
    await page.goto(`${stack.url}/providers`);
    const card = page.getByRole('article', { name: 'Provider simulated' });
    await card.waitFor({ timeout: 15_000 });
    await card.getByRole('button', { name: 'Test connection' }).click();
    await card.getByText(/^Connected/).waitFor({ timeout: 15_000 });
    await shot('providers');
  });

  it('shows the worker fleet', async () => {
    await page.goto(`${stack.url}/fleet`);
    await eventually(async () => (await page.getByTestId('worker-row').count()) > 0, 'a worker row', 20_000);
    await shot('fleet');
    await page.goto(`${stack.url}/costs`);
    await page.getByRole('heading', { name: /Spend by provider/ }).waitFor();
    await shot('costs');
    await page.goto(`${stack.url}/events`);
    await page.getByRole('table').waitFor({ timeout: 15_000 });
    await shot('events');
  });

  it('has no serious accessibility violation (axe-core)', async () => {
    // axe is injected as an inline script, which the gateway's CSP (script-src 'self') refuses.
    const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1400, height: 900 } });
    page = await context.newPage();
    const pages = [`/runs/${runId}?phase=draft`, '/runs', '/templates', `/templates/${encodeURIComponent(templateId)}`, '/templates/new', '/providers', '/costs', '/fleet', '/events'];
    const found: Record<string, unknown> = {};
    for (const [path, theme] of pages.flatMap((p) => [[p, 'dark'], [p, 'light']] as const)) {
      await page.goto(`${stack.url}${path}`);
      await page.evaluate(`localStorage.setItem('conclave.theme', '${theme}'); document.documentElement.dataset.theme = '${theme}'`);
      await page.waitForSelector('h1');
      await page.waitForTimeout(800);
      const serious = await seriousViolations(page);
      if (serious.length) found[`${path} (${theme})`] = serious;
    }
    // the Radix pieces while open: a modal dialog with a radio list, a select's listbox, a menu
    await page.goto(`${stack.url}/runs/${runId}`);
    await page.getByRole('button', { name: 'Roll back…' }).click();
    await page.getByRole('dialog', { name: 'Roll back to a checkpoint' }).getByRole('radio').first().waitFor();
    const dialog = await seriousViolations(page);
    if (dialog.length) found['rollback dialog'] = dialog;
    await page.goto(`${stack.url}/runs`);
    await page.getByRole('combobox', { name: 'Status' }).click();
    await page.getByRole('listbox').waitFor();
    const listbox = await seriousViolations(page);
    if (listbox.length) found['status select'] = listbox;
    await page.keyboard.press('Escape');
    // the page behind an open popup is inert (web/src/ui/inert-background.ts), and live again after
    const focusBack = "document.activeElement?.getAttribute('role') === 'combobox' && !document.getElementById('root').inert";
    await eventually(() => page.evaluate<boolean>(focusBack), 'focus back on the select with the page live again', 5_000);
    await page.getByRole('button', { name: 'Export' }).click();
    await page.getByRole('menu').waitFor();
    const menu = await seriousViolations(page);
    if (menu.length) found['export menu'] = menu;
    expect(found).toEqual({});
  });
});
