import type { Browser, Page } from 'playwright-core';
import { wilsonInterval, type ErrorEnvelope, type LogEntry, type RunView, type StudyAccepted, type StudyEstimate, type StudySummary, type StudyView } from '@conclave/contracts';
import { eventually, type Stack, type TestEnv } from '@conclave/testing';
import type { z } from 'zod';
import { seriousViolations } from './support/axe';
import { closeDashboard, openDashboard, screenshot } from './support/dashboard';
import { phaseOf, restClient } from './support/rest';
import { sim } from './support/templates';

/**
 * Counterfactual re-judging (issue 15 §1, ADR 023) on the whole stack with simulated providers:
 * 20 runs of a two-phase template (3 and 2 candidates) are judged again by the simulated judge with
 * the rubric "reverse" (it scores every criterion 1 − its usual score, so the usual loser wins).
 * The test computes what the flips must be from the stored verdicts alone — the new winner is the
 * candidate the old judge scored lowest — and checks the study's items, flip rates and Wilson
 * intervals against that; an unknown judge provider and a large study without `confirm` are
 * refused (422, nothing in the log); an archived run, a run of one-candidate phases and an unknown
 * id are skipped and counted; `replay --verify` finds the studies' read models equal to the log.
 * Then the Judge lab page (Chromium, axe): start a study after its estimate, watch its progress,
 * read the flip matrix and open a flip side by side. Needs `web/dist` (node scripts/build.mjs).
 */
const RUNS = 20;

describe('re-judging studies end to end', () => {
  let env: TestEnv;
  let stack: Stack;
  let browser: Browser;
  let page: Page;
  const { api, post, createTemplate, startRun, until, replayVerify } = restClient(() => stack.url);
  const runIds: string[] = [];
  let archivedRun: string;
  let singleRun: string;
  let templateId: string;

  beforeAll(async () => {
    ({ env, stack, browser, page } = await openDashboard({
      envPrefix: 'e2estudy',
      label: 'e2e-judge-lab',
      // 20 runs × 5 candidates = 100: over this threshold a study needs confirm: true
      extraEnv: { STUDY_CONFIRM_CANDIDATES: '30' },
      context: { bypassCSP: true },
    }));
    templateId = await createTemplate({
      name: 'rejudge-me',
      inputs: { type: 'object', properties: { topic: { type: 'string' } }, required: ['topic'] },
      phases: [
        {
          id: 'draft',
          kind: 'llm',
          dependsOn: [],
          prompt: { user: 'Draft a note about {{inputs.topic}}' },
          candidates: [sim('alpha'), sim('beta'), sim('gamma')],
          judge: { provider: 'simulated', model: 'sim-judge', criteria: ['correctness', 'clarity'] },
        },
        {
          id: 'polish',
          kind: 'llm',
          dependsOn: ['draft'],
          prompt: { user: 'Polish: {{phases.draft.output}}' },
          candidates: [sim('alpha'), sim('delta')],
          judge: { provider: 'simulated', model: 'sim-judge', criteria: ['correctness', 'clarity'] },
        },
      ],
    });
    for (let i = 0; i < RUNS + 1; i++) runIds.push(await startRun(templateId, { inputs: { topic: `topic number ${i}` } }));
    const single = await createTemplate({ name: 'one-candidate', phases: [{ id: 'only', kind: 'llm', dependsOn: [], prompt: { user: 'one' }, candidates: [sim('alpha')] }] });
    singleRun = await startRun(single);
    for (const id of [...runIds, singleRun]) await until(id, `run ${id} completed`, (r) => r.status === 'completed', 60_000);
    archivedRun = runIds.pop()!;
    expect((await post(`/runs/${archivedRun}/archive`)).status).toBe(200);
  }, 180_000);
  afterAll(() => closeDashboard({ browser, stack, env }));

  const STUDY_TYPES = 'StudyStarted,StudyJudgeRequested,StudyVerdictRecorded,StudyItemFailed,StudyCompleted';
  const studyEvents = async () => (await (await api(`/events?limit=1000&types=${STUDY_TYPES}`)).json<{ items: LogEntry[] }>()).items;
  const studyBody = (extra: Record<string, unknown> = {}) => ({
    name: 'reverse the judge',
    runs: [...runIds, archivedRun, singleRun, 'no-such-run'],
    judge: { provider: 'simulated', model: 'sim-judge-2', rubric: 'reverse the order you would give' },
    ...extra,
  });
  const waitCompleted = (id: string) =>
    eventually(async () => {
      const res = await api(`/studies/${id}`);
      const study = res.status === 200 ? await res.json<StudyView>() : null;
      return study?.status === 'completed' && study;
    }, `study ${id} to complete`, 90_000);

  it('refuses an unknown judge provider and a large study without confirm (422, nothing dispatched), then re-judges 20 runs with a reversed rubric: the flips are those the stored verdicts predict', async () => {
    const unknown = await post('/studies', studyBody({ judge: { provider: 'nope', model: 'x' }, confirm: true }));
    expect(unknown.status).toBe(422);
    expect((await unknown.json<z.infer<typeof ErrorEnvelope>>()).error).toMatchObject({ code: 'validation', details: { field: 'judge.provider' } });
    const badBody = await post('/studies', { ...studyBody(), runs: [] });
    expect(badBody.status).toBe(422);
    expect((await badBody.json<z.infer<typeof ErrorEnvelope>>()).error).toMatchObject({ code: 'validation', details: { field: 'runs' } });

    // the estimate first: 20 runs × (3 + 2) candidates, three runs skipped
    const estimateRes = await post('/studies/estimate', studyBody());
    expect(estimateRes.status).toBe(200);
    const estimate = await estimateRes.json<StudyEstimate>();
    expect(estimate).toMatchObject({ items: RUNS * 2, candidates: RUNS * 5, runs: RUNS, estimateUsd: 0, confirmRequired: true, confirmThreshold: 30 });
    expect(estimate.skipped).toMatchObject({ runs: 3, phases: 0 });
    expect(estimate.skipped.details.map((s) => [s.runId, s.reason.split(' ')[0]]).sort()).toEqual(
      [[archivedRun, 'archived'], [singleRun, 'no'], ['no-such-run', 'no']].sort(),
    );
    // a template's runs: the same 20 (the archived one skipped); an unknown template is a 404
    const byTemplate = await (await post('/studies/estimate', studyBody({ runs: { templateId } }))).json<StudyEstimate>();
    expect(byTemplate).toMatchObject({ items: RUNS * 2, candidates: RUNS * 5, runs: RUNS, skipped: { runs: 1, phases: 0, details: [{ runId: archivedRun, reason: 'archived' }] } });
    const noTemplate = await post('/studies/estimate', studyBody({ runs: { templateId: 'no-such-template' } }));
    expect(noTemplate.status).toBe(404);
    expect((await noTemplate.json<z.infer<typeof ErrorEnvelope>>()).error).toMatchObject({ code: 'not_found', details: { field: 'runs.templateId' } });

    const unconfirmed = await post('/studies', studyBody());
    expect(unconfirmed.status).toBe(422);
    expect((await unconfirmed.json<z.infer<typeof ErrorEnvelope>>()).error).toMatchObject({ code: 'validation', details: { field: 'confirm', estimate: { candidates: 100 } } });
    // nothing was dispatched: no study in the log, none listed
    expect(await studyEvents()).toEqual([]);
    expect((await (await api('/studies')).json<{ items: StudySummary[] }>()).items).toEqual([]);

    const started = await post('/studies', studyBody({ confirm: true }));
    expect(started.status).toBe(202);
    const { id } = await started.json<z.infer<typeof StudyAccepted>>();
    const study = await waitCompleted(id);
    expect(study).toMatchObject({ items: RUNS * 2, judged: RUNS * 2, failed: 0, costUsd: 0, skipped: { runs: 3, phases: 0 } });

    // independently: from the runs' stored verdicts, the reversed judge's winner is the candidate scored lowest
    const runs = await Promise.all(runIds.map(async (r) => (await api(`/runs/${r}`)).json<RunView>()));
    for (const phaseId of ['draft', 'polish']) {
      let flips = 0;
      for (const run of runs) {
        const verdict = phaseOf(run, phaseId).verdict!;
        const item = study.itemsList.find((i) => i.runId === run.id && i.phaseId === phaseId)!;
        expect(item.oldWinnerId).toBe(verdict.winnerId);
        const overall = Object.entries(verdict.scores).map(([cid, s]) => [cid, s.overall] as const);
        const lowest = Math.min(...overall.map(([, o]) => o));
        const expected = overall.filter(([, o]) => o === lowest).map(([cid]) => cid);
        expect(expected).toContain(item.newWinnerId);
        if (item.newWinnerId !== verdict.winnerId) flips += 1;
      }
      const report = study.report.phases.find((p) => p.phaseId === phaseId)!;
      expect(report).toMatchObject({ items: RUNS, judged: RUNS, flips, flipRate: flips / RUNS, sameWinner: (RUNS - flips) / RUNS });
      const ci = wilsonInterval(flips, RUNS);
      expect(report.flipRateCi.low).toBeCloseTo(ci.low, 9);
      expect(report.flipRateCi.high).toBeCloseTo(ci.high, 9);
      expect(flips).toBeGreaterThan(RUNS / 2); // a reversed judge flips most winners
      expect(report.kendallTau).toBeLessThan(0); // and its order disagrees with the old one
      expect(report.matrix.reduce((n, c) => n + c.count, 0)).toBe(RUNS);
      // the score shift per criterion: mean over the candidates of new − old (reversal: 1 − 2 × old)
      const oldScores = runs.flatMap((run) => Object.values(phaseOf(run, phaseId).verdict!.scores));
      for (const criterion of ['correctness', 'clarity']) {
        const expectedShift = oldScores.reduce((n, s) => n + (1 - 2 * s.criteria[criterion]!), 0) / oldScores.length;
        expect(report.scoreShift[criterion]).toBeCloseTo(expectedShift, 2);
      }
    }

    // the study's log: one start, one request and one verdict per item, one completion; never a producer call
    const events = await studyEvents();
    const count = (type: string) => events.filter((e) => e.type === type).length;
    expect({ started: count('StudyStarted'), requested: count('StudyJudgeRequested'), verdicts: count('StudyVerdictRecorded'), completed: count('StudyCompleted') }).toEqual({
      started: 1,
      requested: RUNS * 2,
      verdicts: RUNS * 2,
      completed: 1,
    });
    const listed = (await (await api('/studies')).json<{ items: StudySummary[] }>()).items;
    expect(listed.map((s) => [s.id, s.status])).toEqual([[id, 'completed']]);
    expect((await api('/studies/not-a-study')).status).toBe(404);

    // the studies read models are what the log folds into
    const replay = await replayVerify(60_000);
    expect({ state: replay.state, differences: replay.differences, error: replay.error }).toEqual({ state: 'completed', differences: [], error: null });
  }, 240_000);

  it('the Judge lab page: the estimate first, a confirm over the threshold, the progress live, the flip matrix, a flip side by side (axe)', async () => {
    const shot = (name: string) => screenshot(page, `judge-lab-${name}`);
    await page.goto(`${stack.url}/runs`);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Judge lab' }).click();
    await page.waitForURL(/\/judge-lab$/);
    await page.getByRole('heading', { name: 'Judge lab', level: 1 }).waitFor();

    // 12 runs' draft phase: 12 verdicts of 3 candidates = 36, over the threshold of 30
    const chosen = runIds.slice(0, 12);
    await page.getByLabel('Run ids', { exact: true }).check();
    await page.getByLabel('Run ids (comma or space separated)').fill(chosen.join(' '));
    await page.getByLabel(/^Phases/).fill('draft');
    await page.getByLabel(/^Rubric/).fill('reverse');
    await page.getByTestId('study-estimate-button').click();
    const estimate = page.getByTestId('study-estimate');
    await estimate.waitFor();
    await expect(estimate.textContent()).resolves.toContain('12 verdicts over 12 runs: 36 candidates');
    await expect(estimate.textContent()).resolves.toContain('Over 30 candidates: confirm to start.');
    const start = page.getByTestId('study-start');
    await expect(start.isDisabled()).resolves.toBe(true);
    expect(await seriousViolations(page)).toEqual([]);
    await shot('estimate');
    await page.getByTestId('study-confirm').getByRole('checkbox').check();
    await start.click();

    await page.waitForURL(/[?&]study=/);
    const studyId = new URL(page.url()).searchParams.get('study')!;
    const detail = page.locator('[data-testid="study-detail"][data-status="completed"]');
    await detail.waitFor({ timeout: 60_000 }).catch(async (err: Error) => {
      // say which side stopped: the study itself, or the page's view of it
      const s = await (await api(`/studies/${studyId}`)).json<StudyView>();
      const shown = await page.getByTestId('study-detail').getAttribute('data-status', { timeout: 1_000 }).catch(() => 'no detail');
      throw new Error(`${err.message}\nthe API: ${s.status}, ${s.judged} judged and ${s.failed} failed of ${s.items}; the page shows: ${shown}`);
    });
    await expect(page.getByTestId('study-progress').textContent()).resolves.toContain('12 of 12 verdicts settled (12 judged, 0 failed)');
    // the list has it, selected, live over the `studies` room
    await expect(page.locator('[data-testid="study-link"][aria-current="true"]').textContent()).resolves.toBe(`${studyId.slice(0, 8)} · simulated/sim-judge`);

    // the page's figures are the API's
    const study = await (await api(`/studies/${studyId}`)).json<StudyView>();
    const draft = study.report.phases.find((p) => p.phaseId === 'draft')!;
    const card = page.locator('[data-testid="study-phase"][data-phase="draft"]');
    await expect(card.getByTestId('flip-rate').textContent()).resolves.toContain(`${(draft.flipRate! * 100).toFixed(1)}% (${draft.flips} of 12;`);
    for (const cell of draft.matrix) {
      await expect(card.locator(`td[data-old="${cell.oldModel}"][data-new="${cell.newModel}"]`).textContent()).resolves.toBe(String(cell.count));
    }
    expect(await card.getByTestId('flip-link').count()).toBe(draft.flips);
    expect(await seriousViolations(page)).toEqual([]);
    await shot('report');

    // a flip: the old and the new winner side by side, with their outputs and both judges' scores
    const flip = study.itemsList.find((i) => i.phaseId === 'draft' && i.flipped)!;
    // more than ten flips come folded: open the list as a user would
    if ((await card.locator('details[open] [data-testid="flip-link"]').count()) === 0) await card.locator('summary', { hasText: /flips?$/ }).click();
    await card.locator(`[data-testid="flip-link"][data-item="${flip.itemId}"]`).click();
    await page.waitForURL(new RegExp(`[?&]item=${flip.itemId}`));
    const pair = page.getByTestId('flip-view');
    await pair.getByTestId('flip-candidate').nth(1).waitFor();
    const candidates = await (await api(`/runs/${flip.runId}/candidates?phase=draft&attempt=${flip.attempt}`)).json<{ items: { id: string; provider: string; model: string }[] }>();
    const label = (id: string) => {
      const c = candidates.items.find((x) => x.id === id)!;
      return `${c.provider}/${c.model}`;
    };
    await expect(pair.locator('[data-role="old"] h4').textContent()).resolves.toBe(`Old winner: ${label(flip.oldWinnerId)}`);
    await expect(pair.locator('[data-role="new"] h4').textContent()).resolves.toBe(`New winner: ${label(flip.newWinnerId!)}`);
    await expect(pair.locator('[data-role="new"]').textContent()).resolves.toContain(`new judge ${flip.newScores![flip.newWinnerId!]!.overall.toFixed(3)}`);
    await expect(pair.getByRole('link', { name: flip.runId }).getAttribute('href')).resolves.toBe(`/runs/${flip.runId}?phase=draft`);
    expect(await seriousViolations(page)).toEqual([]);
    await shot('flip');
  }, 120_000);
});
