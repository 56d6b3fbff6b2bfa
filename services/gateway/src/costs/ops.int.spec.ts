import { randomUUID } from 'node:crypto';
import { io, type Socket } from 'socket.io-client';
import { ErrorEnvelope, WorkerView, type ClientToServerEvents, type NewEvent, type ServerToClientEvents, type SocketEvent } from '@conclave/contracts';
import type { AppendMeta } from '@conclave/event-log';
import { recordAlert, type DataSource } from '@conclave/read-models';
import { createTestEnv, eventually, type TestEnv } from '@conclave/testing';
import { fold, http, startGateway, type HttpResult, type RunningGateway } from '../__tests__/harness';
import { DATA_SOURCE } from '../tokens';

const template = {
  name: 'costed',
  description: '',
  inputs: { type: 'object', properties: {} },
  phases: [
    {
      id: 'draft',
      kind: 'llm',
      prompt: { user: 'Write' },
      candidates: [
        { provider: 'openai', model: 'gpt-4.1' },
        { provider: 'anthropic', model: 'claude-sonnet-4-5' },
      ],
      judge: { provider: 'simulated', model: 'sim-judge', criteria: ['quality'] },
    },
  ],
} as const;

const meta = (occurredAt: string): AppendMeta => ({ occurredAt, correlationId: randomUUID(), causationId: null, actor: { kind: 'system', id: 'test' } });

/** A run whose draft phase asks openai and anthropic, then a simulated judge picks. */
function runEvents(runId: string, templateId: string, scale: number): NewEvent[] {
  const cand = (slot: number) => `${runId}.draft.1.c${slot}`;
  const requested = (slot: number, provider: string, model: string): NewEvent => ({
    type: 'CandidateRequested',
    data: { phaseId: 'draft', attempt: 1, round: 0, candidateId: cand(slot), slot, provider, model, prompt: { user: 'Write' }, output: { schema: { type: 'object' } }, attemptToken: 't1', timeoutSeconds: 60 },
  });
  const generated = (slot: number, costUsd: number, input: number, output: number): NewEvent => ({
    type: 'CandidateGenerated',
    data: { phaseId: 'draft', attempt: 1, candidateId: cand(slot), output: { text: 'x' }, tokens: { input, output }, costUsd, durationMs: 10, workerId: 'w1' },
  });
  return [
    { type: 'RunStarted', data: { runId, templateId, templateVersion: 1, template: template as never, name: `run ${runId.slice(0, 4)}`, inputs: {}, autoMode: true, budgetUsd: null } as never },
    { type: 'PhaseStarted', data: { phaseId: 'draft', attempt: 1 } },
    requested(0, 'openai', 'gpt-4.1'),
    requested(1, 'anthropic', 'claude-sonnet-4-5'),
    generated(0, 0.5 * scale, 100, 200),
    generated(1, 0.25 * scale, 10, 20),
    {
      type: 'VerdictRecorded',
      data: {
        phaseId: 'draft', attempt: 1, round: 0, judgeId: `${runId}.draft.1.judge`, purpose: 'select', winnerId: cand(0),
        scores: { [cand(0)]: { overall: 0.9, criteria: { quality: 0.9 } }, [cand(1)]: { overall: 0.1, criteria: { quality: 0.1 } } },
        rationale: 'a', order: [cand(0), cand(1)], provider: 'simulated', model: 'sim-judge', tokens: { input: 1, output: 1 }, costUsd: 0,
      },
    } as never,
  ];
}

describe('costs, budgets, alerts, workers, exports and archive', () => {
  let env: TestEnv;
  let gw: RunningGateway;
  let api: string;
  let db: DataSource;
  const t1 = `tpl-${randomUUID()}`;
  const t2 = `tpl-${randomUUID()}`;
  const runA = randomUUID();
  const runB = randomUUID();

  const expectError = (res: HttpResult, status: number, code: string) => expect({ status: res.status, code: ErrorEnvelope.safeParse(res.body).data?.error.code }).toEqual({ status, code });

  beforeAll(async () => {
    env = await createTestEnv('gwops');
    gw = await startGateway(env, { WORKER_HEARTBEAT_MS: '200' });
    api = `${gw.url}/api/v1`;
    db = gw.app.get<DataSource>(DATA_SOURCE);
    for (const id of [t1, t2]) await env.log.append('template', id, [{ type: 'TemplateCreated', data: { templateId: id, version: 1, template: template as never } }], 0, meta('2026-01-01T00:00:00.000Z'));
    await env.log.append('run', runA, runEvents(runA, t1, 1), 0, meta('2026-01-01T10:00:00.000Z'));
    await env.log.append('run', runB, runEvents(runB, t2, 2), 0, meta('2026-01-02T10:00:00.000Z'));
    await fold(env, await env.log.readAll(0, 10_000));
  });
  afterAll(async () => {
    await gw?.close();
    await env?.dispose();
  });

  it('aggregates costs by provider, model, template and day, within from/to', async () => {
    const byProvider = await http(`${api}/costs?groupBy=provider`);
    expect(byProvider.body).toEqual({
      groupBy: 'provider',
      items: [
        { key: 'openai', costUsd: 1.5, tokens: { input: 200, output: 400 }, calls: 2 },
        { key: 'anthropic', costUsd: 0.75, tokens: { input: 20, output: 40 }, calls: 2 },
        { key: 'simulated', costUsd: 0, tokens: { input: 2, output: 2 }, calls: 2 },
      ],
    });
    expect((await http(`${api}/costs?groupBy=model`)).body.items.map((i: { key: string }) => i.key)).toEqual(['gpt-4.1', 'claude-sonnet-4-5', 'sim-judge']);
    expect((await http(`${api}/costs?groupBy=template`)).body.items).toEqual([
      { key: t2, costUsd: 1.5, tokens: { input: 111, output: 221 }, calls: 3 },
      { key: t1, costUsd: 0.75, tokens: { input: 111, output: 221 }, calls: 3 },
    ]);
    expect((await http(`${api}/costs?groupBy=day`)).body.items.map((i: { key: string; costUsd: number }) => [i.key, i.costUsd])).toEqual([
      ['2026-01-01', 0.75],
      ['2026-01-02', 1.5],
    ]);
    const filtered = await http(`${api}/costs?groupBy=day&from=2026-01-02&to=2026-01-03T00:00:00Z`);
    expect(filtered.body.items.map((i: { key: string }) => i.key)).toEqual(['2026-01-02']);
    expect((await http(`${api}/costs`)).body.groupBy).toBe('provider');
    expectError(await http(`${api}/costs?groupBy=week`), 400, 'bad_request');
    // a range that is not ISO, or runs backwards, is refused with the field named (also on the export)
    for (const bad of ['from=yesterday', 'to=2026-13-01', 'from=2026-01-03&to=2026-01-02', 'from=2026-01-02T00:00:01Z&to=2026-01-02']) {
      for (const path of ['costs', 'costs/export']) expectError(await http(`${api}/${path}?${bad}`), 422, 'validation');
    }
    // an empty range is not a reversed one
    expect((await http(`${api}/costs?groupBy=day&from=2026-01-02&to=2026-01-02`)).body.items).toEqual([]);
    expect((await http(`${api}/costs/export?groupBy=day&from=2026-01-02&to=2026-01-03`)).body.map((i: { key: string }) => i.key)).toEqual(['2026-01-02']);
  });

  it('stores budgets with PUT (validated, replacing) and reports this month’s spend', async () => {
    const empty = await http(`${api}/budgets`);
    expect(empty.body).toEqual({ month: new Date().toISOString().slice(0, 7), global: { monthlyUsd: null, spentUsd: expect.any(Number) }, templates: [], updatedAt: null });
    const put = await http(`${api}/budgets`, { method: 'PUT', json: { globalMonthlyUsd: 100, templates: [{ templateId: t1, monthlyUsd: 10 }, { templateId: t2, monthlyUsd: 20 }] } });
    expect(put.status).toBe(200);
    expect(put.body.global.monthlyUsd).toBe(100);
    expect(put.body.templates.map((t: { templateId: string; monthlyUsd: number }) => [t.templateId, t.monthlyUsd]).sort()).toEqual([[t1, 10], [t2, 20]].sort());
    const replaced = await http(`${api}/budgets`, { method: 'PUT', json: { globalMonthlyUsd: null, templates: [{ templateId: t2, monthlyUsd: 5 }] } });
    expect(replaced.body).toEqual(expect.objectContaining({ global: expect.objectContaining({ monthlyUsd: null }), templates: [expect.objectContaining({ templateId: t2, monthlyUsd: 5 })] }));
    expect((await http(`${api}/budgets`)).body).toEqual(replaced.body);
    for (const bad of [
      { globalMonthlyUsd: -1, templates: [] },
      { globalMonthlyUsd: 1, templates: [{ templateId: t1, monthlyUsd: 1 }, { templateId: t1, monthlyUsd: 2 }] },
      { globalMonthlyUsd: 1, extra: true },
      { templates: [] },
      { globalMonthlyUsd: '10' },
    ]) {
      expectError(await http(`${api}/budgets`, { method: 'PUT', json: bad }), 400, 'bad_request');
    }
    expect((await http(`${api}/budgets`)).body).toEqual(replaced.body);
  });

  it('pages alerts newest first', async () => {
    for (let i = 0; i < 3; i += 1) await recordAlert(db, { kind: 'test', message: `alert ${i}` }, new Date(Date.UTC(2026, 0, 1, 0, 0, i)));
    const first = await http(`${api}/alerts?limit=2`);
    expect(first.body.items.map((a: { message: string }) => a.message)).toEqual(['alert 2', 'alert 1']);
    const second = await http(`${api}/alerts?limit=2&cursor=${first.body.nextCursor}`);
    expect(second.body).toEqual({ items: [expect.objectContaining({ message: 'alert 0' })], nextCursor: null });
    expectError(await http(`${api}/alerts?cursor=garbage`), 400, 'bad_request');
    expectError(await http(`${api}/alerts?limit=0`), 400, 'bad_request');
  });

  it('keeps the fleet from heartbeats, reports stalled workers, relays costs to the costs room', async () => {
    const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io(gw.url, { path: '/socket.io', transports: ['websocket'], reconnection: false, forceNew: true });
    const costEvents: SocketEvent[] = [];
    socket.on('event', (e) => costEvents.push(e));
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('connect_error', reject);
      });
      expect(await socket.emitWithAck('subscribe', { room: 'costs' })).toEqual({ ok: true, room: 'costs' });
      const beat = (workerId: string, at: string, status = 'busy') =>
        env.log.nc.publish(env.log.names.subjects.liveWorker(workerId), JSON.stringify({ kind: 'heartbeat', workerId, role: 'llm-worker', host: 'h1', status, inFlight: 2, done: 5, failed: 1, at }));
      beat('w-live', new Date().toISOString());
      beat('w-old', new Date(Date.now() - 60_000).toISOString());
      beat('w-gone', new Date(Date.now() - 60_000).toISOString(), 'draining');
      const workers = await eventually(async () => {
        const res = await http(`${api}/workers`);
        return res.body.items.length === 3 ? (res.body.items as WorkerView[]) : null;
      }, 'three workers');
      expect(Object.fromEntries(workers.map((w) => [w.id, w.status]))).toEqual({ 'w-live': 'busy', 'w-old': 'stalled', 'w-gone': 'stopped' });
      expect(workers.find((w) => w.id === 'w-live')).toEqual(expect.objectContaining({ role: 'llm-worker', host: 'h1', inFlight: 2, done: 5, failed: 1 }));
      // a late, older heartbeat does not move a worker back in time
      beat('w-live', new Date(Date.now() - 120_000).toISOString(), 'idle');
      await new Promise((r) => setTimeout(r, 150));
      expect(((await http(`${api}/workers`)).body.items as WorkerView[]).find((w) => w.id === 'w-live')!.status).toBe('busy');

      const runC = randomUUID();
      await env.log.append('run', runC, runEvents(runC, t1, 1), 0, meta(new Date().toISOString()));
      await eventually(async () => costEvents.length >= 3 || null, 'cost events');
      expect(costEvents.map((e) => e.type)).toEqual(['CandidateGenerated', 'CandidateGenerated', 'VerdictRecorded']);
    } finally {
      socket.close();
    }
  });

  it('exports runs, costs and a timeline as CSV or JSON', async () => {
    const json = await http(`${api}/runs/export?format=json&templateId=${t1}`);
    expect(json.status).toBe(200);
    expect(json.headers.get('content-disposition')).toBe('attachment; filename="runs.json"');
    expect(json.body.map((r: { id: string }) => r.id)).toEqual([runA]);
    const csv = await http(`${api}/runs/export?format=csv`, { headers: { accept: 'text/csv' } });
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = csv.text.trim().split('\r\n');
    expect(lines[0]).toBe('id,name,templateId,templateVersion,templateName,status,costUsd,phasesDone,phasesTotal,startedAt,completedAt,sequence');
    expect(lines.slice(1).map((l) => l.split(',')[0]).sort()).toEqual([runA, runB].sort());

    const costs = await http(`${api}/costs/export?format=csv&groupBy=provider`, { headers: { accept: 'text/csv' } });
    expect(costs.text.split('\r\n').slice(0, 2)).toEqual(['key,costUsd,inputTokens,outputTokens,calls', 'openai,1.5,200,400,2']);

    const timeline = await http(`${api}/runs/${runA}/timeline/export?format=csv`, { headers: { accept: 'text/csv' } });
    const rows = timeline.text.trim().split('\r\n');
    expect(rows[0]).toBe('sequence,type,occurredAt,phaseId,actorKind,actorId,data');
    expect(rows.slice(1).map((r) => r.split(',')[1])).toEqual(['RunStarted', 'PhaseStarted', 'CandidateRequested', 'CandidateRequested', 'CandidateGenerated', 'CandidateGenerated', 'VerdictRecorded']);
    const timelineJson = await http(`${api}/runs/${runA}/timeline/export`);
    expect(timelineJson.body).toHaveLength(7);

    expectError(await http(`${api}/runs/${randomUUID()}/timeline/export`), 404, 'not_found');
    expectError(await http(`${api}/runs/export?format=xml`), 400, 'bad_request');
  });

  it('archives runs: hidden from GET /runs unless asked for, idempotent, 404 for unknown runs', async () => {
    const ids = async (query = '') => ((await http(`${api}/runs${query}`)).body.items as { id: string }[]).map((r) => r.id).filter((id) => id === runA || id === runB).sort();
    expect(await ids()).toEqual([runA, runB].sort());
    for (let i = 0; i < 2; i += 1) expect((await http(`${api}/runs/${runA}/archive`, { method: 'POST' })).body).toEqual({ id: runA, archived: true });
    expect(await ids()).toEqual([runB]);
    expect(await ids('?archived=true')).toEqual([runA]);
    expect(await ids('?archived=all')).toEqual([runA, runB].sort());
    expect(((await http(`${api}/runs/export?archived=true`)).body as { id: string }[]).map((r) => r.id)).toEqual([runA]);
    expect((await http(`${api}/runs/${runA}`)).body).toMatchObject({ id: runA, archived: true }); // still readable by id
    expect(((await http(`${api}/runs?archived=all`)).body.items as { id: string; archived: boolean }[]).filter((r) => r.id === runA || r.id === runB).map((r) => [r.id, r.archived]).sort()).toEqual([[runA, true], [runB, false]].sort());
    expect((await http(`${api}/runs/${runA}/unarchive`, { method: 'POST' })).body).toEqual({ id: runA, archived: false });
    expect((await http(`${api}/runs/${runA}`)).body).toMatchObject({ id: runA, archived: false });
    expect(await ids()).toEqual([runA, runB].sort());
    expectError(await http(`${api}/runs/${randomUUID()}/archive`, { method: 'POST' }), 404, 'not_found');
    expectError(await http(`${api}/runs?archived=maybe`), 400, 'bad_request');
  });

  // last: it adds spend in the current month
  it('raises one alert per budget, month and threshold (80 %, 100 %)', async () => {
    const runNow = randomUUID();
    await env.log.append('run', runNow, runEvents(runNow, t1, 1), 0, meta(new Date().toISOString()));
    await fold(env, await env.log.readAll(0, 10_000));
    const month = new Date().toISOString().slice(0, 7);
    // this month only t1 has runs: the global budget at 90 % spent, t1's at 200 %, t2's at 0 %
    const spent = (await http(`${api}/budgets`)).body.global.spentUsd as number;
    expect(spent).toBeGreaterThan(0);
    const budgets = { globalMonthlyUsd: spent / 0.9, templates: [{ templateId: t1, monthlyUsd: spent / 2 }, { templateId: t2, monthlyUsd: 1 }] };
    const put = await http(`${api}/budgets`, { method: 'PUT', json: budgets });
    expect(put.body.templates.find((t: { templateId: string }) => t.templateId === t1).spentUsd).toBe(spent);
    // the gateway records them as AlertRaised (ADR 016); the projector folds them into the list
    const budgetAlerts = async () => {
      await fold(env, await env.log.readAll(0, 10_000));
      return ((await http(`${api}/alerts?limit=500`)).body.items as { id: string; kind: string }[]).filter((a) => a.kind === 'budget_threshold').map((a) => a.id).sort();
    };
    const expected = [`budget-global-${month}-80`, `budget-template_${t1}-${month}-100`, `budget-template_${t1}-${month}-80`].sort();
    expect(await budgetAlerts()).toEqual(expected);
    // idempotent: the same thresholds never alert twice, in the list or in the log
    await http(`${api}/budgets`, { method: 'PUT', json: budgets });
    expect(await budgetAlerts()).toEqual(expected);
    const raised = (await env.log.readAll(0, 10_000)).filter((e) => e.type === 'AlertRaised').map((e) => e.streamId);
    expect(raised.sort()).toEqual(expected.map((id) => `alert:${id}`));
    await db.query(`DELETE FROM alerts WHERE kind = 'budget_threshold'`);
    await http(`${api}/budgets`, { method: 'PUT', json: { globalMonthlyUsd: null, templates: [] } });
  });
});
