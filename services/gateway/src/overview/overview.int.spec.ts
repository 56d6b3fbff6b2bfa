import { randomUUID } from 'node:crypto';
import { ErrorEnvelope, OverviewView, type NewEvent } from '@conclave/contracts';
import type { AppendMeta } from '@conclave/event-log';
import { createTestEnv, type TestEnv } from '@conclave/testing';
import { fold, http, startGateway, type HttpResult, type RunningGateway } from '../__tests__/harness';

const template = (name: string) =>
  ({
    name,
    description: '',
    inputs: { type: 'object', properties: {} },
    phases: [
      { id: 'draft', name: 'Draft', kind: 'llm', dependsOn: [], prompt: { user: 'Write' }, candidates: [{ provider: 'openai', model: 'gpt-4.1' }] },
      { id: 'clarify', name: 'Clarify', kind: 'interview', dependsOn: [], prompt: { user: 'Ask' }, candidates: [{ provider: 'openai', model: 'gpt-4.1' }] },
      { id: 'review', name: 'Review', kind: 'gate', dependsOn: ['draft'], message: 'Ship it?' },
    ],
  }) as const;

const HOUR = 3_600_000;
const meta = (at: number): AppendMeta => ({ occurredAt: new Date(at).toISOString(), correlationId: randomUUID(), causationId: null, actor: { kind: 'system', id: 'test' } });

const started = (runId: string, templateId: string, name: string): NewEvent =>
  ({ type: 'RunStarted', data: { runId, templateId, templateVersion: 1, template: template(name) as never, name: `run ${runId.slice(0, 6)}`, inputs: {}, autoMode: true, budgetUsd: null } }) as never;
const phaseStarted = (phaseId: string): NewEvent => ({ type: 'PhaseStarted', data: { phaseId, attempt: 1 } });
/** one priced call of the draft phase, at the time of the append that carries it */
const pricedCall = (runId: string, costUsd: number): NewEvent[] => [
  {
    type: 'CandidateRequested',
    data: { phaseId: 'draft', attempt: 1, round: 0, candidateId: `${runId}.draft.1.c0`, slot: 0, provider: 'openai', model: 'gpt-4.1', prompt: { user: 'Write' }, output: { schema: { type: 'object' } }, attemptToken: 't1', timeoutSeconds: 60 },
  },
  {
    type: 'CandidateGenerated',
    data: { phaseId: 'draft', attempt: 1, candidateId: `${runId}.draft.1.c0`, output: { text: 'x' }, tokens: { input: 10, output: 20 }, costUsd, durationMs: 10, workerId: 'w1' },
  },
];

/** `YYYY-MM-DD` of an instant in a zone, by the runtime's ICU (an oracle independent of Postgres). */
const dayIn = (at: number, timeZone: string) => new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);

describe('GET /overview', () => {
  let env: TestEnv;
  let gw: RunningGateway;
  let api: string;
  let lastSequence = 0;
  const now = Date.now();
  const tA = `tpl-a-${randomUUID()}`;
  const tB = `tpl-b-${randomUUID()}`;
  const run = {
    running: randomUUID(),
    gate: randomUUID(),
    questions: randomUUID(),
    paused: randomUUID(),
    old: randomUUID(),
    failed: randomUUID(),
    phaseFailed: randomUUID(),
    archivedFailed: randomUUID(),
  };
  /** every priced call the runs make: [when, template, USD] */
  const calls: [number, string, number][] = [
    [now - 60_000, tA, 0.5],
    [now - 3 * HOUR, tA, 0.25],
    [now - 20 * HOUR, tB, 1],
    [now - 40 * HOUR, tB, 2],
    [now - 40 * 24 * HOUR, tA, 4], // always an earlier month
  ];
  const spentIn = (timeZone: string, period: 'day' | 'month', templateId?: string) => {
    const key = (at: number) => (period === 'day' ? dayIn(at, timeZone) : dayIn(at, timeZone).slice(0, 7));
    return calls.filter(([at, t]) => key(at) === key(now) && (templateId === undefined || t === templateId)).reduce((sum, [, , usd]) => sum + usd, 0);
  };

  const append = async (runId: string, events: NewEvent[], at: number, expected: number) => {
    const recorded = await env.log.append('run', runId, events, expected, meta(at));
    const last = recorded[recorded.length - 1]!.sequence;
    lastSequence = Math.max(lastSequence, last);
    return last;
  };
  const overview = async (query = '') => {
    const res = await http(`${api}/overview${query}`);
    expect(res.status).toBe(200);
    return OverviewView.parse(res.body);
  };
  const expectValidation = (res: HttpResult) => expect({ status: res.status, code: ErrorEnvelope.safeParse(res.body).data?.error.code }).toEqual({ status: 422, code: 'validation' });

  beforeAll(async () => {
    env = await createTestEnv('gwoverview');
    gw = await startGateway(env);
    api = `${gw.url}/api/v1`;
    for (const [id, name] of [
      [tA, 'Overview A'],
      [tB, 'Overview B'],
    ] as const) {
      await env.log.append('template', id, [{ type: 'TemplateCreated', data: { templateId: id, version: 1, template: template(name) as never } }], 0, meta(now - 50 * 24 * HOUR));
    }
    // running: its draft phase works (0.5 USD a minute ago)
    await append(run.running, [started(run.running, tA, 'Overview A'), phaseStarted('draft'), ...pricedCall(run.running, 0.5)], now - 60_000, 0);
    // waiting on the review gate after its draft (0.25 USD three hours ago)
    let v = await append(run.gate, [started(run.gate, tA, 'Overview A'), phaseStarted('draft'), ...pricedCall(run.gate, 0.25)], now - 3 * HOUR, 0);
    await append(
      run.gate,
      [
        { type: 'PhaseCompleted', data: { phaseId: 'draft', attempt: 1, artifactId: null } },
        phaseStarted('review'),
        { type: 'GateOpened', data: { phaseId: 'review', attempt: 1, message: 'Ship it?' } },
      ],
      now - 2 * HOUR,
      v,
    );
    // waiting on two questions (1 USD twenty hours ago)
    v = await append(run.questions, [started(run.questions, tB, 'Overview B'), phaseStarted('draft'), ...pricedCall(run.questions, 1)], now - 20 * HOUR, 0);
    await append(
      run.questions,
      [
        phaseStarted('clarify'),
        {
          type: 'QuestionsAsked',
          data: { phaseId: 'clarify', attempt: 1, questions: [{ id: 'q1', question: 'Who reads it?' }, { id: 'q2', question: 'How long?' }] },
        },
      ],
      now - 19 * HOUR,
      v,
    );
    // paused by its budget (2 USD forty hours ago)
    v = await append(run.paused, [started(run.paused, tB, 'Overview B'), phaseStarted('draft'), ...pricedCall(run.paused, 2)], now - 40 * HOUR, 0);
    await append(run.paused, [{ type: 'RunPaused', data: { reason: { code: 'budget', message: 'the run reached its budget of 2 USD' } } }], now - 39 * HOUR, v);
    // completed long ago (4 USD forty days ago: another month)
    await append(
      run.old,
      [started(run.old, tA, 'Overview A'), phaseStarted('draft'), ...pricedCall(run.old, 4), { type: 'PhaseCompleted', data: { phaseId: 'draft', attempt: 1, artifactId: null } }, { type: 'RunCompleted', data: {} }],
      now - 40 * 24 * HOUR,
      0,
    );
    const failure = (runId: string) =>
      [
        started(runId, tB, 'Overview B'),
        phaseStarted('draft'),
        { type: 'PhaseFailed', data: { phaseId: 'draft', attempt: 1, reason: { code: 'provider', message: 'openai answered 500 three times' } } },
        { type: 'RunFailed', data: { reason: { code: 'provider', message: 'phase "draft" failed: openai answered 500 three times' }, phaseId: 'draft' } },
      ] as NewEvent[];
    await append(run.failed, failure(run.failed), now - 2 * HOUR, 0);
    await append(run.archivedFailed, failure(run.archivedFailed), now - 10 * 60_000, 0);
    // a phase failed, the run goes on (e.g. waiting for a user's retry)
    await append(
      run.phaseFailed,
      [started(run.phaseFailed, tA, 'Overview A'), phaseStarted('clarify'), { type: 'PhaseFailed', data: { phaseId: 'clarify', attempt: 1, reason: { code: 'output_invalid', message: 'the answer did not match the schema', retryable: false } } }],
      now - 30 * 60_000,
      0,
    );
    await fold(env, await env.log.readAll(0, 10_000));
    expect((await http(`${api}/runs/${run.archivedFailed}/archive`, { method: 'POST', json: {} })).status).toBe(200);
  });
  afterAll(async () => {
    await gw?.close();
    await env?.dispose();
  });

  it('lists running, waiting and paused runs with what each waits for, those needing a human first', async () => {
    const o = await overview();
    expect(o.sequence).toBe(lastSequence);
    expect(o.runs.total).toBe(8);
    expect(o.runs.counts).toEqual({ running: 2, waiting: 2, paused: 1 });
    const ids = o.runs.active.map((r) => r.id);
    // waiting and paused first (newest first), then running (newest first)
    expect(ids).toEqual([run.gate, run.questions, run.paused, run.running, run.phaseFailed]);
    const byId = new Map(o.runs.active.map((r) => [r.id, r]));
    expect(byId.get(run.gate)).toMatchObject({
      status: 'waiting',
      templateId: tA,
      templateName: 'Overview A',
      costUsd: 0.25,
      phasesTotal: 3,
      phasesDone: 1,
      running: [],
      waitingOn: [{ kind: 'gate', phaseId: 'review', phaseName: 'Review', message: 'Ship it?', at: null }],
    });
    expect(byId.get(run.questions)!.waitingOn).toEqual([{ kind: 'questions', phaseId: 'clarify', phaseName: 'Clarify', message: '2 questions to answer', at: null }]);
    expect(byId.get(run.paused)).toMatchObject({ status: 'paused', waitingOn: [{ kind: 'paused', phaseId: null, message: 'Paused: budget reached — the run reached its budget of 2 USD' }] });
    expect(byId.get(run.running)).toMatchObject({
      status: 'running',
      costUsd: 0.5,
      waitingOn: [],
      running: [{ phaseId: 'draft', phaseName: 'Draft', kind: 'llm', startedAt: new Date(now - 60_000).toISOString() }],
    });
    expect(ids).not.toContain(run.old);
    expect(ids).not.toContain(run.failed);
  });

  it('lists the runs that finished last, newest first, archived ones left out', async () => {
    const o = await overview();
    expect(o.runs.recent.map((r) => [r.id, r.status, r.costUsd, r.completedAt])).toEqual([
      [run.failed, 'failed', 0, new Date(now - 2 * HOUR).toISOString()],
      [run.old, 'completed', 4, new Date(now - 40 * 24 * HOUR).toISOString()],
    ]);
  });

  it('lists recent failures newest first with their reason: a failed run once, a failed phase of a run that went on, archived runs left out', async () => {
    const o = await overview();
    expect(o.failures).toEqual([
      {
        runId: run.phaseFailed,
        runName: `run ${run.phaseFailed.slice(0, 6)}`,
        templateId: tA,
        templateName: 'Overview A',
        runStatus: 'running',
        phaseId: 'clarify',
        phaseName: 'Clarify',
        error: { code: 'output_invalid', message: 'the answer did not match the schema' },
        at: new Date(now - 30 * 60_000).toISOString(),
      },
      {
        runId: run.failed,
        runName: `run ${run.failed.slice(0, 6)}`,
        templateId: tB,
        templateName: 'Overview B',
        runStatus: 'failed',
        phaseId: 'draft',
        phaseName: 'Draft',
        error: { code: 'provider', message: 'phase "draft" failed: openai answered 500 three times' },
        at: new Date(now - 2 * HOUR).toISOString(),
      },
    ]);
  });

  it('sums spend today and this month in UTC by default and in the zone `tz` names', async () => {
    for (const tz of [undefined, 'UTC', 'Pacific/Kiritimati', 'America/Los_Angeles', 'Asia/Kolkata']) {
      const zone = tz ?? 'UTC';
      const o = await overview(tz ? `?tz=${encodeURIComponent(tz)}` : '');
      expect(o.timeZone).toBe(zone);
      expect({ zone, today: o.spend.today.costUsd, month: o.spend.month.costUsd }).toEqual({ zone, today: spentIn(zone, 'day'), month: spentIn(zone, 'month') });
      expect(o.spend.month.month).toBe(dayIn(now, zone).slice(0, 7));
      // the windows are the local day and month: they start at local midnight and end where the next begins
      const { from, to } = o.spend.today;
      expect([dayIn(Date.parse(from), zone), dayIn(Date.parse(to) - 1, zone), dayIn(Date.parse(to), zone) === dayIn(now, zone)]).toEqual([dayIn(now, zone), dayIn(now, zone), false]);
      expect(dayIn(Date.parse(from) - 1, zone)).not.toBe(dayIn(now, zone));
      expect([dayIn(Date.parse(o.spend.month.from), zone).slice(8), dayIn(Date.parse(o.spend.month.to), zone).slice(8)]).toEqual(['01', '01']);
    }
    // the windows differ between zones 26 hours apart: today in Kiritimati and in Los Angeles are different dates
    const [kiritimati, losAngeles] = await Promise.all([overview('?tz=Pacific/Kiritimati'), overview('?tz=America/Los_Angeles')]);
    expect(kiritimati.spend.today.from).not.toBe(losAngeles.spend.today.from);
  });

  it('reports the monthly budgets against this month’s spend', async () => {
    expect((await http(`${api}/budgets`, { method: 'PUT', json: { globalMonthlyUsd: 10, templates: [{ templateId: tA, monthlyUsd: 2 }] } })).status).toBe(200);
    const o = await overview();
    expect(o.spend.budgets).toEqual({
      global: { monthlyUsd: 10, spentUsd: spentIn('UTC', 'month') },
      templates: [{ templateId: tA, templateName: 'Overview A', monthlyUsd: 2, spentUsd: spentIn('UTC', 'month', tA) }],
    });
    // GET /budgets (UTC month) agrees
    const budgets = await http(`${api}/budgets`);
    expect(budgets.body.global.spentUsd).toBe(o.spend.budgets.global.spentUsd);
    expect(budgets.body.templates[0].spentUsd).toBe(o.spend.budgets.templates[0]!.spentUsd);
  });

  it('answers a time zone that is not one with a 422 and the reason', async () => {
    for (const bad of ['Mars/Olympus_Mons', '+02:00', 'UTC+3', '', '../../etc/passwd', 'x'.repeat(65)]) {
      const res = await http(`${api}/overview?tz=${encodeURIComponent(bad)}`);
      expectValidation(res);
      expect(ErrorEnvelope.parse(res.body).error.message).toMatch(/^invalid tz: /);
    }
    expectValidation(await http(`${api}/overview?tz=UTC&tz=Europe/Paris`));
  });

  it('waits for min_sequence like every GET', async () => {
    expect((await http(`${api}/overview?min_sequence=${lastSequence}`)).status).toBe(200);
    expect((await http(`${api}/overview?min_sequence=${lastSequence + 1000}`)).status).toBe(503);
  });
});
