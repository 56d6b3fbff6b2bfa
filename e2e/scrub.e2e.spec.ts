import { writeFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import type { SocketEvent, TimelineEntry } from '@conclave/contracts';
import { eventually, type Stack, type TestEnv } from '@conclave/testing';
import { seriousViolations } from './support/axe';
import { closeDashboard, openDashboard, screenshot } from './support/dashboard';
import { restClient } from './support/rest';

/**
 * Scrubbing a run through time (issue 15 §4), in Chromium on the whole stack: a run with a judged
 * phase, a gate, two parallel phases and a judged last phase. At its last event the page shows what
 * the live page shows (the fold's equality with the gateway's view is fold.unit.spec.ts's, on a run
 * recorded by this suite); `/runs/:id?at=<sequence>` shows the DAG as it was at three chosen events; playback moves forward and stops at the end; the
 * slider answers the arrow keys; "fork from here" at a phase boundary opens the fork's page; axe
 * finds no serious violation. Needs `web/dist` (node scripts/build.mjs).
 *
 * SCRUB_FIXTURE=<path> also writes the run's timeline and view there (how
 * web/src/run/scrub/fixtures/gated-run.json was recorded).
 */
describe('scrubbing a run through time', () => {
  let env: TestEnv;
  let stack: Stack;
  let browser: Browser;
  let page: Page;
  let runId: string;
  let events: SocketEvent[];
  const { api, post, createTemplate, startRun, until } = restClient(() => stack.url);
  const shot = (name: string) => screenshot(page, `scrub-${name}`);
  const PHASES = ['draft', 'review', 'left', 'right', 'merge'];

  /** The sequence of the first event of `type` (for `phaseId`). */
  const sequenceOf = (type: string, phaseId?: string) => {
    const found = events.find((e) => e.type === type && (phaseId === undefined || (e.data as { phaseId?: string }).phaseId === phaseId));
    if (!found) throw new Error(`no ${type}${phaseId ? ` of ${phaseId}` : ''} in the timeline`);
    return found.sequence;
  };
  /** The DAG's node statuses as the page draws them, by phase id. */
  const nodeStatuses = async () => {
    const nodes = page.getByTestId('phase-node');
    await eventually(async () => (await nodes.count()) === PHASES.length, 'every phase node drawn', 15_000);
    const out: Record<string, string | null> = {};
    for (const node of await nodes.all()) out[(await node.getAttribute('data-phase-id'))!] = await node.getAttribute('data-status');
    return out;
  };
  const atParam = () => Number(new URL(page.url()).searchParams.get('at'));

  beforeAll(async () => {
    // axe is injected as an inline script, which the gateway's CSP (script-src 'self') refuses
    ({ env, stack, browser, page } = await openDashboard({ envPrefix: 'scrub', label: 'e2e-scrub', context: { bypassCSP: true } }));
    const sim = (model: string, latencyMs: number) => ({ provider: 'simulated', model, options: { latencyMs } });
    const templateId = await createTemplate({
      name: `scrub-${env.id}`,
      description: 'a judged phase, a gate, two parallel phases, a judged merge',
      inputs: { type: 'object', properties: { topic: { type: 'string' } }, required: ['topic'] },
      phases: [
        {
          id: 'draft',
          kind: 'llm',
          dependsOn: [],
          prompt: { user: 'Draft {{inputs.topic}}' },
          candidates: [sim('sim-a', 150), sim('sim-b', 250)],
          judge: { provider: 'simulated', model: 'sim-judge', criteria: ['clarity'] },
        },
        { id: 'review', kind: 'gate', dependsOn: ['draft'], message: 'Go on?' },
        { id: 'left', kind: 'llm', dependsOn: ['review'], prompt: { user: 'Left of {{inputs.topic}}' }, candidates: [sim('sim-l', 200)] },
        { id: 'right', kind: 'llm', dependsOn: ['review'], prompt: { user: 'Right of {{inputs.topic}}' }, candidates: [sim('sim-r', 400)] },
        {
          id: 'merge',
          kind: 'llm',
          dependsOn: ['left', 'right'],
          prompt: { user: 'Merge {{inputs.topic}}' },
          candidates: [sim('sim-a', 150), sim('sim-c', 200)],
          judge: { provider: 'simulated', model: 'sim-judge', criteria: ['clarity', 'depth'] },
        },
      ],
    });
    runId = await startRun(templateId, { inputs: { topic: 'tides' } });
    await until(runId, 'the gate to open', (r) => r.status === 'waiting');
    expect((await post(`/runs/${runId}/phases/review/approve`, { comment: 'go' })).status).toBe(202);
    const done = await until(runId, 'the run to complete', (r) => r.status === 'completed', 60_000);
    const timeline = await (await api(`/runs/${runId}/timeline?limit=5000&min_sequence=${done.sequence}`)).json<{ items: TimelineEntry[] }>();
    events = timeline.items.map((e) => ({ sequence: e.sequence, type: e.type, runId, occurredAt: e.occurredAt, data: e.data }));
    if (process.env.SCRUB_FIXTURE) writeFileSync(process.env.SCRUB_FIXTURE, `${JSON.stringify({ timeline: timeline.items, view: done }, null, 1)}\n`);
  });
  afterAll(() => closeDashboard({ browser, stack, env }));

  it('shows at the last event what the live page shows', async () => {
    /** What the page says about the run: the header's figures, the spend by model, the phase chips (name and status), the DAG's statuses. */
    const pageState = async () => ({
      stats: await page.locator('.page-header .stats').innerText(),
      spend: await page.getByTestId('run-usage-table').innerText({ timeout: 10_000 }),
      chips: await page.getByRole('list', { name: 'Phases' }).getByRole('button').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label'))),
      nodes: await nodeStatuses(),
    });
    await page.goto(`${stack.url}/runs/${runId}`);
    const mode = page.getByTestId('scrub-mode');
    await eventually(async () => (await mode.textContent()) === `Live · ${events.length} events`, 'the live page with the whole timeline', 10_000);
    const live = await pageState();
    await page.goto(`${stack.url}/runs/${runId}?at=${events[events.length - 1]!.sequence}`);
    await page.getByTestId('scrub-status').waitFor();
    expect(await pageState()).toEqual(live);
    expect(live.nodes).toEqual(Object.fromEntries(PHASES.map((p) => [p, 'completed'])));
  });

  it('shows the DAG as it was at three chosen events (deep links)', async () => {
    const cases: [string, number, Record<string, string>][] = [
      ['draft-started', sequenceOf('PhaseStarted', 'draft'), { draft: 'running', review: 'pending', left: 'pending', right: 'pending', merge: 'pending' }],
      ['gate-open', sequenceOf('GateOpened', 'review'), { draft: 'completed', review: 'waiting', left: 'pending', right: 'pending', merge: 'pending' }],
      ['merge-started', sequenceOf('PhaseStarted', 'merge'), { draft: 'completed', review: 'completed', left: 'completed', right: 'completed', merge: 'running' }],
    ];
    for (const [name, sequence, statuses] of cases) {
      await page.goto(`${stack.url}/runs/${runId}?at=${sequence}`);
      await expect(nodeStatuses()).resolves.toEqual(statuses);
      const status = page.getByTestId('scrub-status');
      await expect(status.textContent()).resolves.toContain(`#${sequence}`);
      // the run controls act on the run as it is now: not over its past
      await expect(page.getByRole('toolbar', { name: 'Run controls' }).count()).resolves.toBe(0);
      await shot(name);
    }
    // the slider says where it stands, for a screen reader too
    const slider = page.getByRole('slider', { name: 'Run sequence' });
    await expect(slider.getAttribute('aria-valuetext')).resolves.toMatch(/^event \d+ of \d+ · PhaseStarted · merge$/);

    // back to live: no `at`, the run as it is
    await page.getByRole('button', { name: 'Back to live' }).click();
    await eventually(async () => !new URL(page.url()).searchParams.has('at'), 'the URL to drop ?at', 5_000);
    await expect(nodeStatuses()).resolves.toEqual(Object.fromEntries(PHASES.map((p) => [p, 'completed'])));
    await eventually(async () => (await page.getByTestId('scrub-mode').textContent()) === `Live · ${events.length} events`, 'the bar to say live', 5_000);
  });

  it('steps with the arrow keys and plays forward to the end, the URL following', async () => {
    const gate = sequenceOf('GateOpened', 'review');
    await page.goto(`${stack.url}/runs/${runId}?at=${gate}`);
    const slider = page.getByRole('slider', { name: 'Run sequence' });
    await slider.focus();
    const index = events.findIndex((e) => e.sequence === gate);
    await page.keyboard.press('ArrowRight');
    await eventually(async () => atParam() === events[index + 1]!.sequence, 'ArrowRight to move one event on', 5_000);
    await page.keyboard.press('ArrowLeft');
    await eventually(async () => atParam() === gate, 'ArrowLeft to move one event back', 5_000);
    await page.getByRole('button', { name: 'Next event' }).click();
    await eventually(async () => atParam() === events[index + 1]!.sequence, 'Next event to move one event on', 5_000);
    await page.getByRole('button', { name: 'Previous event' }).click();
    await eventually(async () => atParam() === gate, 'Previous event to move one event back', 5_000);

    // at 1× the recorded pace: under way, then paused mid-run
    await page.goto(`${stack.url}/runs/${runId}?at=${events[0]!.sequence}`);
    await page.getByRole('button', { name: 'Play' }).click();
    await eventually(async () => atParam() > events[0]!.sequence, 'playback to move on from the first event', 10_000);
    await page.getByRole('button', { name: 'Pause' }).click();
    const paused = atParam();
    await page.waitForTimeout(800);
    expect(atParam()).toBe(paused);
    expect(paused).toBeLessThan(events[events.length - 1]!.sequence);

    // at 20× to the end, past the gate (an approval that took a while: its gap capped)
    await page.getByLabel('Speed').selectOption('20');
    await page.getByRole('button', { name: 'Play' }).click();
    await eventually(async () => atParam() > gate, 'playback to move past the gate', 10_000);
    await eventually(async () => atParam() === events[events.length - 1]!.sequence, 'playback to reach the last event', 30_000);
    await page.getByRole('button', { name: 'Play' }).waitFor({ timeout: 5_000 }); // stopped at the end
    await expect(nodeStatuses()).resolves.toEqual(Object.fromEntries(PHASES.map((p) => [p, 'completed'])));
    await shot('played-to-end');
  });

  it('forks from a phase boundary; the fork page opens', async () => {
    // the last of the parallel phases to finish: merge is next
    const mergeStarted = sequenceOf('PhaseStarted', 'merge');
    const boundary = events.filter((e) => e.type === 'PhaseCompleted' && e.sequence < mergeStarted).at(-1)!;
    await page.goto(`${stack.url}/runs/${runId}?at=${boundary.sequence}`);
    const fork = page.getByLabel('Fork from');
    await fork.waitFor();
    await expect(fork.locator('option').allTextContents()).resolves.toEqual(['merge']);
    await shot('fork-boundary');
    await page.getByRole('button', { name: 'Fork from here' }).click();
    await eventually(async () => !page.url().includes(runId) && /\/runs\/[^/?]+/.test(page.url()), 'the fork page to open', 15_000);
    const forkId = decodeURIComponent(new URL(page.url()).pathname.split('/').at(-1)!);
    const forked = await until(forkId, 'the fork to complete', (r) => r.status === 'completed', 60_000);
    expect(forked.origin).toEqual({ kind: 'fork', runId });
    await page.goto(`${stack.url}/runs/${forkId}`);
    await expect(nodeStatuses()).resolves.toEqual(Object.fromEntries(PHASES.map((p) => [p, 'completed'])));
    // the fork re-ran merge only: the others reused the source's outputs
    const timeline = await (await api(`/runs/${forkId}/timeline?limit=5000`)).json<{ items: TimelineEntry[] }>();
    const requested = new Set(timeline.items.filter((e) => e.type === 'CandidateRequested').map((e) => (e.data as { phaseId: string }).phaseId));
    expect([...requested]).toEqual(['merge']);
    await shot('fork-page');
  });

  it('has no serious accessibility violation while scrubbing (axe-core)', async () => {
    const found: Record<string, unknown> = {};
    for (const theme of ['dark', 'light']) {
      await page.goto(`${stack.url}/runs/${runId}?at=${sequenceOf('GateOpened', 'review')}&phase=draft`);
      await page.evaluate(`localStorage.setItem('conclave.theme', '${theme}'); document.documentElement.dataset.theme = '${theme}'`);
      await page.getByTestId('scrub-status').waitFor();
      await nodeStatuses();
      const serious = await seriousViolations(page);
      if (serious.length) found[theme] = serious;
    }
    expect(found).toEqual({});
  });
});
