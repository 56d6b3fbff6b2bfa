import type { Browser, Locator, Page } from 'playwright-core';
import type { ArtifactView, RunComparison, RunView } from '@conclave/contracts';
import { eventually, type Stack, type TestEnv } from '@conclave/testing';
import { formatDuration, formatTokens, formatUsd } from '../web/src/lib/format';
import { closeDashboard, openDashboard, screenshot } from './support/dashboard';
import { seriousViolations } from './support/axe';
import { jsonApi } from './support/rest';

/**
 * Comparing runs (issue 13 §4) on the whole stack: a run forked from its last phase is compared
 * with its origin through the run page's "Compare with origin", and two runs of other inputs
 * through the runs list's checkboxes; the page's per-phase figures are checked against the runs'
 * own views and GET /runs/compare, and its diff against the runs' artifacts. The runs list's
 * sort and the axe audit of /runs and /compare close it. Needs `web/dist` (cd web && npx vite build).
 */
describe('compare runs end to end', () => {
  let env: TestEnv;
  let stack: Stack;
  let browser: Browser;
  let page: Page;
  let origin: string;
  let other: string;
  let fork: string;
  const api = jsonApi(() => stack.url);
  const shot = (name: string) => screenshot(page, `compare-${name}`);
  const completed = (id: string) =>
    eventually(async () => {
      const run = await api<RunView>(`/runs/${id}`);
      return run.status === 200 && run.body.status === 'completed' ? run.body : null;
    }, `run ${id} completed`, 60_000);
  /** The runs list's row of a run; a timeout says what the page showed instead. */
  const listedRow = async (id: string) => {
    const row = page.locator(`tr[data-run-id="${id}"]`);
    await row.waitFor({ timeout: 15_000 }).catch(async (err: Error) => {
      throw new Error(`${err.message}\nthe page showed: ${(await page.textContent('main').catch(() => ''))?.slice(0, 600)}`);
    });
    return row;
  };
  const cellTexts = async (row: Locator) => (await row.locator('td').allInnerTexts()).map((t) => t.trim());

  beforeAll(async () => {
    ({ env, stack, browser, page } = await openDashboard({ envPrefix: 'e2ecmp', label: 'e2e-cmp' }));
    const tpl = await api<{ id: string }>('/templates', {
      method: 'POST',
      body: JSON.stringify({
        name: `compare-e2e-${env.id}`,
        inputs: { type: 'object', properties: { topic: { type: 'string' } }, required: ['topic'] },
        phases: [
          {
            id: 'draft',
            kind: 'llm',
            prompt: { user: 'Write three short paragraphs about {{inputs.topic}}' },
            candidates: [
              { provider: 'simulated', model: 'fast' },
              { provider: 'simulated', model: 'slow' },
            ],
            judge: { provider: 'simulated', model: 'sim-judge', criteria: ['clarity'] },
          },
          { id: 'summary', kind: 'llm', dependsOn: ['draft'], prompt: { user: 'Summarise the text about {{inputs.topic}}' }, candidates: [{ provider: 'simulated', model: 'sim' }] },
        ],
      }),
    });
    expect(tpl.status).toBe(201);
    const start = async (name: string, topic: string) => (await api<{ id: string }>('/runs', { method: 'POST', body: JSON.stringify({ templateId: tpl.body.id, name, inputs: { topic } }) })).body.id;
    origin = await start('compare origin', 'honey bees');
    other = await start('compare other', 'desert ants');
    await completed(origin);
    await completed(other);
  });
  afterAll(() => closeDashboard({ browser, stack, env }));

  it('forks a run and compares it with its origin through the run page’s button', async () => {
    await page.goto(`${stack.url}/runs/${origin}?phase=summary`);
    // the origin is no fork: no button
    await page.getByRole('button', { name: 'Fork from here' }).waitFor({ timeout: 15_000 });
    expect(await page.getByTestId('compare-with-origin').count()).toBe(0);
    await page.getByRole('button', { name: 'Fork from here' }).click();
    await page.waitForURL((url) => url.pathname.startsWith('/runs/') && !url.pathname.endsWith(origin), { timeout: 15_000 });
    fork = new URL(page.url()).pathname.split('/')[2]!;
    const forked = await completed(fork);
    expect(forked.origin).toEqual({ kind: 'fork', runId: origin });

    await page.getByRole('link', { name: 'Compare with origin' }).click();
    await page.waitForURL((url) => url.pathname === '/compare', { timeout: 15_000 });
    expect(new URL(page.url()).searchParams.get('runs')).toBe(`${origin},${fork}`);
    await page.locator('[data-testid="compare-phase"]').nth(1).waitFor({ timeout: 15_000 });
    await shot('fork-with-origin');

    const comparison = (await api<RunComparison>(`/runs/compare?runs=${origin},${fork}`)).body;
    const views = [(await api<RunView>(`/runs/${origin}`)).body, (await api<RunView>(`/runs/${fork}`)).body];
    // the endpoint's figures are the runs' own
    for (const [k, view] of views.entries()) {
      expect(comparison.runs[k]!.totals.costUsd).toBeCloseTo(view.costUsd, 10);
      expect(comparison.runs[k]!.totals.tokens).toEqual(view.tokens);
      for (const phase of view.phases) {
        const cell = comparison.phases.find((p) => p.id === phase.id)!.runs[k]!;
        expect([phase.id, cell.costUsd, cell.tokens, cell.status]).toEqual([phase.id, phase.costUsd, phase.tokens, phase.status]);
      }
    }
    // the page shows them, phase by phase
    const totals = page.getByTestId('compare-totals');
    expect(await cellTexts(totals.getByTestId('total-cost'))).toEqual(views.map((v) => formatUsd(v.costUsd)));
    expect(await cellTexts(totals.getByTestId('total-tokens'))).toEqual(views.map((v) => `${formatTokens(v.tokens.input)} in / ${formatTokens(v.tokens.output)} out`));
    for (const phaseId of ['draft', 'summary']) {
      const section = page.locator(`[data-testid="compare-phase"][data-phase-id="${phaseId}"]`);
      const cells = comparison.phases.find((p) => p.id === phaseId)!.runs.map((c) => c!);
      expect(await cellTexts(section.getByTestId('phase-cost'))).toEqual(cells.map((c) => formatUsd(c.costUsd)));
      expect(await cellTexts(section.getByTestId('phase-duration'))).toEqual(cells.map((c) => (c.durationMs === null ? '—' : formatDuration(c.durationMs))));
      expect(await cellTexts(section.getByTestId('phase-winner'))).toEqual(cells.map((c) => (c.winner ? `${c.winner.provider}/${c.winner.model}` : '—')));
    }
    // the origin's draft was judged between two models; the fork reused its output (same text, no new candidates)
    const draft = comparison.phases.find((p) => p.id === 'draft')!.runs;
    expect(draft[0]!.scores).toHaveLength(2);
    expect(draft[1]!.models).toEqual([]);
    expect(draft[1]!.output).toEqual(draft[0]!.output);
    await page.locator('[data-testid="compare-phase"][data-phase-id="draft"] [data-testid="output-diff"]', { hasText: '(identical)' }).waitFor();
  });

  it('compares the fork, its origin and another run picked with the runs list’s checkboxes, with diffs of their outputs', async () => {
    await page.goto(`${stack.url}/runs`);
    await listedRow(other);
    await listedRow(fork);
    const compare = page.getByRole('button', { name: /^Compare/ });
    expect(await compare.isDisabled()).toBe(true);
    // the fork is named after its origin: pick by row
    await page.locator(`tr[data-run-id="${origin}"]`).getByRole('checkbox', { name: 'Compare compare origin' }).check();
    expect(await compare.isDisabled()).toBe(true); // one run is nothing to compare
    await page.locator(`tr[data-run-id="${fork}"]`).getByRole('checkbox', { name: 'Compare compare origin' }).check();
    await page.locator(`tr[data-run-id="${other}"]`).getByRole('checkbox', { name: 'Compare compare other' }).check();
    await page.getByTestId('compare-selection').filter({ hasText: '3 of 4' }).waitFor();
    await shot('runs-picked');
    await compare.click();
    await page.waitForURL((url) => url.pathname === '/compare' && url.searchParams.get('runs') === `${origin},${fork},${other}`, { timeout: 15_000 });
    const draft = page.locator('[data-testid="compare-phase"][data-phase-id="draft"]');
    await draft.getByTestId('output-diff').nth(1).waitFor({ timeout: 15_000 });
    await shot('three-runs');

    // the same per-phase figures as the API's, for the three runs
    const comparison = (await api<RunComparison>(`/runs/compare?runs=${origin},${fork},${other}`)).body;
    const cells = comparison.phases.find((p) => p.id === 'draft')!.runs.map((c) => c!);
    expect(await cellTexts(draft.getByTestId('phase-cost'))).toEqual(cells.map((c) => formatUsd(c.costUsd)));
    expect(await cellTexts(draft.getByTestId('phase-winner'))).toEqual(cells.map((c) => (c.winner ? `${c.winner.provider}/${c.winner.model}` : '—')));
    expect(await cellTexts(draft.getByTestId('phase-tokens'))).toEqual(cells.map((c) => `${formatTokens(c.tokens.input)} in / ${formatTokens(c.tokens.output)} out`));

    // against the origin: the fork reused its draft (identical); the other run's removed lines are
    // the origin's winning output and its added lines the other run's
    const [forkDiff, otherDiff] = [draft.getByTestId('output-diff').nth(0), draft.getByTestId('output-diff').nth(1)];
    expect(await forkDiff.textContent()).toContain('(identical)');
    expect(await otherDiff.textContent()).toContain('compare origin → compare other');
    const artifactText = async (runId: string) => {
      const view = (await api<RunView>(`/runs/${runId}`)).body;
      const artifact = (await api<ArtifactView>(`/runs/${runId}/artifacts/${view.phases.find((p) => p.id === 'draft')!.artifactId}`)).body;
      const content = artifact.content as Record<string, unknown> | string;
      return typeof content === 'string' ? content : JSON.stringify(content);
    };
    const [before, after] = [await artifactText(origin), await artifactText(other)];
    const removed = (await otherDiff.locator('.diff-line--del .diff-line__text').allInnerTexts()).map((t) => t.trim()).filter(Boolean);
    const added = (await otherDiff.locator('.diff-line--add .diff-line__text').allInnerTexts()).map((t) => t.trim()).filter(Boolean);
    expect(removed.length).toBeGreaterThan(0);
    expect(added.length).toBeGreaterThan(0);
    for (const line of removed) expect(before.includes(JSON.stringify(line).slice(1, -1)) || before.includes(line)).toBe(true);
    for (const line of added) expect(after.includes(JSON.stringify(line).slice(1, -1)) || after.includes(line)).toBe(true);
    // the outputs themselves, side by side on demand
    await draft.getByText('Outputs side by side').click();
    await draft.locator('pre.compare-output').nth(2).waitFor(); // rendered once opened
    const outputs = (await draft.locator('pre.compare-output').allInnerTexts()).map((t) => t.trim());
    expect(outputs).toHaveLength(3);
    expect([before.includes(outputs[0]!.slice(0, 40)), outputs[1] === outputs[0], after.includes(outputs[2]!.slice(0, 40))]).toEqual([true, true, true]);
  });

  it('sorts the runs list on the server by a column header', async () => {
    await page.goto(`${stack.url}/runs`);
    await listedRow(fork);
    const ids = async () => page.locator('tbody tr[data-run-id]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-run-id')));
    await page.getByRole('button', { name: /^Started/ }).click(); // newest first → oldest first
    await page.waitForURL((url) => url.searchParams.get('sort') === 'started' && url.searchParams.get('order') === 'asc');
    const listed = (await api<{ items: { id: string }[] }>('/runs?sort=started&order=asc')).body.items.map((r) => r.id);
    await eventually(async () => JSON.stringify(await ids()) === JSON.stringify(listed), 'rows in the API’s order', 10_000);
    expect(await page.locator('th[aria-sort="ascending"]').textContent()).toContain('Started');
    // the first page is the oldest run: the origin, started first
    expect(listed[0]).toBe(origin);
  });

  it('has no serious accessibility violation on /runs and /compare (axe-core)', async () => {
    const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1400, height: 900 } });
    const audit = await context.newPage();
    const found: Record<string, unknown> = {};
    for (const path of ['/runs', `/compare?runs=${origin},${other}`, `/compare?runs=${origin}`]) {
      for (const theme of ['dark', 'light']) {
        await audit.goto(`${stack.url}${path}`);
        await audit.evaluate(`localStorage.setItem('conclave.theme', '${theme}'); document.documentElement.dataset.theme = '${theme}'`);
        await audit.waitForSelector('h1');
        await audit.waitForTimeout(800);
        const serious = await seriousViolations(audit);
        if (serious.length) found[`${path} (${theme})`] = serious;
      }
    }
    await context.close();
    expect(found).toEqual({});
  });
});
